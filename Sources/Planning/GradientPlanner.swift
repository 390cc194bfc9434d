import NN
import Tensors

/// Gradient descent on the action sequences: Adam on the actions through the differentiable cost
/// (the world model's rollout), each step projected back into the bounds. Several restarts go
/// through the model as one batch; the plan is the restart that ends cheapest.
public struct GradientPlanner: Planner {
    public struct Settings: Sendable, Equatable {
        public var iterations = 50
        public var learningRate: Float = 0.1
        /// Restarts: the first starts at the warm start (or the CEM mean), the others perturbed by
        /// `initialStd`.
        public var restarts = 4
        public var initialStd: Float = 0.3
        /// CEM iterations run first to seed the descent (0 = none), with `cem`'s other settings.
        public var cemIterations = 0
        public var cem = CEMPlanner.Settings()
        public init() {}
    }

    public var settings: Settings
    public let bounds: ActionBounds
    var warm = WarmStart()
    public var name: String { "gradient" }

    public init(settings: Settings = Settings(), bounds: ActionBounds = ActionBounds()) {
        precondition(settings.iterations >= 1 && settings.learningRate > 0 && settings.restarts >= 1 && settings.cemIterations >= 0,
                     "GradientPlanner: needs iterations ≥ 1, a positive learning rate, restarts ≥ 1 and cemIterations ≥ 0, got \(settings)")
        self.settings = settings
        self.bounds = bounds
    }

    public mutating func plan(_ cost: some TrajectoryCost, rng: inout RandomGenerator) -> Plan {
        let s = settings, (h, a) = (cost.horizon, cost.actionDim), n = h * a
        var start = warm.initial(horizon: h, actionDim: a, bounds: bounds, cost: cost)
        var history: [Float] = []
        if s.cemIterations > 0 {
            let seeded = CEMPlanner.search(cost, mean: start, std: s.cem.initialStd, iterations: s.cemIterations,
                                           settings: s.cem, bounds: bounds, rng: &rng)
            start = seeded.actions
            history = seeded.iterationCosts
        }
        var initial = start
        for _ in 1..<s.restarts {
            initial += start.map { bounds.clip($0 + s.initialStd * rng.normal()) }
        }
        let actions = Tensor(initial, shape: [s.restarts, h, a], requiresGrad: true)
        let adam = AdamW(parameters: [(name: "actions", tensor: actions)], learningRate: s.learningRate, weightDecay: 0)
        for _ in 0..<s.iterations {
            adam.zeroGrad()
            let costs = cost.costs(actions)
            history.append(costs.scalars.min() ?? .infinity)
            costs.sum().backward()
            adam.step()
            let p = actions.ptr
            for i in 0..<actions.count { p[i] = bounds.clip(p[i]) }
        }
        let final = evaluate(cost, actions.scalars, count: s.restarts)
        let top = argmin(final)
        let plan = Plan(actions: Array(actions.scalars[(top * n)..<((top + 1) * n)]), horizon: h, actionDim: a,
                        cost: final[top], iterationCosts: history)
        warm.store(plan)
        return plan
    }

    public mutating func advance(by steps: Int) { warm.advance(by: steps) }
    public mutating func reset() { warm.reset() }
    public mutating func propose(_ actions: [Float]) { warm.propose(actions, bounds: bounds) }
}
