import Agent
import ArgumentParser
import Checkpoints
import Foundation
import JEPA
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

    @Flag(help: "Subgoals at the demonstration's phase changes (as jepa plan --phase-subgoals).")
    var phaseSubgoals = false

    @Option(help: "Hidden width of the actor and the critic.")
    var hidden = 128

    @Option(help: "Optimisation steps for each network.")
    var steps = 3000

    @Option(help: ArgumentHelp("Agent checkpoint to write (groups actor, critic).", valueName: "agent.h5"))
    var out: String

    func run() throws {
        let (config, _, loaded) = try loadWorldModel(checkpoint: checkpoint)
        let model = try planningModel(loaded, source: checkpoint)
        let world = try planningWorld(config, seed: seed).config
        let limit = maxSteps ?? [GraspTask.reach: 50, .lift: 100, .place: 150][task]!
        var examples = AgentExamples(latentDim: agentStateWidth(model), actionDim: model.config.actionDim)
        var successes = 0
        for i in 0..<episodes {
            let planner = PlannerPolicy(model: model, planner: CEMPlanner(settings: CEMPlanner.Settings()), horizon: horizon, executeSteps: 1,
                                        weighting: .uniform(horizon), proprioWeight: PlanCommand.defaultProprioWeight, seed: seed &+ UInt64(i))
            var recorder = RecordingPolicy(planner, model: model)
            let result = try runGraspEpisode(config: world, task: task, seed: GraspWorld.episodeSeed(seed: seed, index: i), maxSteps: limit,
                                             subgoals: phaseSubgoals ? .phases : .none, policy: &recorder)
            recorder.finish(into: &examples, horizon: costHorizon)
            successes += result.success ? 1 : 0
            if isatty(STDERR_FILENO) != 0 {
                FileHandle.standardError.write(Data("\r  recorded \(i + 1)/\(episodes) episodes, \(examples.count) decisions, \(successes) successes\u{1B}[K".utf8))
            }
        }
        if isatty(STDERR_FILENO) != 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        say("recorded \(examples.count) decisions of \(episodes) planner episodes (\(successes) reached the goal)")
        var rng = RandomGenerator(seed: seed)
        let actor = Actor(latentDim: examples.latentDim, actionDim: examples.actionDim, hidden: hidden, rng: &rng)
        let critic = Critic(latentDim: examples.latentDim, hidden: hidden, rng: &rng)
        var settings = AgentTraining.Settings()
        settings.steps = steps
        let actorLoss = AgentTraining.fit(actor, on: examples, settings: settings)
        let criticLoss = AgentTraining.fit(critic, on: examples, settings: settings)
        say(String(format: "actor MSE %.4f → %.4f, critic MSE %.4f → %.4f", actorLoss.first!, actorLoss.last!, criticLoss.first!, criticLoss.last!))
        try CheckpointIO.write(Checkpoint(step: steps, config: "", modules: ["actor": actor, "critic": critic], optimizer: nil, state: [
            "world_model": .string(checkpoint), "task": .string(task.rawValue), "decisions": .int(examples.count),
            "latent_dim": .int(examples.latentDim), "action_dim": .int(examples.actionDim), "hidden": .int(hidden),
        ]), to: out)
        say("wrote \(out): actor and critic from \(examples.count) decisions of \(episodes) planner episodes (\(successes) successful)")
    }
}

/// The actor and critic of an agent checkpoint written by `jepa train-agent`.
func loadAgent(_ path: String) throws -> (actor: Actor, critic: Critic) {
    let saved = try CheckpointIO.read(path)
    guard case let .int(latent)? = saved.state["latent_dim"], case let .int(action)? = saved.state["action_dim"],
          case let .int(hidden)? = saved.state["hidden"] else {
        throw ValidationError("\(path) is not an agent checkpoint (written by jepa train-agent): no latent_dim/action_dim/hidden")
    }
    var rng = RandomGenerator(seed: 0)
    let actor = Actor(latentDim: latent, actionDim: action, hidden: hidden, rng: &rng)
    let critic = Critic(latentDim: latent, hidden: hidden, rng: &rng)
    try CheckpointIO.restore(saved, from: path, into: ["actor": actor, "critic": critic], optimizer: nil)
    return (actor, critic)
}
