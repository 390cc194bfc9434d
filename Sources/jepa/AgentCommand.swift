import Agent
import ArgumentParser
import Checkpoints
import Foundation
import HDF5
import JEPA
import NN
import Planning
import Tensors
import Worlds

/// `jepa train-agent`: run the planner in the grasp world, record its decisions, and fit the
/// actor (imitating its first actions) and the critic (the cost-to-go that followed).
struct TrainAgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-agent",
        abstract: "Train the agent's actor and critic from planner episodes of an action-conditioned checkpoint.")

    @Option(help: ArgumentHelp("World-model checkpoint (action-conditioned).", valueName: "file.h5"))
    var checkpoint: String

    @Option(help: "Task of the recorded episodes: reach, lift or place.")
    var task: GraspTask = .reach

    @Option(help: "Planner episodes to record.")
    var episodes = 30

    @Option(help: "Seed of the recorded episodes (keep it apart from jepa plan's evaluation seeds).")
    var seed: UInt64 = 6000

    @Option(help: "Actions per episode at most (default: 50 reach, 100 lift, 150 place).")
    var maxSteps: Int?

    @Option(help: "Planning horizon of the recorded planner (CEM 300 × 10).")
    var horizon = 5

    @Option(help: "Cost-to-go target: the sum of the live energies of the next this many decisions.")
    var costHorizon = 5

    @Option(help: "Subgoal frames before the goal, from a demonstration (as jepa plan --subgoals).")
    var subgoals = 0

    @Flag(help: "Subgoals at the demonstration's phase changes (as jepa plan --phase-subgoals).")
    var phaseSubgoals = false

    @Flag(help: "Place as a lift followed by a carry (as jepa plan --lift-then-carry).")
    var liftThenCarry = false

    @Option(help: "Hidden width of the actor and the critic.")
    var hidden = 128

    @Option(help: "Optimisation steps for each network.")
    var steps = 3000

    @Option(help: "Episodes of the world model's training data to fit the hold probe on (the cost's \"don't drop the object\" term, jepa plan --drop-penalty); 0: no probe.")
    var holdProbeEpisodes = 200

    @Option(help: ArgumentHelp("Dataset for the hold probe (default: the world model's data.path).", valueName: "file.h5"))
    var data: String?

    @Option(help: ArgumentHelp("Agent checkpoint to write (groups actor, critic, hold_probe).", valueName: "agent.h5"))
    var out: String

    func run() throws {
        let (config, _, loaded) = try loadWorldModel(checkpoint: checkpoint)
        let model = try planningModel(loaded, source: checkpoint)
        let world = try planningWorld(config, seed: seed).config
        let limit = maxSteps ?? [GraspTask.reach: 50, .lift: 100, .place: 150][task]!
        guard subgoals >= 0, !(phaseSubgoals && liftThenCarry) else {
            throw ValidationError("--subgoals must be non-negative; --phase-subgoals and --lift-then-carry choose different subgoals, give one")
        }
        let scheme: SubgoalScheme = phaseSubgoals ? .phases : liftThenCarry ? .liftThenCarry(subgoals) : subgoals > 0 ? .even(subgoals) : .none
        let stageBudget = max(1, limit / scheme.goalCount(task: task))
        var examples = AgentExamples(latentDim: agentStateWidth(model), actionDim: model.config.actionDim)
        var successes = 0
        let line = CountLine()
        for i in 0..<episodes {
            let planner = PlannerPolicy(model: model, planner: CEMPlanner(settings: CEMPlanner.Settings()), horizon: horizon, executeSteps: 1,
                                        weighting: .uniform(horizon), proprioWeight: PlanCommand.defaultProprioWeight,
                                        subgoalSteps: stageBudget, seed: seed &+ UInt64(i))
            var recorder = RecordingPolicy(planner, model: model)
            let result = try runGraspEpisode(config: world, task: task, seed: GraspWorld.episodeSeed(seed: seed, index: i), maxSteps: limit,
                                             subgoals: scheme, policy: &recorder)
            recorder.finish(into: &examples, horizon: costHorizon)
            successes += result.success ? 1 : 0
            line.show("  recorded \(i + 1)/\(episodes) episodes, \(examples.count) decisions, \(successes) successes", done: i + 1, total: episodes)
        }
        say("recorded \(examples.count) decisions of \(episodes) planner episodes (\(successes) reached the goal)")
        var rng = RandomGenerator(seed: seed)
        let actor = Actor(latentDim: examples.latentDim, actionDim: examples.actionDim, hidden: hidden, rng: &rng)
        let critic = Critic(latentDim: examples.latentDim, hidden: hidden, rng: &rng)
        var settings = AgentTraining.Settings()
        settings.steps = steps
        let actorLoss = AgentTraining.fit(actor, on: examples, settings: settings)
        let criticLoss = AgentTraining.fit(critic, on: examples, settings: settings)
        say(String(format: "actor MSE %.4f → %.4f, critic MSE %.4f → %.4f", actorLoss.first!, actorLoss.last!, criticLoss.first!, criticLoss.last!))
        var modules: [String: Module] = ["actor": actor, "critic": critic]
        if holdProbeEpisodes > 0 {
            let probe = HoldProbe(stateWidth: examples.latentDim, rng: &rng)
            let (states, held) = try holdProbeData(model: model, path: data ?? config.data.path, episodes: holdProbeEpisodes)
            let loss = AgentTraining.fit(probe, states: states, held: held, settings: settings)
            let predicted = noGrad { probe(Tensor(states, shape: [held.count, examples.latentDim])) }.scalars
            let accuracy = zip(predicted, held).filter { ($0 > 0.5) == ($1 > 0.5) }.count
            say(String(format: "hold probe on %d frames (%.0f %% holding): MSE %.4f → %.4f, accuracy %.3f",
                       held.count, 100 * held.reduce(0, +) / Float(held.count), loss.first!, loss.last!, Double(accuracy) / Double(held.count)))
            modules["hold_probe"] = probe
        }
        try CheckpointIO.write(Checkpoint(step: steps, config: "", modules: modules, optimizer: nil, state: [
            "world_model": .string(checkpoint), "task": .string(task.rawValue), "decisions": .int(examples.count),
            "latent_dim": .int(examples.latentDim), "action_dim": .int(examples.actionDim), "hidden": .int(hidden),
            "hold_probe": .int(holdProbeEpisodes > 0 ? 1 : 0),
        ]), to: out)
        say("wrote \(out): actor and critic from \(examples.count) decisions of \(episodes) planner episodes (\(successes) successful)")
    }
}

