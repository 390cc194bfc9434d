import ArgumentParser

/// The `jepa` command line. Each subcommand lives in its own file; register it in `subcommands`.
struct Jepa: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jepa",
        abstract: "JEPA world models on synthetic physics video, trained on CPU.",
        version: "0.1.0",
        subcommands: [BenchCommand.self])
}

Jepa.main()
