import Tensors

/// The cross-entropy method: sample sequences from a diagonal Gaussian, keep the elites, refit
/// the Gaussian to them, repeat. Samples are clipped to the bounds.
public struct CEMPlanner: Planner {
    public struct Settings: Sendable, Equatable {
        public var samples = 300, elites = 30, iterations = 10
        /// Standard deviation of the first iteration, and the floor it never falls below, in
        /// action units.
        public var initialStd: Float = 0.5, minStd: Float = 0.05
        /// new mean = momentum · old + (1 − momentum) · elite mean (and the same for the std).
        public var momentum: Float = 0
        public init() {}
    }

    public var settings: Settings
    public let bounds: ActionBounds
    var warm = WarmStart()
    public var name: String { "cem" }

    public init(settings: Settings = Settings(), bounds: ActionBounds = ActionBounds()) {
        precondition(settings.samples >= 2 && (1...settings.samples).contains(settings.elites) && settings.iterations >= 1,
                     "CEMPlanner: needs samples ≥ 2, 1 ≤ elites ≤ samples and iterations ≥ 1, got \(settings)")
        self.settings = settings
        self.bounds = bounds
    }

    public mutating func plan(_ cost: some TrajectoryCost, rng: inout RandomGenerator) -> Plan {
        let (h, a) = (cost.horizon, cost.actionDim)
        let start = warm.initial(horizon: h, actionDim: a, bounds: bounds, cost: cost)
        let result = Self.search(cost, mean: start, std: settings.initialStd, iterations: settings.iterations,
                                 settings: settings, bounds: bounds, rng: &rng)
        warm.store(result)
        return result
    }

    /// The CEM iterations from `mean` (also used to seed the gradient planner).
    static func search(_ cost: some TrajectoryCost, mean start: [Float], std initialStd: Float, iterations: Int,
                       settings s: Settings, bounds: ActionBounds, rng: inout RandomGenerator) -> Plan {
        let n = start.count
        var mean = start, std = [Float](repeating: initialStd, count: n)
        var batch = CandidateBatch(samples: s.samples, start: start)
        for _ in 0..<iterations {
            let costs = batch.sample(around: mean, std: std, cost: cost, bounds: bounds, rng: &rng)
            let elite = smallest(s.elites, of: costs)
            let inv = 1 / Float(elite.count)
            for i in 0..<n {
                var m: Float = 0
                for e in elite { m += batch.values[e * n + i] }
                m *= inv
                var v: Float = 0
                for e in elite { let d = batch.values[e * n + i] - m; v += d * d }
                let sd = max(s.minStd, (v * inv).squareRoot())
                mean[i] = s.momentum * mean[i] + (1 - s.momentum) * m
                std[i] = max(s.minStd, s.momentum * std[i] + (1 - s.momentum) * sd)
            }
        }
        return batch.plan(finalMean: mean, cost: cost)
    }

    public mutating func advance(by steps: Int) { warm.advance(by: steps) }
    public mutating func reset() { warm.reset() }
    public mutating func propose(_ actions: [Float]) { warm.propose(actions, bounds: bounds) }
}