/// Every other frame of the first `episodes` episodes of a grasp dataset as world-model states
/// (flattened, [N·W]) and whether an object is held in it (the `*.held` state columns), [N].
func holdProbeData(model: ActionConditionedJEPA, path: String, episodes: Int) throws -> (states: [Float], held: [Float]) {
    let file = try HDF5File(path: path, mode: .readOnly)
    let names = try JSONDecoder().decode([String].self, from: Data(file.stringAttribute("state_names").utf8))
    let heldColumns = names.indices.filter { names[$0].hasSuffix(".held") }
    guard !heldColumns.isEmpty else { throw ValidationError("\(path): no *.held state column; the hold probe needs a grasp dataset") }
    let shape = try file.shape(of: "frames")
    let n = min(episodes, shape[0]), t = shape[1], pixels = shape[2] * shape[3]
    let c = model.config
    guard shape[2] == c.imageSize && shape[3] == c.imageSize && c.channels == 1 else {
        throw ValidationError("\(path): frames are \(shape[2])×\(shape[3]); the model takes \(c.channels)×\(c.imageSize)×\(c.imageSize)")
    }
    var states: [Float] = [], held: [Float] = []
    for episode in 0..<n {
        let frames = try file.readUInt8("frames", rows: episode..<(episode + 1)).values
        let raw = try file.readFloat32("states", rows: episode..<(episode + 1)).values
        let width = raw.count / t
        let picked = Array(Swift.stride(from: 0, to: t, by: 2))
        let x = Tensor(picked.flatMap { f in frames[(f * pixels)..<((f + 1) * pixels)].map { Float($0) / 255 } },
                       shape: [picked.count, 1, c.imageSize, c.imageSize])
        let p = max(1, c.proprioDim)
        let proprio = Tensor(picked.flatMap { f in (0..<p).map { raw[f * width + $0] } }, shape: [picked.count, p])
        states += noGrad { agentStates(model, pixels: x, proprio: proprio) }.scalars
        held += picked.map { f in heldColumns.contains { raw[f * width + $0] > 0.5 } ? 1 : 0 }
    }
    return (states, held)
}

/// The actor and critic of an agent checkpoint written by `jepa train-agent`, and its hold probe if it has one.
func loadAgent(_ path: String) throws -> (actor: Actor, critic: Critic, holdProbe: HoldProbe?) {
    let saved = try CheckpointIO.read(path)
    guard case let .int(latent)? = saved.state["latent_dim"], case let .int(action)? = saved.state["action_dim"],
          case let .int(hidden)? = saved.state["hidden"] else {
        throw ValidationError("\(path) is not an agent checkpoint (written by jepa train-agent): no latent_dim/action_dim/hidden")
    }
    var rng = RandomGenerator(seed: 0)
    let actor = Actor(latentDim: latent, actionDim: action, hidden: hidden, rng: &rng)
    let critic = Critic(latentDim: latent, hidden: hidden, rng: &rng)
    var probe: HoldProbe?
    if case .int(1)? = saved.state["hold_probe"] { probe = HoldProbe(stateWidth: latent, rng: &rng) }
    var modules: [String: Module] = ["actor": actor, "critic": critic]
    if let probe { modules["hold_probe"] = probe }
    try CheckpointIO.restore(saved, from: path, into: modules, optimizer: nil)
    return (actor, critic, probe)
}
