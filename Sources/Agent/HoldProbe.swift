// A constraint term of the agent's cost module: "don't drop the object". A linear probe reads
// from the world model's state whether the gripper holds an object; a plan whose predicted states
// the probe reads as holding less than the live state is penalised.
import JEPA
import NN
import Tensors

/// Linear probe: flattened world-model state [B, W] → held (≈ 1 holding, ≈ 0 not), [B]. Key `linear`.
public final class HoldProbe: Module {
    public let linear: Linear

    public init(stateWidth: Int, rng: inout RandomGenerator) {
        linear = Linear(stateWidth, 1, rng: &rng)
    }

    public func callAsFunction(_ states: Tensor) -> Tensor {
        linear(states).reshaped([states.shape[0]])
    }
}

/// The world model's states [B, W] of frames `pixels` [B, C, H, W] (values in [0, 1]) with their
/// proprioceptive states `proprio` [B, P] (ignored by a model without proprioception), flattened
/// as the actor, critic and probe read them.
public func agentStates(_ model: ActionConditionedJEPA, pixels: Tensor, proprio: Tensor) -> Tensor {
    let b = pixels.shape[0]
    let full = model.state(latents: model.encode(pixels.reshaped([b, 1] + Array(pixels.shape.dropFirst()))),
                           proprio: proprio.reshaped([b, 1, proprio.shape[1]]))
    return full.reshaped([b, full.count / b])
}

extension AgentTraining {
    /// Fits the probe to `held` (0/1 per row of `states` [N·W]) by least squares; returns the loss
    /// every 100 steps (and the last).
    @discardableResult
    public static func fit(_ probe: HoldProbe, states: [Float], held: [Float], settings: Settings = Settings()) -> [Float] {
        let width = probe.linear.inFeatures
        precondition(!held.isEmpty && states.count == held.count * width, "AgentTraining: \(held.count) labels for \(states.count / width) states")
        var data = AgentExamples(latentDim: width, actionDim: 1)
        let none = [Float](repeating: 0, count: width)
        for i in held.indices { data.append(latent: Array(states[(i * width)..<((i + 1) * width)]), goal: none, action: [held[i]], costToGo: 0) }
        return fit(probe, data, settings) { rows in
            let d = probe(rows.latent) - rows.action.reshaped([rows.action.shape[0]])
            return (d * d).mean()
        }
    }
}

/// The "don't drop the object" constraint for `LatentGoalCost.constraints`: weight × the mean over
/// the horizon of max(0, held(live) − held(predicted step)), with held read by `probe` (clamped
/// to [0, 1]); zero for a plan that keeps holding or for a gripper that holds nothing.
public func holdConstraint(_ probe: HoldProbe, weight: Float) -> (_ context: Tensor, _ predicted: Tensor) -> Tensor {
    { context, predicted in
        let (s, h) = (predicted.shape[0], predicted.shape[1])
        let k = context.shape[1]
        let live = context.slice(axis: 1, (k - 1)..<k)
        let now = probe(live.reshaped([1, live.count])).clamped(0, 1)                             // [1]
        let ahead = probe(predicted.reshaped([s * h, predicted.count / (s * h)])).clamped(0, 1).reshaped([s, h])
        return (now.reshaped([1, 1]) - ahead).relu().mean(axes: [1]) * weight
    }
}
