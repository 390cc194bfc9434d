import JEPA
import NN
@testable import Planning
import Tensors
import Testing
import Worlds

/// A tiny action-conditioned model of 16×16 frames; predictor weights made non-zero so that
/// actions matter (the trained-from-scratch predictor starts at "nothing changes").
private func tinyModel(_ predictor: ActionJEPAConfig.PredictorKind, seed: UInt64 = 3) throws -> ActionConditionedJEPA {
    var c = ActionJEPAConfig()
    (c.frames, c.imageSize, c.patch, c.predictor) = (4, 16, 4, predictor)
    (c.encoderDim, c.encoderDepth, c.encoderHeads, c.pooledDim) = (16, 1, 2, 8)
    (c.predictorDim, c.predictorDepth, c.predictorHeads, c.gruHidden, c.inverseDynamicsHidden) = (16, 1, 2, 12, 8)
    c.distance = .l2
    var rng = RandomGenerator(seed: seed)
    let model = try ActionConditionedJEPA(config: c, rng: &rng)
    for p in model.predictor.parameters() where p.scalars.allSatisfy({ $0 == 0 }) {
        p.assign(Tensor.uniform(p.shape, low: -0.2, high: 0.2, using: &rng))
    }
    return model
}

/// A 16×16 grasp world for the tiny models.
private func tinyWorld() throws -> GraspConfig {
    var world = GraspConfig()
    (world.width, world.height, world.maxOpening, world.fingerLength) = (16, 16, 6, 3)
    (world.minObjectSize, world.maxObjectSize, world.objectGap, world.liftHeight) = (1, 1.5, 1, 2)
    try world.validate()
    return world
}

private func goalCost(_ model: ActionConditionedJEPA, horizon: Int, weighting: LatentGoalCost.Weighting = .last,
                      penalty: Float = 0) -> LatentGoalCost {
    var rng = RandomGenerator(seed: 11)
    let frames = Tensor.uniform([1, 3, 1, 16, 16], low: 0, high: 1, using: &rng)
    let z = model.encode(frames)
    let k = min(2, model.predictor.window)
    return LatentGoalCost(model: model, context: z.slice(axis: 1, (2 - k)..<2),
                          pastActions: Tensor.uniform([1, k - 1, 3], low: -1, high: 1, using: &rng),
                          goal: z.slice(axis: 1, 2..<3), horizon: horizon, weighting: weighting, actionPenalty: penalty)
}

@Suite struct ClosedLoopTests {
    /// A batch of candidates costs what each costs alone (the batch is one predictor call, not a
    /// different computation), for both weightings, and the action penalty adds λ·mean(u²).
    @Test(arguments: [ActionJEPAConfig.PredictorKind.gru, .transformer])
    func batchedCostsEqualSingleCosts(_ kind: ActionJEPAConfig.PredictorKind) throws {
        let model = try tinyModel(kind)
        var rng = RandomGenerator(seed: 4)
        let candidates = Tensor.uniform([5, 3, 3], low: -1, high: 1, using: &rng)
        for weighting in [LatentGoalCost.Weighting.last, .uniform(3)] {
            let cost = goalCost(model, horizon: 3, weighting: weighting)
            let batched = noGrad { cost.costs(candidates) }.scalars
            for i in 0..<5 {
                let one = noGrad { cost.costs(candidates.slice(axis: 0, i..<(i + 1))) }.item
                #expect(abs(one - batched[i]) <= 1e-5 * max(1, abs(one)))
            }
            #expect(Set(batched).count == 5)   // the actions matter
            let penalised = goalCost(model, horizon: 3, weighting: weighting, penalty: 0.5)
            let extra = noGrad { penalised.costs(candidates) }.scalars
            for i in 0..<5 {
                let u = candidates.slice(axis: 0, i..<(i + 1)).scalars
                let expected = batched[i] + 0.5 * u.map { $0 * $0 }.reduce(0, +) / Float(u.count)
                #expect(abs(extra[i] - expected) <= 1e-5)
            }
        }
    }

