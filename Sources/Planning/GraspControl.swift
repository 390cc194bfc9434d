import Foundation
import JEPA
import Tensors
import Worlds

/// What chooses the gripper's actions in a closed-loop episode. `begin` is called once per
/// episode; `actions` is asked again once the actions it returned have been executed.
public protocol GraspPolicy {
    var name: String { get }
    /// `goalFrames`: the frames to reach in order, the goal's own last (earlier ones are subgoals);
    /// `goalStates`: the states they were rendered from (a model with proprioception takes the
    /// gripper's part of them as the goal's proprioception, as DINO-WM does).
    mutating func begin(goal: GraspGoal, goalFrames: [[UInt8]], goalStates: [GraspState]) throws
    /// The next actions to execute (at least one), from the live frame (and, for the baselines
    /// that may read it, the true state).
    mutating func actions(frame: [UInt8], state: GraspState) -> [[Float]]
    /// The predicted cost of the last plan, and the energy between the live frame it started from
    /// and the goal (nil for policies that do not plan).
    var lastPlanCost: Float? { get }
    var lastObservedEnergy: Float? { get }
    /// Which of the goal frames the policy pursued at its last decision (nil: it does not say).
    var goalIndex: Int? { get }
}

extension GraspPolicy {
    public var lastPlanCost: Float? { nil }
    public var lastObservedEnergy: Float? { nil }
    public var goalIndex: Int? { nil }
}

/// The scripted expert on the true state: the upper reference.
public struct ExpertPolicy: GraspPolicy {
    let expert: GraspExpert
    var goal: GraspGoal?
    public var name: String { "expert" }
    public init(config: GraspConfig) { expert = GraspExpert(config: config) }
    public mutating func begin(goal: GraspGoal, goalFrames: [[UInt8]], goalStates: [GraspState]) { self.goal = goal }
    public mutating func actions(frame: [UInt8], state: GraspState) -> [[Float]] {
        [goal.map { expert.action(state: state, goal: $0) } ?? [0, 0, 0]]
    }
}

/// Random exploration (the data's random policy: uniform actions held for a few frames): the
/// lower reference.
public struct RandomActionPolicy: GraspPolicy {
    var policy: GraspRandomPolicy
    public var name: String { "random" }
    public init(config: GraspConfig, seed: UInt64) { policy = GraspRandomPolicy(config: config, rng: RandomGenerator(seed: seed)) }
    public mutating func begin(goal: GraspGoal, goalFrames: [[UInt8]], goalStates: [GraspState]) {}
    public mutating func actions(frame: [UInt8], state: GraspState) -> [[Float]] { [policy.action()] }
}

