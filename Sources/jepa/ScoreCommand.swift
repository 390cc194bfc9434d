import ArgumentParser
import Evaluation
import Foundation
import JEPA

/// `jepa score`: energy-based surprise of every clip of an HDF5 file under a video JEPA checkpoint.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Energy-based surprise of clips under a world-model checkpoint (kind: video or next_frame).",
        discussion: "Surprise is the energy between the model's prediction of frames it has not seen and the target "
            + "encoder's features of those frames. kind: next_frame — each frame is predicted open loop --horizon frames "
            + "ahead (default \(defaultSurpriseHorizon)) from the --context frames before that; by default the context grows: "
            + "every frame after the first 4 is scored, from all the frames up to --horizon before it (up to the predictor's "
            + "window), the first few from the first 4 frames, fewer steps ahead. kind: video — a "
            + "window of the model's clip length slides over each clip; its first --context frames (default: half the "
            + "window) are context and the rest are predicted; the window's energy is attributed to its first "
            + "predicted frame. Windows start every --stride frames. Writes one row per clip (clip, surprise_max, "
            + "surprise_mean) and, with --frames-output, one row per scored frame (clip, frame, energy). next_frame models "
            + "score the calibrated energy: the squared Mahalanobis distance of a frame's prediction error under a Gaussian "
            + "fitted to the errors on ordinary clips, per latent dimension — by default the fit jepa train stored in the "
            + "checkpoint (for the default context and horizon), or one fitted on --calibration clips; --raw-energy scores "
            + "the model's own energy. A video JEPA scores its own energy, or with --calibration clips the calibrated "
            + "energy of its error averaged over each predicted frame's tokens.")

    @Option(help: ArgumentHelp("Checkpoint (.h5) written by jepa train (kind: video or next_frame).", valueName: "path"))
    var checkpoint: String

    @OptionGroup var weights: ForeignWeightOptions

    @Option(help: ArgumentHelp("HDF5 file with /frames [N, T, H, W] or [N, T, C, H, W], uint8 or float32 in [0, 1].", valueName: "clips.h5"))
    var input: String

    @Option(help: ArgumentHelp("Per-clip CSV to write.", valueName: "scores.csv"))
    var output: String

    @Option(help: ArgumentHelp("Per-frame CSV to write (optional).", valueName: "frames.csv"))
    var framesOutput: String?

    @Option(help: "Context frames per window (default: next_frame — growing from 4 frames to the predictor's window; video — half the clip length).")
    var context: Int?

    @Option(help: "Frames between window starts.")
    var stride = 1

    @Option(help: "next_frame models: steps ahead of its context each frame is predicted, open loop (1 = the next frame; default \(defaultSurpriseHorizon), fewer for the first frames of a growing context).")
    var horizon: Int?

    @Option(help: "Clips per batch.")
    var batch = 16

    @OptionGroup var calibration: CalibrationOptions

    @Flag(help: "next_frame models: score the model's own energy, not the calibrated one.")
    var rawEnergy = false

    func validate() throws {
        if rawEnergy && calibration.calibration != nil { throw ValidationError("--raw-energy and --calibration exclude each other") }
    }

    func run() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        let (config, _, model) = try loadWorldModel(checkpoint: checkpoint, config: weights.modelConfig, strict: weights.strict, log: say)
        guard config.kind != .actionConditioned else {
            throw ValidationError("\(checkpoint): an action-conditioned model predicts from actions, which plain clips do not carry; jepa score takes kind: video or next_frame")
        }
        var scorer = try makeSurpriseScorer(for: model, contextFrames: context, stride: stride, horizon: horizon)
        var calibrated = false
        if let path = calibration.calibration {
            scorer = try calibration.calibrate(scorer, on: path, batch: batch).scorer
            calibrated = true
        } else if !rawEnergy, let frameScorer = scorer as? NextFrameSurpriseScorer {
            if let stored = try SurpriseCalibration.stored(at: checkpoint) {
                if let applied = stored.applied(to: frameScorer) {
                    scorer = applied
                    calibrated = true
                    say("calibrated energy: the fit stored in the checkpoint (\(stored.samples) prediction errors of \(stored.clips) clips of \(stored.source))")
                } else {
                    say("note: the checkpoint's calibration is for \(stored.settings); these settings score the model's own energy (--calibration clips.h5 calibrates them)")
                }
            } else {
                say("note: the checkpoint has no stored calibration; scoring the model's own energy (jepa calibrate stores one; --calibration clips.h5 fits one here)")
            }
        }
        let clips = try ClipFile(path: input)
        let frame = config.frameShape
        guard [clips.channels, clips.height, clips.width] == frame else {
            throw ValidationError("\(input): frames are \(clips.channels)×\(clips.height)×\(clips.width) (C×H×W); the model takes \(frame.map(String.init).joined(separator: "×"))")
        }
        let scored = scorer.scoredFrames(length: clips.length)
        guard !scored.isEmpty else {
            throw ValidationError("\(input): clips of \(clips.length) frames are too short to score with \(scorer.contextFrames) context frames"
                                  + (scorer.horizon > 1 ? " and a horizon of \(scorer.horizon)" : "")
                                  + (config.kind == .video ? " and a window of \(config.model.frames)" : ""))
        }
        // Rows are appended batch by batch to temporary files, renamed into place at the end.
        let clipCSV = try CSVFile(path: output, header: "clip,surprise_max,surprise_mean")
        let frameCSV = try framesOutput.map { try CSVFile(path: $0, header: "clip,frame,energy") }
        let start = Date()
        let line = CountLine()
        for first in Swift.stride(from: 0, to: clips.count, by: batch) {
            let rows = first..<min(first + batch, clips.count)
            let energies = try scorer.surprise(clips.read(rows)).scalars
            var clipLines = "", frameLines = ""
            for (i, clip) in rows.enumerated() {
                let series = Array(energies[(i * scored.count)..<((i + 1) * scored.count)])
                clipLines += "\(clip),\(series.max()!),\(series.reduce(0, +) / Float(series.count))\n"
                for (frame, e) in zip(scored, series) { frameLines += "\(clip),\(frame),\(e)\n" }
            }
            try clipCSV.append(clipLines)
            try frameCSV?.append(frameLines)
            let rate = Double(rows.upperBound) / max(Date().timeIntervalSince(start), 1e-9)
            line.show(String(format: "scored %d/%d clips  %.1f clips/s", rows.upperBound, clips.count, rate), done: rows.upperBound, total: clips.count)
        }
        try clipCSV.finish()
        try frameCSV?.finish()
        say("wrote \(output)" + (framesOutput.map { " and \($0)" } ?? "") + ": \(clips.count) clips, "
            + "\(scored.count) windows each (context \((scorer as? NextFrameSurpriseScorer)?.minimumContext.map { "\($0)…" } ?? "")\(scorer.contextFrames), stride \(stride), horizon \(scorer.horizon)"
            + (calibrated ? ", calibrated energy)" : ")"))
    }
}

