import ArgumentParser
import Distributed
import Config
import Evaluation
import Foundation
import Imaging
import JEPA
import Tensors
import Worlds

/// `jepa train`: trains a world model from a YAML config (or the embedded default), with progress,
/// metrics, checkpoints, clean stops on Ctrl-C and exact resume.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a JEPA world model from a YAML config.",
        discussion: """
            Without --config, trains the embedded default: a small next-frame model of the balls on \
            \(TrainCommand.defaultDataPath), which it generates when missing. Writes runs/<name>/: \
            config.yaml (resolved), metrics.jsonl, loss.png, checkpoints/step_<N>.h5, best.h5, latest. \
            Ctrl-C finishes the step, writes a checkpoint and exits 0; `jepa train --resume runs/<name>` \
            continues to the same numbers as an uninterrupted run (same thread count).
            """)

    @Option(help: ArgumentHelp("Run config (YAML); default: the embedded one.", valueName: "file.yaml"))
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a config key, e.g. --set optim.lr=3e-4 (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(help: ArgumentHelp("Resume the run in this directory (its config.yaml and latest checkpoint).", valueName: "runs/NAME"))
    var resume: String?

    @Option(help: ArgumentHelp("Directory that holds the runs.", valueName: "dir"))
    var runs = "runs"

    @Flag(help: "Replace an existing run of the same name.")
    var force = false

    @Option(help: ArgumentHelp("Worker threads (default: $JEPA_THREADS, else the core count).", valueName: "n"))
    var threads: Int?

    @Option(help: ArgumentHelp("Start from the weights of a checkpoint or a foreign file (PyTorch via tools/torch_to_hdf5.py, Keras), matched by name; the optimiser starts fresh.", valueName: "file.h5"))
    var initFrom: String?

    @Flag(inversion: .prefixedNo, help: "With --init-from: refuse missing, unexpected or mis-shaped keys (--no-strict loads what matches and lists the rest).")
    var strict = true

    static let defaultDataPath = TrainingConfig.embeddedDefaultDataPath

    func validate() throws {
        if let threads { try WorkerThreads.validate([threads], source: "--threads") } else { _ = try WorkerThreads.fromEnvironment() }
        if resume != nil && (config != nil || !overrides.isEmpty) {
            throw ValidationError("--resume continues a run with its saved config.yaml; --config and --set cannot change it")
        }
        if resume != nil && initFrom != nil {
            throw ValidationError("--init-from starts a new run; --resume continues one from its own checkpoint")
        }
    }

    func run() throws {
        if let threads { Parallel.threads = threads } else if let env = try WorkerThreads.fromEnvironment() { Parallel.threads = env[0] }
        // Under Open MPI's mpirun: data-parallel ranks; rank 0 alone touches the run directory and prints.
        let communicator: any Communicator = try MPICommunicator.fromEnvironment() ?? SingleProcess()
        defer { communicator.finish() }
        let lead = communicator.rank == 0
        let (trainingConfig, runDirectory) = try resolveRun(checkExisting: lead)
        let yaml = try ConfigLoader.resolvedYAML(trainingConfig)
        if lead { try ensureData(trainingConfig) }
        var barrier = [0.0]
        try communicator.allReduceSum(&barrier)   // the others wait for rank 0's data
        // A run replaced with --force is set aside until the new one has started, so that a bad
        // config or dataset leaves it as it was.
        let replaced = resume == nil && lead ? try prepareRunDirectory(runDirectory) : nil
        let trainer: Trainer
        do {
            if resume == nil && lead { try yaml.write(toFile: runDirectory + "/config.yaml", atomically: true, encoding: .utf8) }
            trainer = try Trainer(config: trainingConfig, runDirectory: runDirectory, configYAML: yaml, resume: resume != nil,
                                  communicator: communicator)
            if let initFrom {
                let mapping = try initialiseWeights(trainer.model, from: initFrom, strict: strict, log: say)
                say("initialised \(mapping.rows.filter { $0.target != nil }.count) tensors from \(initFrom)")
            }
        } catch {
            if resume == nil && lead { try? FileManager.default.removeItem(atPath: runDirectory) }   // a run that never started
            if let replaced { try? FileManager.default.moveItem(atPath: replaced, toPath: runDirectory) }
            throw error
        }
        if let replaced { try FileManager.default.removeItem(atPath: replaced) }

        StopSignal.install()
        let progress = TrainingProgress(total: trainingConfig.train.steps, startStep: trainer.step)
        if resume != nil && lead { say("resuming \(runDirectory) at step \(trainer.step)") }
        if lead { say("training \(trainingConfig.name): \(trainer.model.trainableParameters.reduce(0) { $0 + $1.tensor.count }) trainable parameters, "
            + "\(trainingConfig.train.steps) steps, batch \(trainingConfig.data.batchSize)"
            + (communicator.size > 1 ? " (\(trainingConfig.data.batchSize / communicator.size) on each of \(communicator.size) ranks)" : "")
            + ", \(Parallel.threads) threads → \(runDirectory)") }
        do {
            try trainer.run(shouldStop: Self.stopRequest(communicator), report: lead ? progress.report : { _ in })
        } catch let error as TrainingError {
            progress.finishLine()
            throw ValidationError(error.description)
        }
        progress.finishLine()
        guard lead else { return }
        try writeLossCurve(runDirectory)
        if trainer.step < trainingConfig.train.steps {
            say("stopped at step \(trainer.step) of \(trainingConfig.train.steps); checkpoint \(trainer.lastCheckpoint ?? "-")")
            say("resume with: jepa train --resume \(runDirectory)")
        } else {
            if trainingConfig.kind == .nextFrame && trainingConfig.train.calibrationClips > 0, let last = trainer.lastCheckpoint {
                if let model = try loadWorldModel(checkpoint: last).model as? ActionConditionedJEPA {
                    do {
                        try storeSurpriseCalibration(model, checkpoint: last, clips: trainingConfig.data.path, count: trainingConfig.train.calibrationClips)
                    } catch let error as EvaluationError {
                        // Training itself succeeded and its checkpoint stands (clips too short for the scoring horizon, say).
                        say("note: no surprise calibration stored: \(error.description); jepa calibrate --checkpoint \(last) --clips F stores one")
                    }
                }
            }
            say("done: \(runDirectory)/metrics.jsonl, \(runDirectory)/loss.png, checkpoint \(trainer.lastCheckpoint ?? "-")")
        }
    }

    /// Ctrl-C / SIGTERM. With several ranks the decision is collective (any rank asked): one rank
    /// stopping alone would leave the others waiting in an all-reduce.
    static func stopRequest(_ communicator: any Communicator) -> () -> Bool {
        guard communicator.size > 1 else { return { StopSignal.requested } }
        return {
            var flag = [StopSignal.requested ? 1.0 : 0.0]
            return (try? communicator.allReduceMax(&flag)).map { flag[0] > 0 } ?? true
        }
    }

    /// The config and run directory, from --resume or from --config/--set (or the embedded default).
    func resolveRun(checkExisting: Bool = true) throws -> (TrainingConfig, String) {
        if let resume {
            let path = resume + "/config.yaml"
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("--resume: \(path) does not exist; is '\(resume)' a run directory?")
            }
            return (try ConfigLoader.loadFile(TrainingConfig.self, path: path), resume)
        }
        let loaded: TrainingConfig
        if let config {
            loaded = try ConfigLoader.loadFile(TrainingConfig.self, path: config, overrides: overrides)
        } else {
            loaded = try ConfigLoader.load(TrainingConfig.self, yaml: TrainingConfig.embeddedDefaultYAML, file: "<embedded default>", overrides: overrides)
        }
        let directory = runs + "/" + loaded.name
        if checkExisting, FileManager.default.fileExists(atPath: directory), !force {
            throw ValidationError("run directory \(directory) exists; continue it with --resume \(directory) or replace it with --force")
        }
        return (loaded, directory)
    }

    /// Creates the run directory; an existing one (only with --force) is moved aside and its new
    /// path returned, for the caller to delete once the new run has started.
    func prepareRunDirectory(_ directory: String) throws -> String? {
        var replaced: String?
        if FileManager.default.fileExists(atPath: directory) {
            let aside = directory + ".replaced-\(ProcessInfo.processInfo.processIdentifier)"
            try FileManager.default.moveItem(atPath: directory, toPath: aside)
            replaced = aside
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return replaced
    }

    /// Generates the default dataset when the config asks for it and it is missing.
    func ensureData(_ config: TrainingConfig) throws {
        let path = config.data.path
        guard !FileManager.default.fileExists(atPath: path) else { return }
        guard path == Self.defaultDataPath else {
            throw ValidationError("data.path: \(path) does not exist (make it with `jepa data generate`)")
        }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let episodes = TrainingConfig.embeddedDefaultEpisodes
        say("generating \(path) (balls, \(episodes) episodes × 32 frames)")
        let bar = ProgressBar(label: "balls:")
        _ = try generateDataset(world: BallsWorld(), episodes: episodes, frames: 32, seed: 0, to: path, progress: bar.update)
    }

    func writeLossCurve(_ runDirectory: String) throws {
        let text = try String(contentsOfFile: runDirectory + "/metrics.jsonl", encoding: .utf8)
        let records = text.split(separator: "\n").compactMap { line -> (Double, Double)? in
            guard let data = line.data(using: .utf8),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let step = json["step"] as? Double, let loss = json["prediction"] as? Double else { return nil }
            return (step, loss)
        }
        guard records.count >= 2 else { return }
        let image = linePlot(x: records.map(\.0), series: [(values: records.map(\.1), color: (200, 40, 40))], logY: true)
        try writePNG(image, to: runDirectory + "/loss.png")
    }
}

