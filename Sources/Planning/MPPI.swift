import Foundation
import Tensors

/// Model-predictive path integral control: perturb the mean sequence with Gaussian noise, weight
/// every candidate by exp(−cost/λ) and move the mean to the weighted average, repeat.
public struct MPPIPlanner: Planner {
    public struct Settings: Sendable, Equatable {
        public var samples = 300, iterations = 10
        /// Temperature λ: small → the best candidates dominate, large → a plain average.
        public var temperature: Float = 0.01
        /// Standard deviation of the perturbations, in action units.
        public var noiseStd: Float = 0.5
        public init() {}
    }

    public var settings: Settings
    public let bounds: ActionBounds
    var warm = WarmStart()
    public var name: String { "mppi" }

    public init(settings: Settings = Settings(), bounds: ActionBounds = ActionBounds()) {
        precondition(settings.samples >= 2 && settings.iterations >= 1 && settings.temperature > 0 && settings.noiseStd > 0,
                     "MPPIPlanner: needs samples ≥ 2, iterations ≥ 1 and positive temperature and noise, got \(settings)")
        self.settings = settings
        self.bounds = bounds
    }

    /// Normalised weights exp(−(c − min c)/λ) / Σ: subtracting the minimum keeps the exponentials
    /// in range (the best candidate has weight exp(0) before normalising).
    public static func weights(costs: [Float], temperature: Float) -> [Float] {
        let low = costs.min() ?? 0
        let e = costs.map { Float(exp(Double(-($0 - low) / temperature))) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    /// The plan is the final mean, or the best sampled candidate if that cost less.
    public mutating func plan(_ cost: some TrajectoryCost, rng: inout RandomGenerator) -> Plan {
        let s = settings
        var mean = warm.initial(horizon: cost.horizon, actionDim: cost.actionDim, bounds: bounds, cost: cost)
        let n = mean.count, std = [Float](repeating: s.noiseStd, count: n)
        var batch = CandidateBatch(samples: s.samples, start: mean)
        for _ in 0..<s.iterations {
            let w = Self.weights(costs: batch.sample(around: mean, std: std, cost: cost, bounds: bounds, rng: &rng),
                                 temperature: s.temperature)
            for i in 0..<n {
                var m: Float = 0
                for c in 0..<s.samples { m += w[c] * batch.values[c * n + i] }
                mean[i] = bounds.clip(m)
            }
        }
        let plan = batch.plan(finalMean: mean, cost: cost)
        warm.store(plan)
        return plan
    }

    public mutating func advance(by steps: Int) { warm.advance(by: steps) }
    public mutating func reset() { warm.reset() }
    public mutating func propose(_ actions: [Float]) { warm.propose(actions, bounds: bounds) }
}