    /// The gradient planner's gradients (through the rollout to the actions) match finite differences.
    @Test(arguments: [ActionJEPAConfig.PredictorKind.gru, .transformer])
    func costGradientsMatchFiniteDifferences(_ kind: ActionJEPAConfig.PredictorKind) throws {
        let model = try tinyModel(kind)
        let cost = goalCost(model, horizon: 3, weighting: .uniform(3), penalty: 0.1)
        var rng = RandomGenerator(seed: 6)
        let actions = Tensor.uniform([2, 3, 3], low: -0.8, high: 0.8, using: &rng, requiresGrad: true)
        let bad = GradientCheck.mismatches([actions]) { cost.costs($0[0]) }
        #expect(bad.isEmpty, "\(bad.prefix(5))")
    }

    /// Gradient descent through a real (tiny) model lowers the cost below the start and every
    /// sampling planner's result is no worse than doing nothing.
    @Test func plannersLowerTheLatentCost() throws {
        let model = try tinyModel(.gru)
        let cost = goalCost(model, horizon: 3, weighting: .uniform(3))
        let idle = noGrad { cost.costs(Tensor.zeros([1, 3, 3])).item }
        var cem = CEMPlanner.Settings()
        (cem.samples, cem.elites, cem.iterations) = (40, 5, 4)
        var mppi = MPPIPlanner.Settings()
        (mppi.samples, mppi.iterations) = (40, 4)
        var gradient = GradientPlanner.Settings()
        (gradient.iterations, gradient.cemIterations, gradient.cem) = (20, 2, cem)
        let all: [any Planner] = [CEMPlanner(settings: cem), MPPIPlanner(settings: mppi), GradientPlanner(settings: gradient)]
        for planner in all {
            var p = planner
            var rng = RandomGenerator(seed: 8)
            let plan = p.plan(cost, rng: &rng)
            #expect(plan.cost < idle, "\(p.name): \(plan.cost) not below idle \(idle)")
            #expect(plan.actions.allSatisfy { abs($0) <= 1 })
            let check = noGrad { cost.costs(Tensor(plan.actions, shape: [1, 3, 3])).item }
            #expect(abs(check - plan.cost) <= 1e-5 * max(1, check))
        }
    }

    /// A closed-loop episode with a tiny model runs end to end: one re-plan per executed action
    /// (execute 1) or per two, frames recorded, plan times measured; the runner stops at the limit.
    @Test func closedLoopSmoke() throws {
        let model = try tinyModel(.gru)
        let world = try tinyWorld()
        var cem = CEMPlanner.Settings()
        (cem.samples, cem.elites, cem.iterations) = (16, 4, 2)
        for execute in [1, 2] {
            var policy = PlannerPolicy(model: model, planner: CEMPlanner(settings: cem), horizon: 3, executeSteps: execute, seed: 1)
            let result = try runGraspEpisode(config: world, task: .lift, seed: 5, maxSteps: 6, policy: &policy, recordFrames: true)
            #expect(!result.success && result.steps == 6)
            #expect(result.planCosts.count == 6 / execute && result.planCosts.allSatisfy { $0.isFinite })
            #expect(result.planSeconds.count == 6 / execute)
            #expect(result.frames.count == 7 && result.goalFrame.count == 256)
        }
        var expert = ExpertPolicy(config: GraspConfig())
        let reached = try runGraspEpisode(config: GraspConfig(), task: .reach, seed: 3, maxSteps: 60, policy: &expert)
        #expect(reached.success && reached.steps > 0 && reached.steps < 60)
    }