/// Model-predictive control in latent space: encode the live frames and the goal frame, plan a
/// sequence with the world model, execute its first `executeSteps` actions, re-plan. A model with
/// proprioception also gets the live gripper state (the robot reads its own joints) and the goal
/// state's.
public struct PlannerPolicy: GraspPolicy {
    public let model: ActionConditionedJEPA
    public var planner: any Planner
    public let horizon: Int, executeSteps: Int
    public let weighting: LatentGoalCost.Weighting
    public let actionPenalty: Float, proprioWeight: Float
    var rng: RandomGenerator
    /// Subgoals: the planner moves on to the next goal frame once the live frame's energy to the
    /// current one is below `subgoalThreshold`, or after `subgoalSteps` re-plans on it. With
    /// `subgoalTolerance` (a model with proprioception) it moves on instead once every proprio
    /// coordinate (gripper x, y, opening, in px) is within that tolerance of the subgoal's: the
    /// robot knows its own pose exactly, while an energy threshold lets a few px of misalignment pass.
    public let subgoalThreshold: Float, subgoalSteps: Int
    public var subgoalTolerance: Float?
    /// Grasp retry: `holdCheck` reads from the live state whether the object is held (≈ 1) or not
    /// (≈ 0, e.g. a hold probe). While the policy pursues one of `heldStages` (goals that need the
    /// object in hand) and the reading is below 0.5 at two decisions running, it goes back to the
    /// first goal to grasp again: a lost grasp would otherwise leave the planner carrying nothing.
    /// Two readings, not one, so that a single misread does not open the fingers on a held object.
    public var regrasp: (holdCheck: (_ live: Tensor) -> Float, heldStages: Range<Int>)?
    var missedHolds = 0
    /// Grasp retries in the current episode.
    public private(set) var regrasps = 0
    var goalLatents: [Tensor] = [], goalProprio: [[Float]] = []
    public private(set) var stage = 0
    var stageReplans = 0
    /// Recent frames (enough for the predictor's window and the encoder's frame stack), the true
    /// states read with them (for the proprioception) and the actions taken between them.
    var frames: [[Float]] = [], states: [[Float]] = [], taken: [[Float]] = []
    /// Passed on to every `LatentGoalCost` (a critic's cost-to-go as a terminal value).
    public var terminalValue: ((_ last: Tensor, _ goal: Tensor) -> Tensor)?
    /// Passed on to every `LatentGoalCost` (constraint terms of the cost).
    public var constraints: [(_ context: Tensor, _ predicted: Tensor) -> Tensor] = []
    /// Passed on to every `LatentGoalCost` (planning with sampled z: [M, k]).
    public var latentSamples: Tensor?
    /// A proposal offered at every re-plan (an actor's actions rolled through the model); the
    /// search starts from the cheaper of it and the shifted previous plan (`Planner.propose`).
    /// From the context states [1, K, N, D(+P)], the K − 1 actions taken between them
    /// [1, K − 1, A] and the goal state: `horizon` × A actions.
    public var proposal: ((_ context: Tensor, _ pastActions: Tensor, _ goal: Tensor) -> [Float])?
    public private(set) var lastPlanCost: Float?
    public private(set) var lastObservedEnergy: Float?
    public var goalIndex: Int? { stage }
    public var name: String { planner.name }

    public init(model: ActionConditionedJEPA, planner: any Planner, horizon: Int, executeSteps: Int,
                weighting: LatentGoalCost.Weighting = .last, actionPenalty: Float = 0, proprioWeight: Float = 1,
                subgoalThreshold: Float = 0.05, subgoalSteps: Int = .max, seed: UInt64) {
        precondition((1...horizon).contains(executeSteps), "PlannerPolicy: executeSteps \(executeSteps) must lie in 1…horizon (\(horizon))")
        self.model = model
        self.planner = planner
        self.horizon = horizon
        self.executeSteps = executeSteps
        self.weighting = weighting
        self.actionPenalty = actionPenalty
        self.proprioWeight = proprioWeight
        self.subgoalThreshold = subgoalThreshold
        self.subgoalSteps = subgoalSteps
        rng = RandomGenerator(seed: seed)
    }

    var frameSize: Int { model.config.imageSize * model.config.imageSize * model.config.channels }

    func tensor(_ images: [[Float]]) -> Tensor {
        let c = model.config
        return Tensor(images.flatMap { $0 }, shape: [1, images.count, c.channels, c.imageSize, c.imageSize])
    }

    /// [1, T, S]: true states as the model's proprioceptive input.
    func proprio(_ rows: [[Float]]) -> Tensor { Tensor(rows.flatMap { $0 }, shape: [1, rows.count, rows[0].count]) }

    /// The energy between a state [1, 1, N, D(+P)] and the goal's: what the planner's cost counts per step.
    func energyToGoal(_ live: Tensor, _ goal: Tensor) -> Float {
        let d = model.config.distance
        var e = energy(predicted: model.visualPart(live), target: model.visualPart(goal), distance: d).item
        if model.config.proprioDim > 0 {
            e += proprioWeight * energy(predicted: model.proprioPart(live), target: model.proprioPart(goal), distance: d).item
        }
        return e
    }