/// Set by SIGINT/SIGTERM; the training loop checks it after every step.
enum StopSignal {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0
    static var requested: Bool { flag != 0 }

    static func install() {
        for s in [SIGINT, SIGTERM] {
            signal(s) { _ in StopSignal.flag = 1 }
        }
    }
}

/// Progress on stderr: one redrawn line on a terminal (step, loss, lr, steps/s, ETA), otherwise one
/// line per logged step.
final class TrainingProgress {
    let total: Int, startStep: Int
    let isTerminal = isatty(STDERR_FILENO) != 0
    let started = Date()

    init(total: Int, startStep: Int) { (self.total, self.startStep) = (total, startStep) }

    func report(_ event: TrainingEvent) {
        switch event {
        case let .step(r):
            let elapsed = Date().timeIntervalSince(started)
            let rate = Double(r.step - startStep) / max(elapsed, 1e-9)
            let eta = rate > 0 ? Double(total - r.step) / rate : .nan
            // Action-conditioned runs show the energy of predicting "nothing changes" beside theirs.
            let copy = r.copyBaseline.map { String(format: " (copy %.4f)", $0) } ?? ""
            var line = String(format: "step %d/%d  loss %.4f  pred %.4f%@  lr %.2e  ema %.4f  std %.3f  rank %.1f  %.2f steps/s  ETA %@",
                              r.step, total, r.loss, r.prediction, copy, r.learningRate, r.momentum, r.targetStd,
                              r.effectiveRank, rate, formatDuration(eta))
            if isTerminal { line = "\r" + line + "\u{1B}[K" } else { line += "\n" }
            FileHandle.standardError.write(Data(line.utf8))
        case let .checkpoint(path, step):
            FileHandle.standardError.write(Data(((isTerminal ? "\n" : "") + "checkpoint step \(step): \(path)\n").utf8))
        case let .collapseWarning(step, std):
            FileHandle.standardError.write(Data(((isTerminal ? "\n" : "") + String(format: "WARNING step %d: target features are collapsing (mean std %.4f below the floor); consider raising loss.variance or lowering optim.lr\n", step, std)).utf8))
        }
    }

    func finishLine() { if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) } }
}

private func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? "\(s / 3600)h\((s % 3600) / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
}
