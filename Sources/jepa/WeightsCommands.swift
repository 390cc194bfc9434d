import ArgumentParser
import Checkpoints
import Config
import Evaluation
import Foundation
import HDF5
import JEPA
import Tensors

/// `jepa inspect FILE`: every tensor of a checkpoint or foreign weight file, and how it maps.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List every tensor of a weight file (ours, PyTorch-as-HDF5, Keras) with shape, dtype and where it maps.")

    @Argument(help: ArgumentHelp("Weight file.", valueName: "file.h5"))
    var file: String

    @Option(name: .customLong("config"),
            help: ArgumentHelp("Run config to map a foreign file onto (a jepa-swift checkpoint uses its own).", valueName: "file.yaml"))
    var modelConfig: String?

    @Option(help: ArgumentHelp("Keras files: the module (group[.prefix]) whose layers receive the file's layers.", valueName: "name"))
    var kerasModule = "context_encoder"

    func run() throws {
        let weights = try WeightFile.read(file)
        var config: TrainingConfig?
        if weights.format == .jepa {
            config = try ConfigLoader.load(TrainingConfig.self, yaml: try CheckpointIO.read(file).config, file: file + " (config attribute)")
        } else if let modelConfig {
            config = try ConfigLoader.loadFile(TrainingConfig.self, path: modelConfig)
        }
        print("\(file): \(weights.format.rawValue) weight file, \(weights.entries.count) tensors, "
              + "\(weights.entries.reduce(0) { $0 + $1.tensor.count }) values")
        guard let config else {
            for entry in weights.entries {
                print("  \(entry.name)  \(entry.tensor.shape)  \(entry.storedType)")
            }
            printSkipped(weights)
            print("(pass --config run.yaml to see how these map onto a model)")
            return
        }
        var rng = RandomGenerator(seed: config.seed)
        let model = try makeWorldModel(config, rng: &rng)
        let mapping = WeightMapping(weights, onto: model.checkpointModules, kerasTarget: kerasModule)
        for row in mapping.rows {
            let target = row.target.map { "→ \($0)" } ?? "✗ not loaded"
            print("  \(row.source)  \(row.shape)  \(row.storedType)  \(target)\(row.note.isEmpty ? "" : "  (\(row.note))")")
        }
        printSkipped(weights)
        for note in mapping.notes { print("note: \(note)") }
        for key in mapping.missing { print("missing: \(key)") }
        print(mapping.isComplete ? "complete: every parameter of \(config.name) is provided"
              : "incomplete: \(mapping.missing.count) missing, \(mapping.unexpected.count) unexpected, \(mapping.mismatched.count) mis-shaped (strict loading refuses; --no-strict loads what matches)")
    }

    func printSkipped(_ weights: WeightFile) {
        for (path, reason) in weights.skipped { print("  skipped \(path): \(reason)") }
    }
}

