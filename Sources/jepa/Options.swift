import Foundation
import ArgumentParser

/// A comma-separated list of integers on the command line, e.g. `--threads 1,2`.
struct IntList: ExpressibleByArgument, Sendable, Equatable {
    var values: [Int]

    init(_ values: [Int]) { self.values = values }

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
        var values: [Int] = []
        for part in parts {
            guard let v = Int(part.trimmingCharacters(in: .whitespaces)) else { return nil }
            values.append(v)
        }
        guard !values.isEmpty else { return nil }
        self.values = values
    }

    var defaultValueDescription: String { values.map(String.init).joined(separator: ",") }
}

/// A comma-separated list of names on the command line, e.g. `--sections sgemm-square`.
struct NameList: ExpressibleByArgument, Sendable {
    var values: [String]

    init?(argument: String) {
        values = argument.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !values.isEmpty, !values.contains("") else { return nil }
    }
}

/// Worker-count settings shared by every subcommand: `--threads` wins, then `JEPA_THREADS`.
enum WorkerThreads {
    static let environmentVariable = "JEPA_THREADS"
    /// OpenBLAS on this platform is built with MAX_THREADS=64.
    static let range = 1...64

    /// The thread counts from `JEPA_THREADS` (one count or a comma list), if it is set.
    static func fromEnvironment() throws -> [Int]? {
        guard let raw = ProcessInfo.processInfo.environment[environmentVariable], !raw.isEmpty else {
            return nil
        }
        guard let list = IntList(argument: raw) else {
            throw ValidationError("\(environmentVariable)='\(raw)' is not a thread count or a comma-separated list of them")
        }
        try validate(list.values, source: environmentVariable)
        return list.values
    }

    static func validate(_ counts: [Int], source: String) throws {
        for n in counts where !range.contains(n) {
            throw ValidationError("\(source): thread count \(n) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
    }
}

/// The run directory of a checkpoint: `runs/<name>` for `runs/<name>/checkpoints/step_N.h5`, else the
/// checkpoint's own directory. Reports default to a subdirectory of it.
func runDirectory(ofCheckpoint checkpoint: String) -> String {
    let directory = (checkpoint as NSString).deletingLastPathComponent
    return (directory as NSString).lastPathComponent == "checkpoints" ? (directory as NSString).deletingLastPathComponent : directory
}

/// `--config` and `--strict/--no-strict` for commands that accept other tools' weight files as
/// checkpoints (PyTorch via tools/torch_to_hdf5.py, Keras): those files carry no hyperparameters.
struct ForeignWeightOptions: ParsableArguments {
    @Option(name: .customLong("config"),
            help: ArgumentHelp("Run config whose model a foreign weight file fills (not needed for jepa-swift checkpoints).", valueName: "file.yaml"))
    var modelConfig: String?

    @Flag(inversion: .prefixedNo, help: "Refuse missing, unexpected or mis-shaped keys (--no-strict loads what matches and lists the rest).")
    var strict = true
}
