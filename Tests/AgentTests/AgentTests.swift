import Agent
import JEPA
import Worlds
import Checkpoints
import Foundation
import NN
@testable import Planning
import Tensors
import Testing

/// A one-step toy world: state s ∈ R², x' = s + 0.5·u, cost ‖x' − g‖² + 0.1‖u‖²; the planner's
/// answer is u* = clip(0.5·(g − s) / 0.35) per coordinate (the box [−1, 1]).
struct OneStepWorld: TrajectoryCost {
    let start: [Float], goal: [Float]
    var horizon: Int { 1 }
    var actionDim: Int { 2 }
    func costs(_ actions: Tensor) -> Tensor {
        let x = Tensor(start, shape: [1, 2]) + actions.sum(axes: [1]) * 0.5
        return (x - Tensor(goal, shape: [1, 2])).squared().sum(axes: [1]) + actions.squared().sum(axes: [1, 2]) * 0.1
    }
    var optimum: [Float] { zip(goal, start).map { max(-1, min(1, 0.5 * ($0 - $1) / 0.35)) } }
}

@Suite struct AgentTests {
    /// Planner decisions on random (state, goal) pairs, and the optimal cost-to-go.
    static func planned(_ n: Int, seed: UInt64, range: Float = 1, fixedGoal: [Float]? = nil) -> (AgentExamples, [OneStepWorld]) {
        var rng = RandomGenerator(seed: seed)
        var data = AgentExamples(latentDim: 2, actionDim: 2)
        var worlds: [OneStepWorld] = []
        var settings = CEMPlanner.Settings()
        (settings.samples, settings.elites, settings.iterations, settings.minStd) = (100, 10, 15, 0.002)
        for _ in 0..<n {
            let world = OneStepWorld(start: [rng.uniform(-range, range), rng.uniform(-range, range)],
                                     goal: fixedGoal ?? [rng.uniform(-range, range), rng.uniform(-range, range)])
            var planner = CEMPlanner(settings: settings)
            let plan = planner.plan(world, rng: &rng)
            data.append(latent: world.start, goal: world.goal, action: Array(plan.actions.prefix(2)), costToGo: plan.cost)
            worlds.append(world)
        }
        return (data, worlds)
    }

    /// Trivial: one goal, states near it, so the planner's answer is a smooth map inside the box.
    @Test func theActorImitatesTheToyPlanner() throws {
        let goal: [Float] = [0.1, -0.2]
        let (train, _) = Self.planned(400, seed: 1, range: 0.4, fixedGoal: goal)
        let (_, heldOut) = Self.planned(50, seed: 2, range: 0.35, fixedGoal: goal)
        var rng = RandomGenerator(seed: 3)
        let actor = Actor(latentDim: 2, actionDim: 2, hidden: 64, rng: &rng)
        var settings = AgentTraining.Settings()
        (settings.steps, settings.learningRate) = (2000, 3e-3)
        let curve = AgentTraining.fit(actor, on: train, settings: settings)
        #expect(curve.last! < curve.first! / 100)
        for world in heldOut {
            let action = noGrad { actor(latent: Tensor(world.start, shape: [1, 2]), goal: Tensor(world.goal, shape: [1, 2])) }.scalars
            #expect(zip(action, world.optimum).allSatisfy { abs($0 - $1) < 0.02 }, "\(action) vs \(world.optimum)")
        }
    }

    @Test func theCriticLearnsTheCostToGo() throws {
        let (train, _) = Self.planned(400, seed: 4, fixedGoal: [0.1, -0.2])
        let (test, _) = Self.planned(50, seed: 5, range: 0.9, fixedGoal: [0.1, -0.2])
        var rng = RandomGenerator(seed: 6)
        let critic = Critic(latentDim: 2, hidden: 64, rng: &rng)
        var settings = AgentTraining.Settings()
        settings.steps = 1500
        AgentTraining.fit(critic, on: train, settings: settings)
        let inputs = (0..<test.count).map { $0 }
        let predicted = noGrad {
            critic(latent: Tensor(test.latents, shape: [inputs.count, 2]), goal: Tensor(test.goals, shape: [inputs.count, 2]))
        }.scalars
        let spread = test.costToGo.max()! - test.costToGo.min()!
        let worst = zip(predicted, test.costToGo).map { abs($0 - $1) }.max()!
        #expect(spread > 0.3 && worst < 0.05 * spread, "worst error \(worst) of a spread \(spread)")
    }