    /// The milestones follow the true state: the expert's place holds, lifts, carries the object over
    /// the target in that order and lets go once, ending within tolerance; a policy that never moves
    /// reaches none of them. The report counts them per policy.
    @Test func milestonesRecordHowFarAnEpisodeGot() throws {
        struct Still: GraspPolicy {
            var name: String { "still" }
            mutating func begin(goal: GraspGoal, goalFrames: [[UInt8]], goalStates: [GraspState]) {}
            mutating func actions(frame: [UInt8], state: GraspState) -> [[Float]] { [[0, 0, 0]] }
        }
        let config = GraspConfig()
        var expert = ExpertPolicy(config: config)
        let placed = try runGraspEpisode(config: config, task: .place, seed: 11, maxSteps: 120, policy: &expert)
        let m = placed.milestones
        #expect(placed.success)
        let held = try #require(m.firstHeld), offFloor = try #require(m.firstOffTheFloor), over = try #require(m.firstOverTarget)
        #expect(held <= offFloor && offFloor <= over && over <= placed.steps)
        #expect(m.releases == 1 && m.finalDistanceToTarget.map { $0 <= config.placeTolerance } == true)
        #expect(m.distanceAtFirstRelease.map { $0 <= config.placeTolerance } == true)
        var still = Still()
        let idle = try runGraspEpisode(config: config, task: .place, seed: 11, maxSteps: 10, policy: &still)
        #expect(idle.milestones.firstHeld == nil && idle.milestones.firstOffTheFloor == nil && idle.milestones.releases == 0)
        #expect(idle.milestones.finalDistanceToTarget.map { $0 > config.placeTolerance } == true)
        let report = PlanReport.PolicyResult(policy: "x", outcomes: [placed, idle], planSeconds: [])
        #expect((report.held, report.offTheFloor, report.overTarget, report.releases) == (1, 1, 1, 1))
        #expect(report.episodeResults.map(\.milestones) == [placed.milestones, idle.milestones])
        let reach = try runGraspEpisode(config: config, task: .reach, seed: 3, maxSteps: 60, policy: &expert)
        #expect(reach.milestones == GraspMilestones())
    }

    /// A model without actions, or a goal frame the model cannot take, is a clear error.
    @Test func badPlanningInputsAreErrors() throws {
        var c = ActionJEPAConfig.passive
        (c.frames, c.imageSize, c.patch, c.encoderDim, c.encoderDepth, c.encoderHeads, c.pooledDim, c.gruHidden) = (4, 16, 4, 16, 1, 2, 8, 12)
        var rng = RandomGenerator(seed: 1)
        let passive = try ActionConditionedJEPA(config: c, rng: &rng)
        #expect(throws: PlanningError.self) { _ = try planningModel(passive, source: "nf.h5") }
        let model = try tinyModel(.gru)
        #expect(try planningModel(model, source: "ac.h5") === model)
        var policy = PlannerPolicy(model: model, planner: CEMPlanner(), horizon: 2, executeSteps: 1, seed: 1)
        let goal = GraspGoal(task: .reach, tolerance: 1, floorY: 15)
        do {
            try policy.begin(goal: goal, goalFrames: [[UInt8](repeating: 0, count: 64 * 64)],
                             goalStates: [GraspState(gripperX: 8, gripperY: 8, opening: 4, objects: [])])
            Issue.record("a 64×64 goal frame was accepted by a 16×16 model")
        } catch let error as PlanningError {
            #expect(error.description.contains("4096 pixels") && error.description.contains("1×16×16"))
        }
    }

