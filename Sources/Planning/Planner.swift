import Tensors

/// What a planner minimises: the cost of candidate action sequences, all candidates of an
/// iteration in one call.
public protocol TrajectoryCost {
    var horizon: Int { get }
    var actionDim: Int { get }
    /// Costs of the candidates `actions` [S, H, A] → [S]. Differentiable in `actions` (the
    /// gradient planner calls it with gradients on; the sampling planners under `noGrad`).
    func costs(_ actions: Tensor) -> Tensor
}

/// Box bounds on every action entry.
public struct ActionBounds: Sendable, Equatable {
    public var low: Float, high: Float
    public init(low: Float = -1, high: Float = 1) {
        precondition(low < high, "ActionBounds: low \(low) must be below high \(high)")
        (self.low, self.high) = (low, high)
    }
    @inline(__always) public func clip(_ x: Float) -> Float { min(high, max(low, x)) }
    public var middle: Float { (low + high) / 2 }
}

/// A planned action sequence, row-major [horizon, actionDim], and what it cost.
public struct Plan: Sendable {
    public var actions: [Float]
    public var horizon: Int, actionDim: Int
    /// The cost of `actions`.
    public var cost: Float
    /// The best cost among the candidates of each iteration (the planner's progress).
    public var iterationCosts: [Float]

    public func action(at step: Int) -> [Float] { Array(actions[(step * actionDim)..<((step + 1) * actionDim)]) }
}

/// A planner over action sequences. Stateful only through its warm start: the previous plan,
/// shifted by the steps executed since, seeds the next search.
public protocol Planner {
    var name: String { get }
    var bounds: ActionBounds { get }
    /// Searches for the sequence of lowest cost. Deterministic for a given `rng` state.
    mutating func plan(_ cost: some TrajectoryCost, rng: inout RandomGenerator) -> Plan
    /// Drops `steps` executed actions from the warm start (the last action is repeated to refill).
    mutating func advance(by steps: Int)
    /// Forgets the warm start (a new episode).
    mutating func reset()
    /// Offers `actions` [H·A] (a proposal, e.g. an actor's) for the next search to start from: it
    /// starts from the cheaper of the proposal and the shifted previous plan (the proposal alone
    /// when there is none), so a poor proposal never displaces a good warm start.
    mutating func propose(_ actions: [Float])
}

/// The warm start every planner keeps: a mean sequence [H, A] carried from plan to plan, and a
/// proposal offered for the next search only.
public struct WarmStart: Sendable {
    public private(set) var mean: [Float]?
    public private(set) var proposal: [Float]?
    var actionDim = 0

    public init() {}

    /// The starting mean for a problem of this size and uses up the proposal: the cheaper under
    /// `cost` of the shifted previous plan and the proposal (both scored in one batch), whichever
    /// of them exists, or the middle of the bounds.
    mutating func initial(horizon: Int, actionDim: Int, bounds: ActionBounds, cost: some TrajectoryCost) -> [Float] {
        let n = horizon * actionDim
        defer { proposal = nil }
        let starts = [mean, proposal].compactMap { $0 }.filter { $0.count == n }
        guard starts.count == 2 else { return starts.first ?? [Float](repeating: bounds.middle, count: n) }
        let costs = evaluate(cost, starts[0] + starts[1], count: 2)
        return costs[1] < costs[0] ? starts[1] : starts[0]
    }

    mutating func store(_ plan: Plan) { (mean, actionDim) = (plan.actions, plan.actionDim) }

    mutating func propose(_ actions: [Float], bounds: ActionBounds) { proposal = actions.map(bounds.clip) }

    mutating func advance(by steps: Int) {
        guard let old = mean, steps > 0, actionDim > 0 else { return }
        let h = old.count / actionDim
        let s = min(steps, h)
        let last = Array(old[((h - 1) * actionDim)..<(h * actionDim)])
        mean = Array(old[(s * actionDim)...]) + (0..<s).flatMap { _ in last }
    }

    mutating func reset() { (mean, proposal) = (nil, nil) }
}

/// Evaluates candidates [S, H·A] (flat, row-major) in one batch without a graph.
func evaluate(_ cost: some TrajectoryCost, _ candidates: [Float], count: Int) -> [Float] {
    noGrad { cost.costs(Tensor(candidates, shape: [count, cost.horizon, cost.actionDim])).scalars }
}

/// Indices of the `k` smallest values, cheapest first (ties by index, so deterministic).
func smallest(_ k: Int, of values: [Float]) -> [Int] {
    Array(values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(k))
}

/// The index of the smallest value (the first, on ties).
func argmin(_ values: [Float]) -> Int { values.indices.min { values[$0] < values[$1] } ?? 0 }

/// The candidates of a sampling planner (CEM, MPPI), row-major [samples, H·A], and the cheapest
/// sequence seen so far.
struct CandidateBatch {
    let samples: Int, length: Int
    private(set) var values: [Float]
    private(set) var best: (actions: [Float], cost: Float)
    /// The cheapest candidate's cost at each iteration.
    private(set) var history: [Float] = []

    init(samples: Int, start: [Float]) {
        (self.samples, length) = (samples, start.count)
        values = [Float](repeating: 0, count: samples * start.count)
        best = (start, .infinity)
    }

    /// Fills the batch — candidate 0 the mean itself (so a good warm start is never lost to
    /// sampling noise), the others mean + std·N(0, 1) clipped to the bounds — and scores it in one
    /// call of `cost`. Returns the costs.
    mutating func sample(around mean: [Float], std: [Float], cost: some TrajectoryCost, bounds: ActionBounds,
                         rng: inout RandomGenerator) -> [Float] {
        let n = length
        for i in 0..<n { values[i] = mean[i] }
        for c in 1..<samples {
            for i in 0..<n { values[c * n + i] = bounds.clip(mean[i] + std[i] * rng.normal()) }
        }
        let costs = evaluate(cost, values, count: samples)
        let top = argmin(costs)
        history.append(costs[top])
        if costs[top] < best.cost { best = (Array(values[(top * n)..<((top + 1) * n)]), costs[top]) }
        return costs
    }

    /// The plan: the final mean, or the best sampled candidate if that cost less.
    func plan(finalMean mean: [Float], cost: some TrajectoryCost) -> Plan {
        let final = evaluate(cost, mean, count: 1)[0]
        let chosen = final <= best.cost ? (mean, final) : best
        return Plan(actions: chosen.0, horizon: cost.horizon, actionDim: cost.actionDim, cost: chosen.1, iterationCosts: history)
    }
}
