// The learned parts of the modular agent (world model + cost + critic + actor): an actor that
// amortises the planner (imitating its first actions: fast, reactive control) and a critic that
// predicts the cost-to-go from a latent state to a goal (a terminal value, so the planner can
// look less far ahead). Both read the world model's latents; both train on what planner runs
// recorded (`AgentExamples`).
import NN
import Tensors

/// A policy network: (latent, goal latent) → action in the box [−1, 1]^A (tanh output), keys
/// `net.fc1`, `net.fc2`.
public final class Actor: Module {
    public let net: MLP

    public init(latentDim: Int, actionDim: Int, hidden: Int = 128, rng: inout RandomGenerator) {
        net = MLP(2 * latentDim, hidden: hidden, out: actionDim, activation: .gelu, rng: &rng)
    }

    /// `latent`, `goal`: [B, D] → actions [B, A].
    public func callAsFunction(latent: Tensor, goal: Tensor) -> Tensor {
        net(concat([latent, goal], axis: 1)).tanh()
    }
}

/// A value network: (latent, goal latent) → the cost-to-go the planner would still pay, [B].
/// Keys `net.fc1`, `net.fc2`.
public final class Critic: Module {
    public let net: MLP

    public init(latentDim: Int, hidden: Int = 128, rng: inout RandomGenerator) {
        net = MLP(2 * latentDim, hidden: hidden, out: 1, activation: .gelu, rng: &rng)
    }

    public func callAsFunction(latent: Tensor, goal: Tensor) -> Tensor {
        let b = latent.shape[0]
        return net(concat([latent, goal], axis: 1)).reshaped([b])
    }
}

/// What the planner did, one row per decision: the latent it started from, the goal latent, the
/// first action it chose, and the cost-to-go that followed (e.g. the energy still to pay, or the
/// steps left to success).
public struct AgentExamples: Sendable {
    public var latentDim: Int, actionDim: Int
    public var latents: [Float] = [], goals: [Float] = [], actions: [Float] = [], costToGo: [Float] = []
    public var count: Int { costToGo.count }

    public init(latentDim: Int, actionDim: Int) {
        (self.latentDim, self.actionDim) = (latentDim, actionDim)
    }

    public mutating func append(latent: [Float], goal: [Float], action: [Float], costToGo: Float) {
        precondition(latent.count == latentDim && goal.count == latentDim && action.count == actionDim,
                     "AgentExamples: expected \(latentDim)-d latents and \(actionDim)-d actions")
        latents += latent; goals += goal; actions += action; self.costToGo.append(costToGo)
    }

    func rows(_ indices: [Int]) -> (latent: Tensor, goal: Tensor, action: Tensor, cost: Tensor) {
        func take(_ source: [Float], _ width: Int) -> Tensor {
            Tensor(indices.flatMap { source[($0 * width)..<(($0 + 1) * width)] }, shape: [indices.count, width])
        }
        return (take(latents, latentDim), take(goals, latentDim), take(actions, actionDim),
                Tensor(indices.map { costToGo[$0] }, shape: [indices.count]))
    }
}

/// Supervised fitting of the actor (MSE to the planner's actions) and the critic (MSE to the
/// recorded cost-to-go), with AdamW on shuffled minibatches.
public enum AgentTraining {
    public struct Settings: Sendable {
        public var steps = 2000, batch = 64
        public var learningRate: Float = 3e-3, weightDecay: Float = 0
        public var seed: UInt64 = 0
        public init() {}
    }

    /// Fits the actor; returns the loss every 100 steps (and the last).
    @discardableResult
    public static func fit(_ actor: Actor, on data: AgentExamples, settings: Settings = Settings()) -> [Float] {
        fit(actor, data, settings) { rows in
            let d = actor(latent: rows.latent, goal: rows.goal) - rows.action
            return (d * d).mean()
        }
    }

    /// Fits the critic; returns the loss every 100 steps (and the last).
    @discardableResult
    public static func fit(_ critic: Critic, on data: AgentExamples, settings: Settings = Settings()) -> [Float] {
        fit(critic, data, settings) { rows in
            let d = critic(latent: rows.latent, goal: rows.goal) - rows.cost
            return (d * d).mean()
        }
    }

    static func fit(_ module: Module, _ data: AgentExamples, _ s: Settings,
                    loss: ((latent: Tensor, goal: Tensor, action: Tensor, cost: Tensor)) -> Tensor) -> [Float] {
        precondition(data.count > 0, "AgentTraining: no examples")
        let optimizer = AdamW(parameters: module.namedParameters(), learningRate: s.learningRate, weightDecay: s.weightDecay)
        var rng = RandomGenerator(seed: s.seed)
        var order: [Int] = [], curve: [Float] = []
        for step in 0..<s.steps {
            if order.count < min(s.batch, data.count) {
                var fresh = Array(0..<data.count)
                rng.shuffle(&fresh)
                order += fresh
            }
            let batch = Array(order.prefix(min(s.batch, data.count)))
            order.removeFirst(batch.count)
            let value = loss(data.rows(batch))
            value.backward()
            optimizer.step()
            optimizer.zeroGrad()
            if step % 100 == 0 || step == s.steps - 1 { curve.append(value.item) }
        }
        return curve
    }
}
