// The agent in the grasp world: the actor as a policy (fast, reactive), the critic as the
// planner's terminal value (a shorter horizon that still sees past its end), and a recorder that
// turns planner episodes into the examples both learn from.
import JEPA
import NN
import Planning
import Tensors
import Worlds

/// The world model's state of one frame (and gripper state, for a model with proprioception),
/// flattened to the vector the actor and critic read.
func flatState(_ model: ActionConditionedJEPA, frame: [UInt8], state: GraspState) -> Tensor {
    let c = model.config
    let pixels = Tensor(frame.map { Float($0) / 255 }, shape: [1, 1, c.channels, c.imageSize, c.imageSize])
    let proprio = Tensor(state.vector, shape: [1, 1, state.vector.count])
    let full = model.state(latents: model.encode(pixels), proprio: proprio)          // [1, 1, N, D(+P)]
    return full.reshaped([1, full.count])
}

/// Width of the flattened state the actor and critic read for `model` (tokens × state width).
public func agentStateWidth(_ model: ActionConditionedJEPA) -> Int {
    let c = model.config
    let blank = [UInt8](repeating: 0, count: c.channels * c.imageSize * c.imageSize)
    return noGrad { flatState(model, frame: blank, state: GraspState(gripperX: 0, gripperY: 0, opening: 0, objects: [])) }.count
}

/// The critic as a terminal value for `LatentGoalCost` / `PlannerPolicy`: weight × critic(last
/// predicted state, goal), both flattened.
public func criticTerminalValue(_ critic: Critic, weight: Float = 1) -> (Tensor, Tensor) -> Tensor {
    { last, goal in
        let s = last.shape[0]
        let flat = last.reshaped([s, last.count / s])
        return critic(latent: flat, goal: goal.reshaped([1, goal.count]).expanded(to: [s, goal.count])) * weight
    }
}

/// The actor's plan for `PlannerPolicy.proposal`: the actor acts on the live state, the world
/// model predicts the next state from the context and that action, the actor acts on the
/// prediction, … for `horizon` steps (the fast mode proposes, the planner refines).
public func actorProposal(_ actor: Actor, model: ActionConditionedJEPA, horizon: Int) -> (Tensor, Tensor, Tensor) -> [Float] {
    { context, pastActions, goal in
        let flatGoal = goal.reshaped([1, goal.count])
        var states = context, actions = pastActions, proposed: [Float] = []
        for _ in 0..<horizon {
            let last = states.slice(axis: 1, (states.shape[1] - 1)..<states.shape[1])
            let action = actor(latent: last.reshaped([1, last.count]), goal: flatGoal).reshaped([1, 1, model.config.actionDim])
            proposed += action.scalars
            actions = concat([actions, action], axis: 1)
            states = concat([states, model.rollout(latents: states, actions: actions)], axis: 1)
        }
        return proposed
    }
}

/// The actor as a grasp policy: one forward pass per action. Subgoals advance as in
/// `PlannerPolicy`: when the live state's energy to the current one falls below `subgoalThreshold`.
public struct ActorPolicy: GraspPolicy {
    public let model: ActionConditionedJEPA
    public let actor: Actor
    public let subgoalThreshold: Float
    var goals: [Tensor] = []
    public private(set) var stage = 0
    public var name: String { "actor" }

    public init(model: ActionConditionedJEPA, actor: Actor, subgoalThreshold: Float = 0.05) {
        (self.model, self.actor, self.subgoalThreshold) = (model, actor, subgoalThreshold)
    }

    public mutating func begin(goal: GraspGoal, goalFrames: [[UInt8]], goalStates: [GraspState]) throws {
        guard !goalFrames.isEmpty, goalFrames.count == goalStates.count else {
            throw PlanningError("\(goalFrames.count) goal frames and \(goalStates.count) goal states")
        }
        let size = model.config.channels * model.config.imageSize * model.config.imageSize
        for frame in goalFrames where frame.count != size {
            throw PlanningError("the goal frame has \(frame.count) pixels; the model takes \(size)")
        }
        goals = zip(goalFrames, goalStates).map { frame, state in noGrad { flatState(model, frame: frame, state: state) } }
        stage = 0
    }

    public mutating func actions(frame: [UInt8], state: GraspState) -> [[Float]] {
        noGrad {
            let live = flatState(model, frame: frame, state: state)
            while stage + 1 < goals.count && energy(predicted: live, target: goals[stage], distance: model.config.distance).item < subgoalThreshold {
                stage += 1
            }
            return [actor(latent: live, goal: goals[stage]).scalars]
        }
    }
}

/// Wraps a policy (the planner) and records, for every decision, the state it started from, the
/// goal it pursued, the first action it took and the energies to the goal that followed; after
/// the episode `finish(into:horizon:)` turns them into examples with cost-to-go = the sum of
/// the energies of the next `horizon` decisions.
public struct RecordingPolicy<Inner: GraspPolicy>: GraspPolicy {
    public var inner: Inner
    public let model: ActionConditionedJEPA
    var goals: [Tensor] = [], stage = 0
    public let subgoalThreshold: Float
    var rows: [(state: [Float], goal: [Float], action: [Float], energy: Float)] = []
    public var name: String { inner.name }

    public init(_ inner: Inner, model: ActionConditionedJEPA, subgoalThreshold: Float = 0.05) {
        (self.inner, self.model, self.subgoalThreshold) = (inner, model, subgoalThreshold)
    }

    public mutating func begin(goal: GraspGoal, goalFrames: [[UInt8]], goalStates: [GraspState]) throws {
        try inner.begin(goal: goal, goalFrames: goalFrames, goalStates: goalStates)
        goals = zip(goalFrames, goalStates).map { frame, state in noGrad { flatState(model, frame: frame, state: state) } }
        (stage, rows) = (0, [])
    }

    public mutating func actions(frame: [UInt8], state: GraspState) -> [[Float]] {
        let chosen = inner.actions(frame: frame, state: state)
        noGrad {
            let live = flatState(model, frame: frame, state: state)
            // The goal the inner policy pursued (it may move on by a step budget or its pose), else by the threshold.
            if let pursued = inner.goalIndex, goals.indices.contains(pursued) { stage = pursued }
            var e = energy(predicted: live, target: goals[stage], distance: model.config.distance).item
            while inner.goalIndex == nil && stage + 1 < goals.count && e < subgoalThreshold {
                stage += 1
                e = energy(predicted: live, target: goals[stage], distance: model.config.distance).item
            }
            rows.append((live.scalars, goals[stage].scalars, chosen[0], e))
        }
        return chosen
    }

    public var lastPlanCost: Float? { inner.lastPlanCost }
    public var lastObservedEnergy: Float? { inner.lastObservedEnergy }
    public var goalIndex: Int? { inner.goalIndex }

    /// Appends this episode's decisions to `examples`: cost-to-go of decision t = Σ energies of
    /// decisions t+1 … t+horizon (an episode that ended early contributes what it has).
    public func finish(into examples: inout AgentExamples, horizon: Int) {
        for (t, row) in rows.enumerated() {
            let future = rows.dropFirst(t + 1).prefix(horizon).reduce(0) { $0 + $1.energy }
            examples.append(latent: row.state, goal: row.goal, action: row.action, costToGo: future)
        }
    }
}
