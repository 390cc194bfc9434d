import ArgumentParser
import Tensors

/// The `jepa` command line. Each subcommand lives in its own file; register it in `subcommands`.
struct Jepa: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jepa",
        abstract: "JEPA world models on synthetic physics video, trained on CPU.",
        version: Toolkit.version,
        subcommands: [BenchCommand.self, DataCommand.self, TrainCommand.self, EvalCommand.self, ProbeCommand.self, ScoreCommand.self, CalibrateCommand.self, PlanCommand.self,
                      EmbedCommand.self, InspectCommand.self, ConvertCommand.self, SweepCommand.self, TrainAgentCommand.self])
}

Jepa.main()