    /// With k subgoals the policy gets k demonstration frames before the goal frame (the first
    /// differs from the goal: the demonstration starts away from it), and the planner moves through them: at once with an infinite threshold, one
    /// per re-plan with a step budget of 1.
    @Test func subgoalsComeFromTheDemonstrationInOrder() throws {
        struct Spy: GraspPolicy {
            var name: String { "spy" }
            var received: [[UInt8]] = [], states: [GraspState] = []
            mutating func begin(goal: GraspGoal, goalFrames: [[UInt8]], goalStates: [GraspState]) { (received, states) = (goalFrames, goalStates) }
            mutating func actions(frame: [UInt8], state: GraspState) -> [[Float]] { [[0, 0, 0]] }
        }
        var spy = Spy()
        let result = try runGraspEpisode(config: GraspConfig(), task: .lift, seed: 4, maxSteps: 2, subgoals: .even(3), policy: &spy)
        #expect(spy.received.count == 4 && result.subgoalFrames.count == 3)
        #expect(spy.received.last == result.goalFrame && spy.received[0] != result.goalFrame)
        // The goal states are those the frames were rendered from (the goal's: held, closed fingers).
        #expect(spy.states.count == 4 && spy.states.last!.objects.contains(where: \.held))
        var rendered = [UInt8](repeating: 0, count: 64 * 64)
        for (frame, state) in zip(spy.received, spy.states) {
            GraspRenderer(config: GraspConfig()).render(state: state, into: &rendered)
            #expect(rendered == frame)
        }

        let model = try tinyModel(.gru)
        var world = GraspConfig()
        (world.width, world.height, world.maxOpening, world.fingerLength) = (16, 16, 6, 3)
        (world.minObjectSize, world.maxObjectSize, world.objectGap, world.liftHeight) = (1, 1.5, 1, 2)
        var cem = CEMPlanner.Settings()
        (cem.samples, cem.elites, cem.iterations) = (8, 2, 1)
        var eager = PlannerPolicy(model: model, planner: CEMPlanner(settings: cem), horizon: 2, executeSteps: 1,
                                  subgoalThreshold: .infinity, seed: 1)
        _ = try runGraspEpisode(config: world, task: .lift, seed: 5, maxSteps: 1, subgoals: .even(2), policy: &eager)
        #expect(eager.stage == 2)
        var paced = PlannerPolicy(model: model, planner: CEMPlanner(settings: cem), horizon: 2, executeSteps: 1,
                                  subgoalThreshold: 0, subgoalSteps: 1, seed: 1)
        _ = try runGraspEpisode(config: world, task: .lift, seed: 5, maxSteps: 2, subgoals: .even(2), policy: &paced)
        #expect(paced.stage == 1)
    }
}

/// The tiny model with proprioception (scales of the 16×16 test world).
private func tinyProprioModel(zDim: Int = 0) throws -> ActionConditionedJEPA {
    var c = ActionJEPAConfig()
    (c.frames, c.imageSize, c.patch, c.predictor) = (4, 16, 4, .gru)
    (c.encoderDim, c.encoderDepth, c.encoderHeads, c.pooledDim, c.gruHidden, c.inverseDynamicsHidden) = (16, 1, 2, 8, 12, 8)
    (c.distance, c.proprio, c.proprioScale, c.zDim) = (.l2, true, [16, 16, 6], zDim)
    var rng = RandomGenerator(seed: 3)
    let model = try ActionConditionedJEPA(config: c, rng: &rng)
    for p in model.predictor.parameters() where p.scalars.allSatisfy({ $0 == 0 }) {
        p.assign(Tensor.uniform(p.shape, low: -0.2, high: 0.2, using: &rng))
    }
    return model
}

@Suite struct ProprioPlanningTests {
    /// With proprioception a step's cost is the latents' energy + w × the proprio parts' distance
    /// (checked against the rollout by hand), batched costs equal single ones, and the gradient
    /// through the state rollout matches finite differences.
    @Test func proprioCostAddsTheWeightedProprioDistance() throws {
        let model = try tinyProprioModel()
        var rng = RandomGenerator(seed: 11)
        let z = model.encode(Tensor.uniform([1, 2, 1, 16, 16], low: 0, high: 1, using: &rng))
        let states = model.state(latents: z, proprio: Tensor([4, 5, 6, 0, 12, 9, 2, 0], shape: [1, 2, 4]))
        let (context, goal) = (states.slice(axis: 1, 0..<1), states.slice(axis: 1, 1..<2))
        let candidates = Tensor.uniform([4, 3, 3], low: -1, high: 1, using: &rng)
        let predicted = noGrad { model.rollout(latents: context.expanded(to: [4, 1, 1, 11]), actions: candidates) }
        for w: Float in [0, 2] {
            let cost = LatentGoalCost(model: model, context: context, goal: goal, horizon: 3, weighting: .uniform(3), proprioWeight: w)
            let batched = noGrad { cost.costs(candidates) }.scalars
            for i in 0..<4 {
                var expected: Float = 0
                for k in 0..<3 {
                    let step = predicted.slice(axis: 0, i..<(i + 1)).slice(axis: 1, k..<(k + 1))
                    expected += (energy(predicted: model.visualPart(step), target: model.visualPart(goal), distance: .l2).item
                                 + w * energy(predicted: model.proprioPart(step), target: model.proprioPart(goal), distance: .l2).item) / 3
                }
                #expect(abs(batched[i] - expected) <= 1e-5 * max(1, expected))
                let one = noGrad { cost.costs(candidates.slice(axis: 0, i..<(i + 1))) }.item
                #expect(abs(one - batched[i]) <= 1e-5 * max(1, one))
            }
        }
        let cost = LatentGoalCost(model: model, context: context, goal: goal, horizon: 3, weighting: .uniform(3), proprioWeight: 2)
        let actions = Tensor.uniform([2, 3, 3], low: -0.8, high: 0.8, using: &rng, requiresGrad: true)
        let bad = GradientCheck.mismatches([actions]) { cost.costs($0[0]) }
        #expect(bad.isEmpty, "\(bad.prefix(5))")
    }