    public mutating func begin(goal: GraspGoal, goalFrames: [[UInt8]], goalStates: [GraspState]) throws {
        guard !goalFrames.isEmpty else { throw PlanningError("no goal frame") }
        guard goalStates.count == goalFrames.count else {
            throw PlanningError("\(goalFrames.count) goal frames but \(goalStates.count) goal states")
        }
        for frame in goalFrames where frame.count != frameSize {
            throw PlanningError("the goal frame has \(frame.count) pixels; the model takes \(model.config.channels)×\(model.config.imageSize)×\(model.config.imageSize) = \(frameSize)")
        }
        goalLatents = zip(goalFrames, goalStates).map { frame, state in
            model.state(latents: model.encode(tensor([frame.map { Float($0) / 255 }])), proprio: proprio([state.vector]))
        }
        goalProprio = goalStates.map { Array($0.vector.prefix(model.config.proprioDim)) }
        (stage, stageReplans, missedHolds, regrasps) = (0, 0, 0, 0)
        frames = []
        states = []
        taken = []
        planner.reset()
    }

    public mutating func actions(frame: [UInt8], state: GraspState) -> [[Float]] {
        precondition(frame.count == frameSize, "PlannerPolicy: the frame has \(frame.count) pixels, the model takes \(frameSize)")
        precondition(!goalLatents.isEmpty, "PlannerPolicy: begin(goal:goalFrames:) was not called")
        frames.append(frame.map { Float($0) / 255 })
        states.append(state.vector)
        let window = model.predictor.window
        let keep = window + model.config.frameStack - 1
        if frames.count > keep { frames.removeFirst(frames.count - keep) }
        if states.count > keep { states.removeFirst(states.count - keep) }
        if taken.count > window - 1 { taken.removeFirst(taken.count - (window - 1)) }
        let latents = model.state(latents: model.encode(tensor(frames)), proprio: proprio(states))
        let k = min(window, frames.count, taken.count + 1)
        let context = latents.slice(axis: 1, (frames.count - k)..<frames.count)
        let live = latents.slice(axis: 1, (frames.count - 1)..<frames.count)
        var observed = energyToGoal(live, goalLatents[stage])
        func reached() -> Bool {
            guard let tolerance = subgoalTolerance, model.config.proprioDim > 0 else { return observed < subgoalThreshold }
            return zip(state.vector, goalProprio[stage]).allSatisfy { abs($0 - $1) <= tolerance }
        }
        while stage + 1 < goalLatents.count && (reached() || stageReplans >= subgoalSteps) {
            (stage, stageReplans) = (stage + 1, 0)
            planner.reset()
            observed = energyToGoal(live, goalLatents[stage])
        }
        if let regrasp, regrasp.heldStages.contains(stage) {
            missedHolds = noGrad { regrasp.holdCheck(live) } < 0.5 ? missedHolds + 1 : 0
            if missedHolds >= 2 {
                (stage, stageReplans, missedHolds) = (0, 0, 0)
                regrasps += 1
                planner.reset()
                observed = energyToGoal(live, goalLatents[stage])
            }
        } else {
            missedHolds = 0
        }
        stageReplans += 1
        lastObservedEnergy = observed
        let goalLatent = goalLatents[stage]
        let past = Tensor(taken.suffix(k - 1).flatMap { $0 }, shape: [1, k - 1, model.config.actionDim])
        var cost = LatentGoalCost(model: model, context: context, pastActions: past, goal: goalLatent, horizon: horizon,
                                  weighting: weighting, actionPenalty: actionPenalty, proprioWeight: proprioWeight)
        cost.terminalValue = terminalValue
        cost.constraints = constraints
        cost.latentSamples = latentSamples
        if let proposal { planner.propose(noGrad { proposal(context, past, goalLatent) }) }
        let plan = planner.plan(cost, rng: &rng)
        planner.advance(by: executeSteps)
        lastPlanCost = plan.cost
        let chosen = (0..<executeSteps).map { plan.action(at: $0) }
        // Frames between the executed actions are not seen; the context restarts from the next frame.
        if executeSteps == 1 { taken.append(chosen[0]) } else { (frames, states, taken) = ([], [], []) }
        return chosen
    }
}

