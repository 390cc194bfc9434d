import Agent
import ArgumentParser
import Foundation
import HDF5
import Imaging
import JEPA
import Planning
import Tensors
import Worlds

extension GraspTask: ExpressibleByArgument {}

/// `jepa plan`: model-predictive control of the grasp world with an action-conditioned world
/// model: plan in latent space toward the goal frame's latent, execute, re-plan; next to random
/// actions and the scripted expert.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Closed-loop planning in the grasp world with an action-conditioned checkpoint.",
        discussion: "Each episode (seeds derived from --seed, which must differ from the training data's seed) starts "
            + "from a random state with a random goal of --task; the goal frame is rendered from a state that satisfies "
            + "the goal. The planner minimises the energy between the predicted latent and the goal frame's latent "
            + "(--cost sum: averaged over the horizon's steps; last: at its end), executes --execute actions and re-plans, "
            + "until the goal holds on the true state or --max-steps actions. A model with proprioception (model.proprio) "
            + "also reads the live gripper state, and its cost adds --proprio-weight × the distance to the goal state's. "
            + "The world's settings are those of the "
            + "training data when its file is present. Writes plan_report.json, plan_report.md and --gifs GIFs "
            + "(live frame | goal frame | per re-plan: the plan's predicted energy in red, the live frame's energy to the goal in blue).")

    enum PlannerName: String, ExpressibleByArgument, CaseIterable { case cem, mppi, gradient }
    enum CostName: String, ExpressibleByArgument, CaseIterable { case last, sum }
    enum PolicyName: String, ExpressibleByArgument, CaseIterable { case planner, actor
        case actorPlanner = "actor+planner"
    }

    @Option(help: ArgumentHelp("Checkpoint (.h5) of an action-conditioned model (kind: action_conditioned).", valueName: "path"))
    var checkpoint: String

    @Option(help: "Task: reach, lift or place.")
    var task: GraspTask

    @Option(help: "Planner: cem, mppi or gradient.")
    var planner: PlannerName = .cem

    @Option(help: "Episodes per policy.")
    var episodes = 50

    @Option(help: "Seed of the episodes (initial states and goals).")
    var seed: UInt64 = 5000

    @Option(help: "Actions per episode before it counts as a failure (default: reach 50, lift 100, place 150).")
    var maxSteps: Int?

    @Option(help: "Planning horizon (actions).")
    var horizon = 5

    @Option(help: "Actions executed per plan before re-planning.")
    var execute = 1

    @Option(help: "Cost: the energy averaged over the horizon's steps, or at its last step only.")
    var cost: CostName = .sum

    @Option(help: "Penalty on the mean squared action.")
    var actionPenalty: Float = 0

    static let defaultProprioWeight: Float = 10

    @Option(help: "Models with proprioception (model.proprio): weight of the distance between the predicted and the goal state's gripper x, y and opening in the cost, next to the latents' energy (0: proprioception only as the predictor's input). Default 10 (chosen on seed 7000: lift 10/10 against 5/10 at 1, EXPERIMENTS §5.3).")
    var proprioWeight: Float?

    @Option(help: "Subgoal frames before the goal, from a demonstration by the scripted expert (0 = the goal only).")
    var subgoals = 0

    @Option(help: "Who acts: the planner; the agent's actor (one forward pass per action; needs --agent); or actor+planner (the planner's search starts at every re-plan from the actor's actions rolled through the model; needs --agent).")
    var policy: PolicyName = .planner

    @Option(help: ArgumentHelp("Agent checkpoint from jepa train-agent (actor and critic).", valueName: "agent.h5"))
    var agent: String?

    @Option(help: "With --agent: add the critic's cost-to-go of the last predicted state, times this weight, to every candidate's cost (a terminal value, for shorter horizons).")
    var criticWeight: Float = 0

    @Option(help: "With --agent holding a hold probe: the cost's \"don't drop the object\" term, weight × how much less the probe reads the predicted states as holding than the live one.")
    var dropPenalty: Float = 0

    @Option(help: "World models with a latent variable (model.latent_dim): score every candidate under this many values of z (z = 0 and draws from N(0, I), fixed for the run) and plan on the mean cost. Default: z = 0 alone.")
    var latentSamples: Int?

    @Flag(help: "Place with --lift-then-carry and --agent holding a hold probe: when the probe reads the object as not held at two decisions running during the carry, go back to the first subgoal and grasp again.")
    var regrasp = false

    @Flag(help: "Take the subgoals where the demonstration changes phase (fingers around the object, held, over the target, set down) instead of evenly in time; --subgoals is then ignored.")
    var phaseSubgoals = false

    @Flag(help: "Place: take the --subgoals evenly over a demonstration of lifting the object, then add the lifted state and the state with the object carried over the target (a lift followed by a carry). Other tasks: as --subgoals.")
    var liftThenCarry = false

    @Flag(help: "With --lift-then-carry: two more subgoals after the carry, the object lowered onto the floor at the target and still held, then the fingers opened around it with the gripper at rest, so that the object is let go only once it is down there (a released object keeps the gripper's motion and slides).")
    var setDown = false

    @Option(help: "Move on to the next subgoal once the live frame's energy to the current one is below this.")
    var subgoalThreshold: Float = 0.05

    @Option(help: "Models with proprioception: move on from a subgoal once the gripper's x, y and opening are each within this many px of the subgoal's, instead of by --subgoal-threshold.")
    var subgoalTolerance: Float?

    @Option(help: "…or after this many re-plans on it (default: the step limit over the number of goals).")
    var subgoalSteps: Int?

    @Option(help: "Candidates per iteration (cem, mppi; cem seeding of gradient).")
    var samples = 300

    @Option(help: "Iterations per plan (cem, mppi; Adam steps for gradient).")
    var iterations = 10

    @Option(help: "Elites (cem).")
    var elites = 30

    @Option(help: "Initial std (cem), noise std (mppi), restart spread (gradient).")
    var std: Float = 0.5

    @Option(help: "Temperature λ (mppi).")
    var temperature: Float = 0.01

    @Option(help: "Learning rate (gradient).")
    var learningRate: Float = 0.1

    @Option(help: "CEM iterations seeding the gradient planner.")
    var cemIterations = 0

    @Flag(inversion: .prefixedNo, help: "Also run the random-action and scripted-expert baselines on the same episodes.")
    var baselines = true

    @Option(help: "GIFs of the first episodes to write.")
    var gifs = 3

    @Flag(help: "Also write landscape.png (the encoder's energy to the goal as the gripper sweeps along x and y through the first episode's goal) and action_sweep.png (predicted and true energy after holding dx = a for the horizon).")
    var landscape = false

    @Option(help: ArgumentHelp("Report directory (default: the run's plan-<task>-<planner>/).", valueName: "dir"))
    var out: String?

    func validate() throws {
        guard episodes >= 1 else { throw ValidationError("--episodes must be at least 1, got \(episodes)") }
        guard horizon >= 1, (1...horizon).contains(execute) else {
            throw ValidationError("--horizon must be at least 1 and --execute in 1…horizon, got \(horizon) and \(execute)")
        }
        guard samples >= 2, (1...samples).contains(elites), iterations >= 1, cemIterations >= 0 else {
            throw ValidationError("--samples must be at least 2, --elites in 1…samples, --iterations at least 1, --cem-iterations at least 0")
        }
        guard std > 0, temperature > 0, learningRate > 0, actionPenalty >= 0, (proprioWeight ?? 0) >= 0 else {
            throw ValidationError("--std, --temperature and --learning-rate must be positive, --action-penalty and --proprio-weight non-negative")
        }
        if let latentSamples, latentSamples < 1 { throw ValidationError("--latent-samples must be at least 1, got \(latentSamples)") }
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be at least 1, got \(maxSteps)") }
        if let subgoalTolerance, !(subgoalTolerance >= 0) { throw ValidationError("--subgoal-tolerance must be non-negative, got \(subgoalTolerance)") }
        guard !(phaseSubgoals && liftThenCarry) else { throw ValidationError("--phase-subgoals and --lift-then-carry choose different subgoals; give one") }
        guard !setDown || (liftThenCarry && task == .place) else { throw ValidationError("--set-down: needs --task place with --lift-then-carry") }
        guard subgoals >= 0, subgoalThreshold >= 0, (subgoalSteps ?? 1) >= 1 else {
            throw ValidationError("--subgoals and --subgoal-threshold must be non-negative, --subgoal-steps at least 1")
        }
        guard gifs >= 0 else { throw ValidationError("--gifs must be at least 0, got \(gifs)") }
    }

    var limit: Int { maxSteps ?? [GraspTask.reach: 50, .lift: 100, .place: 150][task]! }

    var subgoalScheme: SubgoalScheme {
        phaseSubgoals ? .phases : liftThenCarry ? .liftThenCarry(subgoals, setDown: setDown) : subgoals > 0 ? .even(subgoals) : .none
    }

    func makePlanner() -> any Planner {
        switch planner {
        case .cem:
            var s = CEMPlanner.Settings()
            (s.samples, s.elites, s.iterations, s.initialStd) = (samples, elites, iterations, std)
            return CEMPlanner(settings: s)
        case .mppi:
            var s = MPPIPlanner.Settings()
            (s.samples, s.iterations, s.noiseStd, s.temperature) = (samples, iterations, std, temperature)
            return MPPIPlanner(settings: s)
        case .gradient:
            var s = GradientPlanner.Settings()
            (s.iterations, s.learningRate, s.initialStd, s.cemIterations) = (iterations, learningRate, std, cemIterations)
            (s.cem.samples, s.cem.elites, s.cem.initialStd) = (samples, elites, std)
            return GradientPlanner(settings: s)
        }
    }

    func run() throws {
        let started = Date()
        let (config, step, loaded) = try loadWorldModel(checkpoint: checkpoint)
        let model = try planningModel(loaded, source: checkpoint)
        let world = try planningWorld(config, seed: seed)
        let c = model.config
        guard c.channels == 1, c.imageSize == world.config.width, c.imageSize == world.config.height,
              c.actionDim == world.actionNames.count else {
            throw ValidationError("\(checkpoint): the model takes \(c.channels)×\(c.imageSize)×\(c.imageSize) frames and \(c.actionDim) actions; "
                                  + "the grasp world renders 1×\(world.config.height)×\(world.config.width) frames and takes \(world.actionNames.count)")
        }
        if proprioWeight != nil && c.proprioDim == 0 {
            throw ValidationError("--proprio-weight: \(checkpoint) holds a model without proprioception (model.proprio is false)")
        }
        if latentSamples != nil && c.zDim == 0 {
            throw ValidationError("--latent-samples: \(checkpoint) holds a model without a latent variable (model.latent_dim is 0)")
        }
        if subgoalTolerance != nil && c.proprioDim == 0 {
            throw ValidationError("--subgoal-tolerance: \(checkpoint) holds a model without proprioception (model.proprio is false)")
        }
        let outDirectory = out ?? defaultOutDirectory()
        try FileManager.default.createDirectory(atPath: outDirectory, withIntermediateDirectories: true)
        let seeds = (0..<episodes).map { GraspWorld.episodeSeed(seed: seed, index: $0) }
        let weighting: LatentGoalCost.Weighting = cost == .last ? .last : .uniform(horizon)

        if landscape { try writeLandscape(model: model, world: world.config, seed: seeds[0], to: outDirectory + "/landscape.png") }
        var results: [PlanReport.PolicyResult] = []
        let goalCount = subgoalScheme.goalCount(task: task)
        let stageBudget = subgoalSteps ?? max(1, limit / goalCount / execute)
        guard (policy == .planner && criticWeight == 0 && dropPenalty == 0) || agent != nil else {
            throw ValidationError("--policy actor, --policy actor+planner, --critic-weight and --drop-penalty need --agent (an agent checkpoint from jepa train-agent)")
        }
        let learned = try agent.map(loadAgent)
        if let learned, learned.actor.net.fc1.weight.shape[1] != 2 * agentStateWidth(model) {
            throw ValidationError("--agent \(agent!): its actor reads \(learned.actor.net.fc1.weight.shape[1] / 2)-d states; \(checkpoint) gives \(agentStateWidth(model))-d ones")
        }
        var planning = PlannerPolicy(model: model, planner: makePlanner(), horizon: horizon, executeSteps: execute,
                                  weighting: weighting, actionPenalty: actionPenalty, proprioWeight: proprioWeight ?? Self.defaultProprioWeight,
                                  subgoalThreshold: subgoalThreshold,
                                  subgoalSteps: stageBudget, seed: seed)
        if let learned, criticWeight > 0 { planning.terminalValue = criticTerminalValue(learned.critic, weight: criticWeight) }
        planning.subgoalTolerance = subgoalTolerance
        if let learned, dropPenalty > 0 {
            guard let probe = learned.holdProbe else {
                throw ValidationError("--drop-penalty: \(agent!) has no hold probe (train it with jepa train-agent --hold-probe-episodes N)")
            }
            planning.constraints = [holdConstraint(probe, weight: dropPenalty)]
        }
        if let latentSamples {
            var zRNG = RandomGenerator(seed: seed ^ 0x2_1a7e)
            let zero = Tensor.zeros([1, c.zDim])
            planning.latentSamples = latentSamples == 1 ? zero : concat([zero, Tensor.randn([latentSamples - 1, c.zDim], using: &zRNG)], axis: 0)
        }
        if regrasp {
            guard let heldStages = subgoalScheme.heldStages(task: task) else {
                throw ValidationError("--regrasp: needs --task place with --lift-then-carry (the carry is the stage that needs the object in hand)")
            }
            guard let probe = learned?.holdProbe else {
                throw ValidationError("--regrasp: needs --agent with a hold probe (train it with jepa train-agent --hold-probe-episodes N)")
            }
            planning.regrasp = ({ live in probe(live.reshaped([1, live.count])).item }, heldStages)
        }
        if let learned, policy == .actorPlanner { planning.proposal = actorProposal(learned.actor, model: model, horizon: horizon) }
        if policy == .actor, let learned {
            say("\(task.rawValue) with the actor: \(episodes) episodes, at most \(limit) actions each")
            var actor = ActorPolicy(model: model, actor: learned.actor, subgoalThreshold: subgoalThreshold)
            results.append(try run(policy: &actor, name: "actor", seeds: seeds, world: world.config, directory: outDirectory))
        } else {
            say("\(task.rawValue) with \(planner.rawValue): \(episodes) episodes, at most \(limit) actions each")
            results.append(try run(policy: &planning, name: (policy == .actorPlanner ? "actor+" : "") + planner.rawValue + (criticWeight > 0 ? "+critic" : ""), seeds: seeds,
                                   world: world.config, directory: outDirectory))
        }
        if baselines {
            var random = RandomActionPolicy(config: world.config, seed: seed &+ 1)
            results.append(try run(policy: &random, name: "random", seeds: seeds, world: world.config, directory: nil))
            var expert = ExpertPolicy(config: world.config)
            results.append(try run(policy: &expert, name: "expert", seeds: seeds, world: world.config, directory: nil))
        }
        var settings = ["policy": policy.rawValue, "planner": planner.rawValue, "horizon": "\(horizon)", "execute": "\(execute)", "cost": cost.rawValue]
        if let agent { (settings["agent"], settings["critic_weight"]) = (agent, "\(criticWeight)") }
        if dropPenalty > 0 { settings["drop_penalty"] = "\(dropPenalty)" }
        if regrasp { settings["regrasp"] = "true" }
        if let latentSamples { settings["latent_samples"] = "\(latentSamples)" }
        if actionPenalty > 0 { settings["action_penalty"] = "\(actionPenalty)" }
        if c.proprioDim > 0 { settings["proprio_weight"] = "\(proprioWeight ?? Self.defaultProprioWeight)" }
        if subgoalScheme != .none {
            settings["subgoals"] = phaseSubgoals ? "phases" : liftThenCarry ? "lift_then_carry \(subgoals)\(setDown ? " set_down" : "")" : "\(subgoals)"
            settings["subgoal_threshold"] = "\(subgoalThreshold)"
            if let subgoalTolerance { settings["subgoal_tolerance"] = "\(subgoalTolerance)" }
            settings["subgoal_steps"] = "\(stageBudget)"
        }
        switch planner {
        case .cem: (settings["samples"], settings["elites"], settings["iterations"], settings["std"]) = ("\(samples)", "\(elites)", "\(iterations)", "\(std)")
        case .mppi: (settings["samples"], settings["iterations"], settings["std"], settings["temperature"]) = ("\(samples)", "\(iterations)", "\(std)", "\(temperature)")
        case .gradient:
            (settings["iterations"], settings["learning_rate"], settings["std"]) = ("\(iterations)", "\(learningRate)", "\(std)")
            if cemIterations > 0 { (settings["cem_iterations"], settings["samples"], settings["elites"]) = ("\(cemIterations)", "\(samples)", "\(elites)") }
        }
        let report = PlanReport(checkpoint: checkpoint, step: step, task: task.rawValue, settings: settings, seed: seed,
                                maxSteps: limit, results: results, seconds: Date().timeIntervalSince(started))
        try report.json().write(to: URL(fileURLWithPath: outDirectory + "/plan_report.json"), options: .atomic)
        try Data(report.markdown.utf8).write(to: URL(fileURLWithPath: outDirectory + "/plan_report.md"), options: .atomic)
        say("wrote \(outDirectory)/plan_report.json, plan_report.md")
    }

    /// Runs every episode under `policy`; with a `directory`, writes the first `gifs` episodes' GIFs there.
    func run(policy: inout some GraspPolicy, name: String, seeds: [UInt64], world: GraspConfig, directory: String?) throws -> PlanReport.PolicyResult {
        var outcomes: [GraspEpisodeResult] = []
        var planSeconds: [Double] = []
        let line = CountLine()
        for (i, s) in seeds.enumerated() {
            let record = directory != nil && i < gifs
            let result = try runGraspEpisode(config: world, task: task, seed: s, maxSteps: limit, subgoals: subgoalScheme, policy: &policy,
                                             recordFrames: record)
            outcomes.append(result)
            planSeconds += result.planSeconds
            if let directory, record { try writeEpisodeGIF(result, world: world, to: directory + "/episode_\(i).gif") }
            line.show("  \(name): episode \(i + 1)/\(seeds.count), \(outcomes.filter(\.success).count) successes", done: i + 1, total: seeds.count)
        }
        let result = PlanReport.PolicyResult(policy: name, outcomes: outcomes, planSeconds: planSeconds)
        say(String(format: "  %@: %d/%d successes (%.0f %%, 95%% interval %.0f–%.0f %%)", name, result.successes, result.episodes,
                   100 * result.successRate, 100 * result.interval95[0], 100 * result.interval95[1])
            + (result.planSecondsMedian.map { String(format: ", median %.3f s per decision", $0) } ?? ""))
        return result
    }

    /// Live frame | goal frame | the plan's predicted energy so far, one GIF frame per action.
    func writeEpisodeGIF(_ result: GraspEpisodeResult, world: GraspConfig, to path: String) throws {
        let (w, h) = (world.width, world.height)
        let scale = 3
        let goal = Image(channelsFirst: result.goalFrame[...], channels: 1, height: h, width: w)
        let costs = result.planCosts.map(Double.init), observed = result.observedEnergies.map(Double.init)
        let x = costs.indices.map(Double.init)
        let frames = result.frames.enumerated().map { i, pixels -> Image in
            let live = Image(channelsFirst: pixels[...], channels: 1, height: h, width: w)
            let replans = i == 0 ? 0 : min(costs.count, (i - 1) / execute + 1)
            func upToNow(_ v: [Double]) -> [Double] { v.indices.map { $0 < replans ? v[$0] : .nan } }
            // The full series in white fix the axes; the parts so far are drawn over them.
            let plot = linePlot(x: x.count > 1 ? x : [0, 1],
                                series: [(costs, (255, 255, 255)), (observed, (255, 255, 255)),
                                         (upToNow(observed), (40, 90, 200)), (upToNow(costs), (200, 40, 40))],
                                width: w * scale, height: h * scale)
            return contactSheet([[live.upscaled(by: scale), goal.upscaled(by: scale), plot]])
        }
        guard !frames.isEmpty else { return }
        try writeGIF(frames: frames, delayCentiseconds: 15, to: path)
    }

    /// Energy between the target encoder's latent of the goal frame and of frames whose gripper is
    /// moved along x (red) and along y (blue) through the goal's gripper position, everything else
    /// as in the goal; markers at the goal's x (red) and y (blue). A planner can only follow this
    /// landscape if it falls toward the goal.
    func writeLandscape(model: ActionConditionedJEPA, world c: GraspConfig, seed: UInt64, to path: String) throws {
        var rng = RandomGenerator(seed: seed)
        let initial = GraspSimulator.randomState(config: c, rng: &rng)
        let goal = GraspGoal.sample(task: task, state: initial, config: c, rng: &rng)
        let target = goal.goalState(from: initial, config: c)
        let renderer = GraspRenderer(config: c)
        func latents(_ states: [GraspState]) -> Tensor {
            var pixels: [Float] = []
            var frame = [UInt8](repeating: 0, count: c.width * c.height)
            for s in states {
                renderer.render(state: s, into: &frame)
                pixels += frame.map { Float($0) / 255 }
            }
            return model.encode(Tensor(pixels, shape: [states.count, 1, 1, c.height, c.width]))
        }
        let goalLatent = latents([target])
        let positions = Array(stride(from: Float(0), through: Float(c.width - 1), by: 1))
        func sweep(_ move: (inout GraspState, Float) -> Void) -> [Double] {
            let states = positions.map { p -> GraspState in var s = target; move(&s, p); return s }
            let z = latents(states)
            return energyPerClip(predicted: z, target: goalLatent.expanded(to: z.shape), distance: model.config.distance).scalars.map(Double.init)
        }
        let alongX = sweep { s, p in s.gripperX = min(c.gripperXMax, max(c.gripperXMin, p)) }
        let alongY = sweep { s, p in s.gripperY = min(c.gripperYMax, max(c.gripperYMin, p)) }
        let plot = linePlot(x: positions.map(Double.init), series: [(alongX, (200, 40, 40)), (alongY, (40, 90, 200))],
                            markers: [(Double(target.gripperX), (240, 150, 150)), (Double(target.gripperY), (150, 170, 240))])
        try writePNG(plot, to: path)
        say(String(format: "landscape: energy to the goal from %.3f to %.3f along x, %.3f to %.3f along y; wrote %@",
                   alongX.min() ?? .nan, alongX.max() ?? .nan, alongY.min() ?? .nan, alongY.max() ?? .nan, path))

        // Action sweep: from the goal with the gripper `offset` px to the right, hold dx = a for
        // `horizon` steps; the model's predicted energy to the goal against the true one.
        let offset = Float(horizon) * c.maxSpeed * 0.6
        var start = target
        start.gripperX = min(c.gripperXMax, target.gripperX + offset)
        let shift = start.gripperX - target.gripperX
        let amounts = Array(stride(from: Float(-1), through: 1, by: 0.05))
        let startLatent = model.state(latents: latents([start]), proprio: Tensor(start.vector, shape: [1, 1, start.vector.count]))
        let actions = Tensor(amounts.flatMap { a in (0..<horizon).flatMap { _ in [a, 0, 0] } }, shape: [amounts.count, horizon, 3])
        let predicted = noGrad { () -> [Double] in
            let rolled = model.rollout(latents: startLatent.expanded(to: [amounts.count] + Array(startLatent.shape.dropFirst())), actions: actions)
            let last = model.visualPart(rolled.slice(axis: 1, (horizon - 1)..<horizon))
            return energyPerClip(predicted: last, target: goalLatent.expanded(to: last.shape), distance: model.config.distance).scalars.map(Double.init)
        }
        let reached = amounts.map { a -> GraspState in
            var s = start
            for _ in 0..<horizon { GraspSimulator.step(&s, action: [a, 0, 0], config: c) }
            return s
        }
        let zTrue = latents(reached)
        let actual = energyPerClip(predicted: zTrue, target: goalLatent.expanded(to: zTrue.shape), distance: model.config.distance).scalars.map(Double.init)
        let best = -Double(shift) / Double(Float(horizon) * c.maxSpeed)
        let sweepPath = (path as NSString).deletingLastPathComponent + "/action_sweep.png"
        try writePNG(linePlot(x: amounts.map(Double.init), series: [(predicted, (200, 40, 40)), (actual, (40, 90, 200))],
                              markers: [(best, (150, 150, 150))]), to: sweepPath)
        let argPredicted = amounts[predicted.indices.min { predicted[$0] < predicted[$1] }!]
        let argActual = amounts[actual.indices.min { actual[$0] < actual[$1] }!]
        say(String(format: "action sweep (gripper %.1f px right of the goal, dx held %d steps): predicted energy lowest at dx %.2f, true at %.2f, ideal %.2f; wrote %@",
                   shift, horizon, argPredicted, argActual, best, sweepPath))
    }

    /// `runs/<name>/plan-<task>-<planner>` for a checkpoint at `runs/<name>/checkpoints/step_N.h5`.
    func defaultOutDirectory() -> String {
        (runDirectory(ofCheckpoint: checkpoint) as NSString).appendingPathComponent("plan-\(task.rawValue)-\(planner.rawValue)")
    }
}

/// The grasp world a checkpoint was trained in (its data file's world settings over the defaults);
/// refuses `seed` when it is the training data's own.
func planningWorld(_ config: TrainingConfig, seed: UInt64) throws -> GraspWorld {
    let trainingData = try? HDF5File(path: config.data.path, mode: .readOnly)
    if let trainingSeed = try? trainingData?.intAttribute("seed"), UInt64(trainingSeed) == seed {
        throw ValidationError("--seed \(seed) is the seed of the training data (\(config.data.path)); planning episodes need another")
    }
    return try GraspWorld(config: WorldRegistry.config(GraspConfig(), overlay: try? trainingData?.stringAttribute("config")))
}