    /// A closed-loop episode with a tiny proprio model runs end to end, with the proprio weight on
    /// and off, and with subgoals (whose states carry their own proprioception).
    @Test func proprioClosedLoopSmoke() throws {
        let model = try tinyProprioModel()
        let world = try tinyWorld()
        var cem = CEMPlanner.Settings()
        (cem.samples, cem.elites, cem.iterations) = (16, 4, 2)
        var costs: [[Float]] = []
        for (w, subgoals) in [(Float(1), 0), (0, 0), (1, 2)] {
            var policy = PlannerPolicy(model: model, planner: CEMPlanner(settings: cem), horizon: 3, executeSteps: 1,
                                       proprioWeight: w, subgoalSteps: 2, seed: 1)
            let result = try runGraspEpisode(config: world, task: .lift, seed: 5, maxSteps: 6, subgoals: subgoals > 0 ? .even(subgoals) : .none, policy: &policy)
            #expect(result.steps == 6 && result.planCosts.count == 6 && result.planCosts.allSatisfy { $0.isFinite })
            #expect(result.observedEnergies.allSatisfy { $0.isFinite && $0 >= 0 })
            if subgoals > 0 { #expect(policy.stage == 2) }
            costs.append(result.observedEnergies)
        }
        #expect(costs[0] != costs[1])   // the proprio distance counts
    }

    /// With a proprio tolerance the subgoal switch reads the gripper's pose, not the energy: a
    /// huge tolerance passes every subgoal at once, a zero one none (even with an infinite threshold).
    @Test func subgoalToleranceJudgesThePose() throws {
        let model = try tinyProprioModel()
        let world = try tinyWorld()
        var cem = CEMPlanner.Settings()
        (cem.samples, cem.elites, cem.iterations) = (8, 2, 1)
        for (tolerance, stage) in [(Float(1000), 2), (0, 0)] {
            var policy = PlannerPolicy(model: model, planner: CEMPlanner(settings: cem), horizon: 2, executeSteps: 1,
                                       subgoalThreshold: .infinity, seed: 1)
            policy.subgoalTolerance = tolerance
            // A step limit long enough for the demonstration (the subgoals) to leave the start pose.
            _ = try runGraspEpisode(config: world, task: .lift, seed: 5, maxSteps: 12, subgoals: .even(2), policy: &policy)
            #expect(policy.stage == stage)
        }
    }

    /// Planning with sampled z: a candidate's cost is the mean of its costs under each z (checked
    /// one z at a time), z = 0 alone is the plain cost, and the predictor's z path has exact gradients.
    @Test func plansAreScoredUnderEverySampledLatent() throws {
        let model = try tinyProprioModel(zDim: 2)
        var rng = RandomGenerator(seed: 9)
        let states = model.state(latents: model.encode(Tensor.uniform([1, 2, 1, 16, 16], low: 0, high: 1, using: &rng)),
                                 proprio: Tensor.uniform([1, 2, 3], low: 0, high: 16, using: &rng))
        let context = states.slice(axis: 1, 0..<1), goal = states.slice(axis: 1, 1..<2)
        var cost = LatentGoalCost(model: model, context: context, goal: goal, horizon: 3, weighting: .uniform(3), proprioWeight: 2)
        let actions = Tensor.uniform([4, 3, 3], low: -1, high: 1, using: &rng)
        let plain = noGrad { cost.costs(actions) }.scalars
        let z = Tensor.randn([3, 2], using: &rng)
        let one = { (row: Int) -> [Float] in
            noGrad { cost.costs(actions, z: z.slice(axis: 0, row..<(row + 1)).expanded(to: [4, 2])) }.scalars
        }
        let expected = (0..<4).map { s in (0..<3).map { one($0)[s] }.reduce(0, +) / 3 }
        cost.latentSamples = z
        let sampled = noGrad { cost.costs(actions) }.scalars
        for (a, b) in zip(sampled, expected) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
        #expect(sampled != plain)
        cost.latentSamples = Tensor.zeros([1, 2])
        #expect(noGrad { cost.costs(actions) }.scalars == plain)

        let predictor = try #require(model.predictor as? ActionGRUPredictor)
        let input = Tensor.uniform([2, 1, 1, model.config.stateDim], low: -1, high: 1, using: &rng)
        let a = Tensor.uniform([2, 1, 3], low: -1, high: 1, using: &rng)
        let bad = GradientCheck.mismatches([Tensor.uniform([2, 2], low: -1, high: 1, using: &rng, requiresGrad: true), predictor.zEmbed!.weight]) {
            predictor(latents: input, actions: a, z: $0[0]).squared().sum()
        }
        #expect(bad.isEmpty, "\(bad.prefix(5))")
    }

    /// Grasp retry: in the carry stage a hold check reading "not held" twice running sends the
    /// policy back to the first subgoal; reading "held" lets it go on; one misread is forgiven.
    @Test func aLostGraspIsRetried() throws {
        let model = try tinyProprioModel()
        let world = try tinyWorld()
        var cem = CEMPlanner.Settings()
        (cem.samples, cem.elites, cem.iterations) = (8, 2, 1)
        let scheme = SubgoalScheme.liftThenCarry(1)
        let held = try #require(scheme.heldStages(task: .place))
        #expect(held == 2..<3 && SubgoalScheme.liftThenCarry(1).heldStages(task: .lift) == nil && SubgoalScheme.even(3).heldStages(task: .place) == nil)
        // Two re-plans per goal and no energy threshold: goals 0, 0, 1, 1, then the carry (goal 2) from decision 5.
        for (readings, stage, regrasps) in [([Float](repeating: 1, count: 8), 2, 0), ([0, 0, 0, 0, 0, 0, 0, 0], 0, 1), ([1, 1, 1, 1, 0, 1, 0, 1], 2, 0)] {
            var policy = PlannerPolicy(model: model, planner: CEMPlanner(settings: cem), horizon: 2, executeSteps: 1,
                                       subgoalThreshold: 0, subgoalSteps: 2, seed: 1)
            var decision = 0
            policy.regrasp = ({ _ in defer { decision += 1 }; return readings[decision] }, held)
            let result = try runGraspEpisode(config: world, task: .place, seed: 6, maxSteps: 6, subgoals: scheme, policy: &policy)
            #expect(!result.success && result.planCosts.count == 6)
            #expect(policy.stage == stage && policy.regrasps == regrasps, "\(readings): stage \(policy.stage), \(policy.regrasps) regrasps, \(decision) readings")
        }
    }
}

@Suite struct PhaseSubgoalTests {
    /// The expert's demonstration of place, cut where its phase changes: around the object (not yet
    /// held), held, over the target, set down; lift stops after "held".
    @Test func keyframesMarkThePhasesOfTheDemonstration() throws {
        let config = GraspConfig()
        for (task, count) in [(GraspTask.place, 4), (.lift, 2), (.reach, 0)] {
            var rng = RandomGenerator(seed: 21)
            var state = GraspSimulator.randomState(config: config, rng: &rng)
            let goal = GraspGoal.sample(task: task, state: state, config: config, rng: &rng)
            let expert = GraspExpert(config: config)
            var states = [state], actions: [[Float]] = []
            while !goal.isSuccess(state) && states.count < 300 {
                actions.append(expert.action(state: state, goal: goal))
                GraspSimulator.step(&state, action: actions[actions.count - 1], config: config)
                states.append(state)
            }
            #expect(goal.isSuccess(state))
            let keys = phaseKeyframes(states: states, actions: actions, goal: goal)
            #expect(keys.count == count, "\(task): \(keys)")
            #expect(zip(keys, keys.dropFirst()).allSatisfy { $0 < $1 })
            guard count > 0 else { continue }
            let object = { (t: Int) in states[t].objects[goal.objectIndex] }
            let around = object(keys[0]), gripper = states[keys[0]]
            #expect(!around.held && around.left >= gripper.gripperX - gripper.opening / 2 - 0.5
                     && around.right <= gripper.gripperX + gripper.opening / 2 + 0.5)
            #expect(object(keys[1]).held)
            if task == .place {
                #expect(object(keys[2]).held && abs(object(keys[2]).x - goal.targetX) <= 0.5)
                #expect(object(keys[3]).held && object(keys[3]).bottom >= config.floorY - 0.01)
            }
        }
    }
}