    @Test func actorAndCriticAreCheckpointedLikeEveryModule() throws {
        var rng = RandomGenerator(seed: 7)
        let actor = Actor(latentDim: 3, actionDim: 2, rng: &rng), critic = Critic(latentDim: 3, rng: &rng)
        #expect(actor.namedParameters().map(\.name) == ["net.fc1.weight", "net.fc1.bias", "net.fc2.weight", "net.fc2.bias"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try CheckpointIO.write(Checkpoint(step: 0, modules: ["actor": actor, "critic": critic], optimizer: nil), to: path)
        let actor2 = Actor(latentDim: 3, actionDim: 2, rng: &rng), critic2 = Critic(latentDim: 3, rng: &rng)
        try CheckpointIO.restore(path, into: ["actor": actor2, "critic": critic2], optimizer: nil)
        #expect(actor2.net.fc2.weight.scalars == actor.net.fc2.weight.scalars)
        #expect(critic2.net.fc1.bias!.scalars == critic.net.fc1.bias!.scalars)
    }
}

/// The agent in the (tiny) grasp world: recording planner episodes, the actor as a policy, the critic as a terminal value.
@Suite struct AgentGraspTests {
    static func model() throws -> ActionConditionedJEPA {
        var c = ActionJEPAConfig()
        (c.frames, c.imageSize, c.patch, c.predictor) = (4, 16, 4, .gru)
        (c.encoderDim, c.encoderDepth, c.encoderHeads, c.pooledDim, c.gruHidden, c.inverseDynamicsHidden) = (16, 1, 2, 8, 12, 8)
        (c.distance, c.proprio, c.proprioScale) = (.l2, true, [16, 16, 6])
        var rng = RandomGenerator(seed: 3)
        let model = try ActionConditionedJEPA(config: c, rng: &rng)
        for p in model.predictor.parameters() where p.scalars.allSatisfy({ $0 == 0 }) {
            p.assign(Tensor.uniform(p.shape, low: -0.2, high: 0.2, using: &rng))
        }
        return model
    }

    /// States [1, T, 1, D + P] of T random frames with random proprioception.
    static func randomStates(_ model: ActionConditionedJEPA, frames t: Int, rng: inout RandomGenerator) -> Tensor {
        let frames = Tensor.uniform([1, t, 1, 16, 16], using: &rng)
        let proprio = Tensor.uniform([1, t, 3], low: 0, high: 6, using: &rng)
        return model.state(latents: model.encode(frames), proprio: proprio)
    }

    static var world: GraspConfig {
        var world = GraspConfig()
        (world.width, world.height, world.maxOpening, world.fingerLength) = (16, 16, 6, 3)
        (world.minObjectSize, world.maxObjectSize, world.objectGap, world.liftHeight) = (1, 1.5, 1, 2)
        return world
    }

    @Test func plannerEpisodesBecomeExamplesTheActorRunsOn() throws {
        let model = try Self.model()
        var cem = CEMPlanner.Settings()
        (cem.samples, cem.elites, cem.iterations) = (16, 4, 2)
        var recorder = RecordingPolicy(PlannerPolicy(model: model, planner: CEMPlanner(settings: cem), horizon: 3, executeSteps: 1, seed: 1),
                                       model: model)
        let episode = try runGraspEpisode(config: Self.world, task: .lift, seed: 5, maxSteps: 5, policy: &recorder)
        #expect(episode.steps == 5 && !episode.success)
        let width = model.config.stateDim
        var examples = AgentExamples(latentDim: width, actionDim: 3)
        recorder.finish(into: &examples, horizon: 2)
        try #require(examples.count == 5)
        #expect(examples.actions.allSatisfy { abs($0) <= 1 })
        #expect(examples.costToGo[4] == 0 && examples.costToGo[0] > 0)   // the last decision has no future

        var rng = RandomGenerator(seed: 4)
        let actor = Actor(latentDim: width, actionDim: 3, hidden: 16, rng: &rng)
        var settings = AgentTraining.Settings()
        settings.steps = 20
        AgentTraining.fit(actor, on: examples, settings: settings)
        var policy = ActorPolicy(model: model, actor: actor)
        let result = try runGraspEpisode(config: Self.world, task: .lift, seed: 6, maxSteps: 4, policy: &policy)
        #expect(result.steps == 4 && result.planCosts.isEmpty)
    }