/// A planning problem that cannot be set up (wrong model kind, sizes that do not match).
public struct PlanningError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The action-conditioned model planning needs, or an error saying why `model` is not one.
public func planningModel(_ model: any WorldModel, source: String) throws -> ActionConditionedJEPA {
    guard let frameModel = model as? ActionConditionedJEPA, frameModel.config.actionDim > 0 else {
        throw PlanningError("\(source) holds a world model without actions (a video or next_frame model); planning needs an action-conditioned model (kind: action_conditioned)")
    }
    return frameModel
}

/// One closed-loop episode's outcome.
public struct GraspEpisodeResult: Sendable {
    public var seed: UInt64
    public var success: Bool
    /// Actions executed until success (or the step limit).
    public var steps: Int
    /// The policy's predicted plan cost at each re-plan (planner policies).
    public var planCosts: [Float]
    /// The energy between the live frame and the goal at each re-plan (planner policies).
    public var observedEnergies: [Float]
    /// Wall-clock seconds of every decision, encoding the frames included (a re-plan for a planner).
    public var planSeconds: [Double]
    /// The live frames (recorded on request), first the initial frame, and the goal frame.
    public var frames: [[UInt8]]
    public var goalFrame: [UInt8]
    /// The subgoal frames given to the policy before the goal (from the expert's demonstration).
    public var subgoalFrames: [[UInt8]]
    /// How far a lift or place got, read from the true state after every action.
    public var milestones = GraspMilestones()
}

/// The stages of a lift or place an episode reached, from the true state after every action: where a
/// failed episode stopped (never grasped, dropped on the way, set down off target). All nil/0 for reach.
public struct GraspMilestones: Codable, Sendable, Equatable {
    /// The first action after which the goal's object was held.
    public var firstHeld: Int?
    /// The first action after which it was held off the floor (its bottom ≥ 2 px above it).
    public var firstOffTheFloor: Int?
    /// The first action after which it was held within the goal's tolerance of the target x (place).
    public var firstOverTarget: Int?
    /// How many times the object went from held to not held.
    public var releases = 0
    /// Place: |x − target x| of the object when it was first let go.
    public var distanceAtFirstRelease: Float?
    /// Where the object ended: |x − target x| (place), nil for other tasks.
    public var finalDistanceToTarget: Float?
    public init() {}

    /// Updates the record with the state after action `step` (1-based); `wasHeld` is the object's
    /// held flag before that action.
    mutating func observe(_ state: GraspState, after step: Int, wasHeld: Bool, goal: GraspGoal) {
        guard goal.task != .reach, goal.objectIndex < state.objects.count else { return }
        let o = state.objects[goal.objectIndex]
        if o.held {
            if firstHeld == nil { firstHeld = step }
            if firstOffTheFloor == nil && o.bottom <= goal.floorY - 2 { firstOffTheFloor = step }
            if goal.task == .place && firstOverTarget == nil && abs(o.x - goal.targetX) <= goal.tolerance { firstOverTarget = step }
        } else if wasHeld {
            releases += 1
            if goal.task == .place && releases == 1 { distanceAtFirstRelease = abs(o.x - goal.targetX) }
        }
        if goal.task == .place { finalDistanceToTarget = abs(o.x - goal.targetX) }
    }
}

/// Where a policy's subgoals come from: states of a demonstration by the noise-free scripted expert
/// run from the episode's initial state (V-JEPA 2-AC gives its planner such subgoal images).
public enum SubgoalScheme: Equatable, Sendable {
    /// The goal only.
    case none
    /// k states evenly spaced in time over the demonstration, at 1/(k+1), 2/(k+1), ….
    case even(Int)
    /// The demonstration's states where its phase changes (`phaseKeyframes`).
    case phases
    /// Place as a lift followed by a carry: k states evenly spaced over a demonstration of lifting
    /// the object, its end (the object lifted), then the state where the place demonstration that
    /// goes on from there has carried the object over the target; with `setDown`, also the state
    /// where it has lowered the object onto the floor at the target, still held, just before it lets
    /// go, and the state where it has opened the fingers there, before backing off (so the release
    /// comes only once the object is down where it belongs, and with the gripper at rest: a released
    /// object keeps the gripper's motion and slides). Other tasks: `even(k)`.
    case liftThenCarry(Int, setDown: Bool = false)

