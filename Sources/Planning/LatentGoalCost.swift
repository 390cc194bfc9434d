import JEPA
import Tensors

/// The energy between the world model's predicted latents and the goal's latent, for candidate
/// action sequences rolled out from the current context: at the last step, or a weighted sum over
/// the horizon; plus an optional penalty on the actions' magnitude and constraint terms. For a model with
/// proprioception, context, goal and predictions are states [latent ‖ proprio] and a step's energy
/// is the latents' distance + `proprioWeight` × the proprio parts' distance (DINO-WM; 0 leaves the
/// proprioception only as the predictor's input, as in V-JEPA 2-AC).
public struct LatentGoalCost: TrajectoryCost {
    public enum Weighting: Sendable, Equatable {
        /// The energy of the last predicted step only.
        case last
        /// Σₖ wₖ · energy of step k (k = 1…H); `weights.count` = H.
        case steps([Float])
        /// Equal weights 1/H.
        public static func uniform(_ horizon: Int) -> Self { .steps(Array(repeating: 1 / Float(horizon), count: horizon)) }
    }

    public let model: ActionConditionedJEPA
    /// [1, K, N, D]: the latents (states, with proprioception) of the last K ≤ window frames, the newest last.
    public let context: Tensor
    /// [1, K − 1, A]: the actions taken between the context frames.
    public let pastActions: Tensor
    /// [1, 1, N, D].
    public let goal: Tensor
    public let horizon: Int
    public let weighting: Weighting
    /// Added: penalty · mean of the squared actions of a candidate.
    public let actionPenalty: Float
    /// Weight of the proprio part's distance (models with proprioception).
    public let proprioWeight: Float
    /// A value of the last predicted state (e.g. a learned critic's cost-to-go), added to every
    /// candidate's cost, so that a short horizon still sees past its end: (last states
    /// [S, N, D(+P)], goal [1, N, D(+P)]) → [S]. Nil: none.
    public var terminalValue: ((_ last: Tensor, _ goal: Tensor) -> Tensor)?
    /// Constraint terms added to every candidate's cost (e.g. "don't drop the object"): (context
    /// [1, K, N, D(+P)], predicted states [S, H, N, D(+P)]) → [S].
    public var constraints: [(_ context: Tensor, _ predicted: Tensor) -> Tensor] = []
    /// Planning with sampled z (a world model with a latent variable): M values [M, k] of z; every
    /// candidate is rolled out under each (one batch of S·M) and its cost is the mean over them —
    /// a plan that reaches the goal whichever way the undetermined part turns out. Nil: z = 0.
    public var latentSamples: Tensor?

    public var actionDim: Int { model.config.actionDim }

    public init(model: ActionConditionedJEPA, context: Tensor, pastActions: Tensor? = nil, goal: Tensor, horizon: Int,
                weighting: Weighting = .last, actionPenalty: Float = 0, proprioWeight: Float = 1) {
        let k = context.shape[1], a = model.config.actionDim
        precondition(context.rank == 4 && context.shape[0] == 1 && goal.shape == [1, 1] + Array(context.shape[2...]),
                     "LatentGoalCost: context \(context.shape) and goal \(goal.shape) must be [1, K, N, D] and [1, 1, N, D]")
        precondition(horizon >= 1, "LatentGoalCost: horizon must be at least 1, got \(horizon)")
        if case let .steps(w) = weighting { precondition(w.count == horizon, "LatentGoalCost: \(w.count) step weights for horizon \(horizon)") }
        self.model = model
        self.context = context
        self.pastActions = pastActions ?? Tensor.zeros([1, k - 1, a])
        precondition(self.pastActions.shape == [1, k - 1, a], "LatentGoalCost: past actions \(self.pastActions.shape) do not fit \(k) context frames")
        self.goal = goal
        self.horizon = horizon
        self.weighting = weighting
        self.actionPenalty = actionPenalty
        self.proprioWeight = proprioWeight
    }

    public func costs(_ actions: Tensor) -> Tensor {
        let s = actions.shape[0]
        precondition(actions.shape == [s, horizon, actionDim], "LatentGoalCost: candidates \(actions.shape), expected [S, \(horizon), \(actionDim)]")
        // Candidates are independent: their shards run on the worker threads.
        guard let z = latentSamples else { return DataParallel.map(batch: s) { costs(actions.slice(axis: 0, $0), z: nil) } }
        let m = z.shape[0]
        precondition(z.rank == 2 && z.shape[1] == model.config.zDim, "LatentGoalCost: z samples \(z.shape), expected [M, \(model.config.zDim)]")
        // Rows candidate-major: row s·M + j is candidate s under z_j.
        let repeated = actions.reshaped([s, 1, horizon * actionDim]).expanded(to: [s, m, horizon * actionDim])
            .reshaped([s * m, horizon, actionDim])
        let tiled = z.reshaped([1, m, z.shape[1]]).expanded(to: [s, m, z.shape[1]]).reshaped([s * m, z.shape[1]])
        return DataParallel.map(batch: s * m) { costs(repeated.slice(axis: 0, $0), z: tiled.slice(axis: 0, $0)) }
            .reshaped([s, m]).mean(axes: [1])
    }

    /// Costs [S] of candidates [S, H, A], each rolled out with its row of `z` [S, k] (nil: none).
    func costs(_ actions: Tensor, z: Tensor?) -> Tensor {
        let s = actions.shape[0]
        let k = context.shape[1]
        let latents = context.expanded(to: [s] + Array(context.shape.dropFirst()))
        let all = k > 1 ? concat([pastActions.expanded(to: [s, k - 1, actionDim]), actions], axis: 1) : actions
        let predicted = model.rollout(latents: latents, actions: all, z: z)                   // [S, H, N, D(+P)]
        let diff = predicted - goal
        let distances = model.config.distance == .l1 ? diff.abs() : diff.squared()
        var perStep = model.visualPart(distances).mean(axes: [2, 3])                          // [S, H]
        if model.config.proprioDim > 0 { perStep = perStep + model.proprioPart(distances).mean(axes: [2, 3]) * proprioWeight }
        var total: Tensor
        switch weighting {
        case .last: total = perStep.slice(axis: 1, (horizon - 1)..<horizon).reshaped([s])
        case let .steps(w): total = (perStep * Tensor(w, shape: [1, horizon])).sum(axes: [1])
        }
        if actionPenalty > 0 { total = total + actions.squared().mean(axes: [1, 2]) * actionPenalty }
        for constraint in constraints { total = total + constraint(context, predicted) }
        if let terminalValue {
            let last = predicted.slice(axis: 1, (horizon - 1)..<horizon)
            total = total + terminalValue(last.reshaped([s] + Array(last.shape.dropFirst(2))), goal.reshaped(Array(goal.shape.dropFirst())))
        }
        return total
    }
}