    @Test func theCriticIsAddedAsATerminalValue() throws {
        let model = try Self.model()
        var rng = RandomGenerator(seed: 5)
        let states = Self.randomStates(model, frames: 2, rng: &rng)
        let context = states.slice(axis: 1, 0..<1), goal = states.slice(axis: 1, 1..<2)
        var cost = LatentGoalCost(model: model, context: context, goal: goal, horizon: 2)
        let actions = Tensor.uniform([4, 2, 3], low: -1, high: 1, using: &rng)
        let plain = noGrad { cost.costs(actions) }.scalars
        let critic = Critic(latentDim: model.config.stateDim, hidden: 8, rng: &rng)
        cost.terminalValue = criticTerminalValue(critic, weight: 2)
        let withCritic = noGrad { cost.costs(actions) }.scalars
        let predicted = noGrad { model.rollout(latents: context.expanded(to: [4, 1, 1, model.config.stateDim]), actions: actions) }
        let last = predicted.slice(axis: 1, 1..<2).reshaped([4, model.config.stateDim])
        let values = noGrad { critic(latent: last, goal: goal.reshaped([1, model.config.stateDim]).expanded(to: [4, model.config.stateDim])) }.scalars
        for i in 0..<4 { #expect(abs(withCritic[i] - plain[i] - 2 * values[i]) < 1e-5) }
    }

    /// actor+planner: the proposal is the actor rolled through the model (its first action on the
    /// live state, the next on the model's prediction after it), and a planner starts its search there.
    @Test func theActorProposesAndThePlannerStartsFromIt() throws {
        let model = try Self.model()
        var rng = RandomGenerator(seed: 6)
        let states = Self.randomStates(model, frames: 3, rng: &rng)
        let context = states.slice(axis: 1, 0..<2), goal = states.slice(axis: 1, 2..<3)
        let past = Tensor.uniform([1, 1, 3], low: -1, high: 1, using: &rng)
        let width = model.config.stateDim
        let actor = Actor(latentDim: width, actionDim: 3, hidden: 16, rng: &rng)
        let proposed = noGrad { actorProposal(actor, model: model, horizon: 2)(context, past, goal) }
        #expect(proposed.count == 6)
        let flatGoal = goal.reshaped([1, width])
        let first = noGrad { actor(latent: context.slice(axis: 1, 1..<2).reshaped([1, width]), goal: flatGoal) }
        let next = noGrad { model.rollout(latents: context, actions: concat([past, first.reshaped([1, 1, 3])], axis: 1)) }
        let second = noGrad { actor(latent: next.reshaped([1, width]), goal: flatGoal) }
        for (got, want) in zip(proposed, first.scalars + second.scalars) { #expect(abs(got - want) < 1e-5) }

        // A planner that is proposed the optimum keeps it: candidate 0 of its first batch is the proposal.
        let world = OneStepWorld(start: [0.2, -0.3], goal: [0.6, -0.5])
        var settings = CEMPlanner.Settings()
        (settings.samples, settings.elites, settings.iterations, settings.initialStd) = (4, 1, 1, 1)
        var planner = CEMPlanner(settings: settings)
        planner.propose([5, -5])   // clipped to the bounds on the way in
        #expect(planner.warm.proposal == [1, -1] && planner.warm.mean == nil)
        planner.propose(world.optimum)
        let plan = planner.plan(world, rng: &rng)
        let best = noGrad { world.costs(Tensor(world.optimum, shape: [1, 1, 2])) }.item
        #expect(abs(plan.cost - best) < 1e-6 && planner.warm.proposal == nil)
        // A poor proposal does not displace a better warm start: the search starts from the cheaper.
        planner.propose([-1, 1])
        let kept = planner.plan(world, rng: &rng)
        #expect(abs(kept.cost - best) < 1e-6, "\(kept.actions)")
        // A better proposal does: from a poor warm start, proposing the optimum finds it.
        planner.reset()
        planner.propose([-1, 1])
        _ = planner.plan(world, rng: &rng)
        planner.propose(world.optimum)
        #expect(abs(planner.plan(world, rng: &rng).cost - best) < 1e-6)
    }

    /// The "don't drop the object" term: weight × mean over the horizon of max(0, held(live) −
    /// held(step)), held read by the probe and clamped to [0, 1]; it joins the cost of every candidate.
    @Test func theHoldConstraintPenalisesPredictedDrops() throws {
        let model = try Self.model()
        var rng = RandomGenerator(seed: 8)
        let width = model.config.stateDim
        let probe = HoldProbe(stateWidth: width, rng: &rng)
        let states = Self.randomStates(model, frames: 3, rng: &rng)
        let context = states.slice(axis: 1, 0..<2), goal = states.slice(axis: 1, 2..<3)
        var cost = LatentGoalCost(model: model, context: context, goal: goal, horizon: 2)
        let actions = Tensor.uniform([4, 2, 3], low: -1, high: 1, using: &rng)
        let plain = noGrad { cost.costs(actions) }.scalars
        cost.constraints = [holdConstraint(probe, weight: 3)]
        let constrained = noGrad { cost.costs(actions) }.scalars
        let predicted = noGrad { model.rollout(latents: context.expanded(to: [4, 2, 1, width]),
                                               actions: concat([Tensor.zeros([4, 1, 3]), actions], axis: 1)) }
        let held = { (x: Tensor) in noGrad { probe(x.reshaped([x.count / width, width])) }.scalars.map { min(1, max(0, $0)) } }
        let now = held(context.slice(axis: 1, 1..<2))[0], ahead = held(predicted)
        for i in 0..<4 {
            let drop = (0..<2).map { max(0, now - ahead[i * 2 + $0]) }.reduce(0, +) / 2
            #expect(abs(constrained[i] - plain[i] - 3 * drop) < 1e-5)
        }

        // Fitted on states that are held iff their first entry is positive, the probe separates them.
        var xs: [Float] = [], ys: [Float] = []
        for _ in 0..<200 {
            let row = (0..<width).map { _ in rng.uniform(-1, 1) }
            xs += row
            ys.append(row[0] > 0 ? 1 : 0)
        }
        let fitted = HoldProbe(stateWidth: width, rng: &rng)
        var settings = AgentTraining.Settings()
        settings.steps = 600
        let loss = AgentTraining.fit(fitted, states: xs, held: ys, settings: settings)
        #expect(loss.last! < loss.first!)
        let read = noGrad { fitted(Tensor(xs, shape: [200, width])) }.scalars
        #expect(zip(read, ys).filter { ($0 > 0.5) == ($1 > 0.5) }.count >= 180)
        #expect(fitted.namedParameters().map(\.name) == ["linear.weight", "linear.bias"])
    }

    /// The recorder labels each decision with the goal the planner pursued, also when the planner
    /// moved on by its step budget (here one re-plan per subgoal), not only by the energy threshold.
    @Test func recordedGoalsFollowThePlannersStage() throws {
        let model = try Self.model()
        var cem = CEMPlanner.Settings()
        (cem.samples, cem.elites, cem.iterations) = (8, 2, 1)
        let planner = PlannerPolicy(model: model, planner: CEMPlanner(settings: cem), horizon: 2, executeSteps: 1,
                                    subgoalThreshold: 0, subgoalSteps: 1, seed: 1)
        var recorder = RecordingPolicy(planner, model: model)
        _ = try runGraspEpisode(config: Self.world, task: .lift, seed: 5, maxSteps: 12, subgoals: .even(2), policy: &recorder)
        var examples = AgentExamples(latentDim: model.config.stateDim, actionDim: 3)
        recorder.finish(into: &examples, horizon: 1)
        let w = model.config.stateDim
        let goal = { (i: Int) in Array(examples.goals[(i * w)..<((i + 1) * w)]) }
        #expect(recorder.goalIndex == 2)
        #expect(goal(0) != goal(1) && goal(1) != goal(2) && goal(2) == goal(examples.count - 1))
    }
}