/// A CSV written under `<path>.partial` and renamed to `path` by `finish()`.
final class CSVFile {
    let path: String
    let handle: FileHandle

    init(path: String, header: String) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path + ".partial", contents: Data((header + "\n").utf8)) else {
            throw ValidationError("cannot create \(path).partial")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path + ".partial"))
        try handle.seekToEnd()
    }

    func append(_ lines: String) throws { try handle.write(contentsOf: Data(lines.utf8)) }

    func finish() throws {
        try handle.close()
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: path + ".partial", toPath: path)
    }
}

/// `--calibration`: score with the calibrated energy (`CalibratedEnergy`) of a video JEPA or a next-frame model.
struct CalibrationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Clips of ordinary physics (e.g. the training data) whose prediction errors calibrate the energy.",
                               valueName: "clips.h5"))
    var calibration: String?

    @Option(help: "Clips of the calibration file used (the first ones).")
    var calibrationClips = 400

    @Option(help: ArgumentHelp("Shrinkage δ of the calibration covariance towards a multiple of the identity: a number in [0, 1], or auto (Ledoit–Wolf's estimate).",
                               valueName: "auto|δ"))
    var calibrationShrinkage = defaultCalibrationShrinkage.argument

    var shrinkage: CovarianceShrinkage {
        calibrationShrinkage == "auto" ? .ledoitWolf : .fixed(Double(calibrationShrinkage) ?? .nan)
    }

    func validate() throws {
        guard calibrationClips >= 1 else { throw ValidationError("--calibration-clips must be at least 1, got \(calibrationClips)") }
        if case let .fixed(delta) = shrinkage, !(delta >= 0 && delta <= 1) {
            throw ValidationError("--calibration-shrinkage must be auto or a number in [0, 1], got \(calibrationShrinkage)")
        }
    }

    /// `scorer` calibrated on the clips at `path`, with the prediction errors fitted and the
    /// shrinkage of its (main) fit, for reports.
    func calibrate(_ scorer: any SurpriseScorer, on path: String, batch: Int) throws -> (scorer: any SurpriseScorer, samples: Int, shrinkage: Double) {
        let line = CountLine()
        let progress = { (done: Int, total: Int) in line.show("  calibrating on \(path) \(done)/\(total)", done: done, total: total) }
        switch scorer {
        case let frameScorer as NextFrameSurpriseScorer:
            let calibrated = try frameScorer.calibrated(on: path, clips: calibrationClips, batch: batch, shrinkage: shrinkage, progress: progress)
            let fits = calibrated.calibration!, main = fits[calibrated.horizon]!
            say("calibrated energy: \(CalibratedEnergy.samples(of: fits)) prediction errors of \(main.dimension) dimensions, "
                + "shrinkage δ = \(String(format: "%.4g", main.shrinkage)) (\(calibrated.horizon) steps ahead)")
            return (calibrated, CalibratedEnergy.samples(of: fits), main.shrinkage)
        case let videoScorer as MaskedSurpriseScorer:
            let calibrated = try videoScorer.calibrated(on: path, clips: calibrationClips, batch: batch, shrinkage: shrinkage, progress: progress)
            let fit = calibrated.calibration!
            say("calibrated energy: \(fit.samples) windows' prediction errors pooled over space, \(fit.dimension) dimensions, "
                + "shrinkage δ = \(String(format: "%.4g", fit.shrinkage))")
            return (calibrated, fit.samples, fit.shrinkage)
        default:
            throw ValidationError("--calibration needs a video JEPA or a next-frame model")
        }
    }
}
