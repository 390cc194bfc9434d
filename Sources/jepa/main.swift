import ArgumentParser

struct Jepa: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jepa", abstract: "JEPA world models on synthetic physics video.", version: "0.1.0")
}
Jepa.main()