@Suite struct LiftThenCarrySubgoalTests {
    /// Place as lift + carry: k states of the lift demonstration (the object not yet lifted), the
    /// object lifted as lift's goal asks, then held over the target; lift gets the plain even subgoals.
    @Test func placeIsALiftFollowedByACarry() throws {
        let config = GraspConfig()
        for seed: UInt64 in [21, 22, 23] {
            var rng = RandomGenerator(seed: seed)
            let start = GraspSimulator.randomState(config: config, rng: &rng)
            let goal = GraspGoal.sample(task: .place, state: start, config: config, rng: &rng)
            let states = SubgoalScheme.liftThenCarry(3).states(start: start, goal: goal, config: config, maxSteps: 150)
            #expect(states.count == SubgoalScheme.liftThenCarry(3).goalCount(task: .place) - 1)
            let lift = GraspGoal(task: .lift, objectIndex: goal.objectIndex, tolerance: 0, liftHeight: config.liftHeight, floorY: config.floorY)
            #expect(states[0..<3].allSatisfy { !lift.isSuccess($0) } && lift.isSuccess(states[3]))
            let carried = states[4].objects[goal.objectIndex]
            #expect(carried.held && abs(carried.x - goal.targetX) <= 0.5)
            #expect(abs(start.objects[goal.objectIndex].x - goal.targetX) > 1)
            // With set-down: the same states, then the object down at the target, still held, then let go
            // there with the fingers open.
            let setDown = SubgoalScheme.liftThenCarry(3, setDown: true)
            let withSetDown = setDown.states(start: start, goal: goal, config: config, maxSteps: 150)
            #expect(withSetDown.count == setDown.goalCount(task: .place) - 1 && Array(withSetDown.prefix(5)) == states)
            let down = withSetDown[5].objects[goal.objectIndex]
            #expect(down.held && down.bottom >= config.floorY - 0.01 && abs(down.x - goal.targetX) <= goal.tolerance)
            let released = withSetDown[6].objects[goal.objectIndex]
            #expect(!released.held && released.isResting(floorY: config.floorY) && abs(released.x - goal.targetX) <= goal.tolerance)
            #expect(withSetDown[6].opening > withSetDown[5].opening && withSetDown[6].gripperX == withSetDown[5].gripperX)
            #expect(setDown.heldStages(task: .place) == 4..<6)

            let liftGoal = GraspGoal.sample(task: .lift, state: start, config: config, seed: seed)
            #expect(SubgoalScheme.liftThenCarry(2).states(start: start, goal: liftGoal, config: config, maxSteps: 100)
                    == SubgoalScheme.even(2).states(start: start, goal: liftGoal, config: config, maxSteps: 100))
        }
    }
}