/// `jepa convert IN OUT --from torch|keras --config M`: a foreign weight file as our checkpoint.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert PyTorch (via tools/torch_to_hdf5.py) or Keras weights into a jepa-swift checkpoint.")

    enum Source: String, ExpressibleByArgument, CaseIterable { case torch, keras }

    @Argument(help: ArgumentHelp("Foreign weight file (HDF5).", valueName: "in.h5"))
    var input: String

    @Argument(help: ArgumentHelp("Checkpoint to write.", valueName: "out.h5"))
    var output: String

    @Option(help: "The tool that wrote the input.")
    var from: Source

    @OptionGroup var weights: ForeignWeightOptions

    @Option(help: ArgumentHelp("Keras files: the module (group[.prefix]) whose layers receive the file's layers.", valueName: "name"))
    var kerasModule = "context_encoder"

    @Flag(help: "Replace an existing output file.")
    var force = false

    func run() throws {
        guard let configPath = weights.modelConfig else {
            throw ValidationError("--config is required: a \(from.rawValue) file does not say how the model is built (heads, LayerNorm eps, GELU flavour)")
        }
        if FileManager.default.fileExists(atPath: output), !force {
            throw ValidationError("\(output) exists; pass --force to replace it")
        }
        let file = try WeightFile.read(input, format: from == .torch ? .torch : .keras3)
        let config = try ConfigLoader.loadFile(TrainingConfig.self, path: configPath)
        var rng = RandomGenerator(seed: config.seed)
        let model = try makeWorldModel(config, rng: &rng)
        let mapping = WeightMapping(file, onto: model.checkpointModules, kerasTarget: kerasModule)
        let problems = try mapping.load(into: model.checkpointModules, strict: weights.strict, path: input)
        for note in mapping.notes { say("note: \(note)") }
        for problem in problems { say("not loaded (keeps its random initialisation): \(problem)") }
        let checkpoint = Checkpoint(step: 0, config: try ConfigLoader.resolvedYAML(config), modules: model.checkpointModules,
                                    optimizer: nil, state: ["converted_from": .string(input)])
        try CheckpointIO.write(checkpoint, to: output)
        let loaded = mapping.rows.filter { $0.target != nil }.count
        say("wrote \(output): \(loaded) of \(file.entries.count) tensors of \(input) mapped onto \(config.name)"
            + (problems.isEmpty ? "" : "; \(problems.count) problems listed above"))
    }
}

/// `jepa embed`: frozen encoder features of every clip, for probes in other tools.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Write an encoder's features of every clip of an HDF5 file ([N, tokens, D], float32).")

    @Option(help: ArgumentHelp("Checkpoint, ours or foreign (with --config).", valueName: "file.h5"))
    var checkpoint: String

    @OptionGroup var weights: ForeignWeightOptions

    @Option(help: ArgumentHelp("Clips: /frames [N, T, H, W] or [N, T, C, H, W], uint8 or float32.", valueName: "clips.h5"))
    var input: String

    @Option(help: ArgumentHelp("Features file to write (dataset /features).", valueName: "features.h5"))
    var output: String

    @Option(help: "Which encoder: target (the EMA encoder) or context.")
    var which: EncoderChoice = .target

    @Option(help: "Clips per batch.")
    var batch = 16

    func run() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        let (config, step, model) = try loadWorldModel(checkpoint: checkpoint, config: weights.modelConfig, strict: weights.strict, log: say)
        let clips = try ClipFile(path: input)
        guard [clips.channels, clips.height, clips.width] == config.frameShape else {
            throw ValidationError("\(input): frames are \(clips.channels)×\(clips.height)×\(clips.width) (C×H×W); the model takes \(config.frameShape.map(String.init).joined(separator: "×"))")
        }
        let temporary = "\(output).tmp-\(getpid())"
        var shape: [Int] = []
        do {
            let file = try HDF5File(path: temporary, mode: .truncate)
            let line = CountLine()
            for first in stride(from: 0, to: clips.count, by: batch) {
                let rows = first..<min(first + batch, clips.count)
                let features = try encoderFeatures(model, clips: try clips.read(rows), which: which)
                if shape.isEmpty {
                    shape = [clips.count, features.shape[1], features.shape[2]]
                    try file.createDataset("features", shape: shape, type: .float32)
                }
                try file.writeRows("features", start: first, shape: features.shape, float32: features.scalars)
                line.show("embedded \(rows.upperBound)/\(clips.count) clips", done: rows.upperBound, total: clips.count)
            }
            try file.setAttribute("checkpoint", checkpoint)
            try file.setAttribute("step", step)
            try file.setAttribute("encoder", which.rawValue)
            try file.setAttribute("kind", config.kind.rawValue)
            try file.close()
            guard rename(temporary, output) == 0 else { throw ValidationError("cannot rename \(temporary) to \(output)") }
        } catch {
            unlink(temporary)
            throw error
        }
        say("wrote \(output): features \(shape) from the \(which.rawValue) encoder")
    }
}

extension EncoderChoice: ExpressibleByArgument {}