    /// The goals (indices into subgoals + goal) that need the object in hand: lift-then-carry's
    /// carry over the target (and set-down), for place; nil otherwise.
    public func heldStages(task: GraspTask) -> Range<Int>? {
        guard case .liftThenCarry(let k, let setDown) = self, task == .place else { return nil }
        return (k + 1)..<(k + (setDown ? 3 : 2))
    }

    /// Goals a policy gets for `task` (subgoals and the goal) when the demonstration has every phase.
    public func goalCount(task: GraspTask) -> Int {
        switch self {
        case .none: return 1
        case .even(let k): return k + 1
        case .phases: return task == .place ? 5 : task == .lift ? 3 : 1
        case .liftThenCarry(let k, let setDown): return task == .place ? k + (setDown ? 5 : 3) : k + 1
        }
    }

    /// The subgoal states for `goal` from `start` (demonstrations cut at `maxSteps` actions).
    public func states(start: GraspState, goal: GraspGoal, config: GraspConfig, maxSteps: Int) -> [GraspState] {
        let expert = GraspExpert(config: config)
        func demonstration(from state: GraspState, _ goal: GraspGoal) -> (states: [GraspState], actions: [[Float]]) {
            var demo = state, states = [state], actions: [[Float]] = []
            while !goal.isSuccess(demo) && states.count <= maxSteps {
                actions.append(expert.action(state: demo, goal: goal))
                GraspSimulator.step(&demo, action: actions[actions.count - 1], config: config)
                states.append(demo)
            }
            return (states, actions)
        }
        func evenly(_ states: [GraspState], _ k: Int) -> [GraspState] {
            k > 0 ? (1...k).map { states[(states.count - 1) * $0 / (k + 1)] } : []
        }
        switch self {
        case .none: return []
        case .even(let k): return evenly(demonstration(from: start, goal).states, k)
        case .phases:
            let demo = demonstration(from: start, goal)
            return phaseKeyframes(states: demo.states, actions: demo.actions, goal: goal).map { demo.states[$0] }
        case .liftThenCarry(let k, let setDown):
            guard goal.task == .place else { return SubgoalScheme.even(k).states(start: start, goal: goal, config: config, maxSteps: maxSteps) }
            let lift = GraspGoal(task: .lift, objectIndex: goal.objectIndex, tolerance: 0, liftHeight: config.liftHeight, floorY: goal.floorY)
            let lifted = demonstration(from: start, lift).states
            let carry = demonstration(from: lifted[lifted.count - 1], goal)
            func held(_ state: GraspState) -> Bool { goal.objectIndex < state.objects.count && state.objects[goal.objectIndex].held }
            let over = carry.states.first { held($0) && abs($0.objects[goal.objectIndex].x - goal.targetX) <= 0.5 }
            let release = carry.actions.indices.first { held(carry.states[$0]) && carry.actions[$0] == [0, 0, -1] }
            let backOff = carry.actions.indices.first { !held(carry.states[$0]) && carry.actions[$0] == [0, -1, -1] }
            // A demonstration cut before the target keeps its last state, so the count matches goalCount.
            let last = carry.states[carry.states.count - 1]
            let down = setDown ? [release.map { carry.states[$0] } ?? last, backOff.map { carry.states[$0] } ?? last] : []
            return evenly(lifted, k) + [lifted[lifted.count - 1], over ?? last] + down
        }
    }
}

