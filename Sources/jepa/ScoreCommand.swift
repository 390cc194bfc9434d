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
            + "encoder's features of those frames. kind: next_frame — every frame after the first --context frames "
            + "(default: the predictor's window) is predicted from the --context frames before it, or with --horizon h "
            + "open loop from the --context frames ending h frames before it. kind: video — a "
            + "window of the model's clip length slides over each clip; its first --context frames (default: half the "
            + "window) are context and the rest are predicted; the window's energy is attributed to its first "
            + "predicted frame. Windows start every --stride frames. Writes one row per clip (clip, surprise_max, "
            + "surprise_mean) and, with --frames-output, one row per scored frame (clip, frame, energy).")

    @Option(help: ArgumentHelp("Checkpoint (.h5) written by jepa train (kind: video or next_frame).", valueName: "path"))
    var checkpoint: String

    @OptionGroup var weights: ForeignWeightOptions

    @Option(help: ArgumentHelp("HDF5 file with /frames [N, T, H, W] or [N, T, C, H, W], uint8 or float32 in [0, 1].", valueName: "clips.h5"))
    var input: String

    @Option(help: ArgumentHelp("Per-clip CSV to write.", valueName: "scores.csv"))
    var output: String

    @Option(help: ArgumentHelp("Per-frame CSV to write (optional).", valueName: "frames.csv"))
    var framesOutput: String?

    @Option(help: "Context frames per window (default: the predictor's window for next_frame, half the clip length for video).")
    var context: Int?

    @Option(help: "Frames between window starts.")
    var stride = 1

    @Option(help: "next_frame models: steps ahead of its context each frame is predicted, open loop (1 = the next frame).")
    var horizon = 1

    @Option(help: "Clips per batch.")
    var batch = 16

    func run() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
        let (config, _, model) = try loadWorldModel(checkpoint: checkpoint, config: weights.modelConfig, strict: weights.strict, log: say)
        guard config.kind != .actionConditioned else {
            throw ValidationError("\(checkpoint): an action-conditioned model predicts from actions, which plain clips do not carry; jepa score takes kind: video or next_frame")
        }
        let scorer = try makeSurpriseScorer(for: model, contextFrames: context, stride: stride, horizon: horizon)
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
            FileHandle.standardError.write(Data(String(format: "scored %d/%d clips  %.1f clips/s\n", rows.upperBound, clips.count, rate).utf8))
        }
        try clipCSV.finish()
        try frameCSV?.finish()
        say("wrote \(output)" + (framesOutput.map { " and \($0)" } ?? "") + ": \(clips.count) clips, "
            + "\(scored.count) windows each (context \(scorer.contextFrames), stride \(stride), horizon \(scorer.horizon))")
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