/// The episode `seed` of `task`: a random initial state and a random goal for it (both from the
/// seed), run under `policy` until the goal holds on the true state or `maxSteps` actions. The
/// policy gets the subgoals of `subgoals` before the goal.
public func runGraspEpisode(config: GraspConfig, task: GraspTask, seed: UInt64, maxSteps: Int, subgoals: SubgoalScheme = .none,
                            policy: inout some GraspPolicy, recordFrames: Bool = false) throws -> GraspEpisodeResult {
    var rng = RandomGenerator(seed: seed)
    var simulator = GraspSimulator(config: config, state: GraspSimulator.randomState(config: config, rng: &rng))
    let goal = GraspGoal.sample(task: task, state: simulator.state, config: config, rng: &rng)
    let renderer = GraspRenderer(config: config)
    var goalFrame = [UInt8](repeating: 0, count: config.width * config.height)
    let goalState = goal.goalState(from: simulator.state, config: config)
    renderer.render(state: goalState, into: &goalFrame)
    let subgoalStates = subgoals.states(start: simulator.state, goal: goal, config: config, maxSteps: maxSteps)
    let subgoalFrames = subgoalStates.map { state in
        var frame = [UInt8](repeating: 0, count: config.width * config.height)
        renderer.render(state: state, into: &frame)
        return frame
    }
    try policy.begin(goal: goal, goalFrames: subgoalFrames + [goalFrame], goalStates: subgoalStates + [goalState])
    var frame = [UInt8](repeating: 0, count: config.width * config.height)
    simulator.render(into: &frame)
    var result = GraspEpisodeResult(seed: seed, success: goal.isSuccess(simulator.state), steps: 0, planCosts: [], observedEnergies: [], planSeconds: [],
                                    frames: recordFrames ? [frame] : [], goalFrame: goalFrame,
                                    subgoalFrames: subgoalFrames)
    while !result.success && result.steps < maxSteps {
        let started = Date()
        let actions = policy.actions(frame: frame, state: simulator.state)
        result.planSeconds.append(Date().timeIntervalSince(started))
        if let cost = policy.lastPlanCost {
            result.planCosts.append(cost)
            result.observedEnergies.append(policy.lastObservedEnergy ?? .nan)
        }
        for action in actions where !result.success && result.steps < maxSteps {
            let wasHeld = goal.objectIndex < simulator.state.objects.count && simulator.state.objects[goal.objectIndex].held
            simulator.step(action)
            result.steps += 1
            result.milestones.observe(simulator.state, after: result.steps, wasHeld: wasHeld, goal: goal)
            simulator.render(into: &frame)
            if recordFrames { result.frames.append(frame) }
            result.success = goal.isSuccess(simulator.state)
        }
    }
    return result
}

/// Where a demonstration of lift or place changes phase, as indices into `states` (in order):
/// the fingers are around the object and start to close; the object is held; (place) it is carried
/// over the target; (place) it rests on the floor and the fingers start to open. Subgoals taken there
/// ask for one thing each (evenly spaced ones can fall mid-phase, e.g. on a carry with the fingers
/// already shut, EXPERIMENTS §5.3). `actions[t]` is the action taken in `states[t]`.
public func phaseKeyframes(states: [GraspState], actions: [[Float]], goal: GraspGoal) -> [Int] {
    guard goal.task != .reach else { return [] }
    func held(_ t: Int) -> GraspObject? {
        goal.objectIndex < states[t].objects.count && states[t].objects[goal.objectIndex].held ? states[t].objects[goal.objectIndex] : nil
    }
    let steps = actions.indices
    var keys: [Int?] = [
        steps.first { held($0) == nil && actions[$0] == [0, 0, 1] },
        states.indices.first { held($0) != nil },
    ]
    if goal.task == .place {
        keys.append(states.indices.first { t in held(t).map { abs($0.x - goal.targetX) <= 0.5 } ?? false })
        keys.append(steps.first { held($0) != nil && actions[$0] == [0, 0, -1] })
    }
    var out: [Int] = []
    for case let k? in keys where k > (out.last ?? 0) { out.append(k) }
    return out
}

/// The Wilson score interval for a success rate (95 % for z = 1.96): sensible at 0 % and 100 %,
/// unlike the normal approximation.
public func wilsonInterval(successes: Int, trials: Int, z: Double = 1.96) -> (low: Double, high: Double) {
    guard trials > 0 else { return (0, 1) }
    let n = Double(trials), p = Double(successes) / n, z2 = z * z
    let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    let half = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / (1 + z2 / n)
    return (max(0, centre - half), min(1, centre + half))
}
