import Foundation
import Testing

/// `jepa eval` end to end on a tiny next-frame model: the report, the stored calibration it uses,
/// and settings that cannot score some events said so.
@Suite struct EvalCommandTests {
    @Test func evaluatesATinyNextFrameModelAndSaysWhatItCannotScore() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("eval-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let jepa = JepaCommand.path
        // The default world: the violation set needs several balls and free flight.
        let made = JepaCommand.run([jepa, "data", "generate", "--world", "balls", "--episodes", "16", "--frames", "12",
                                    "--out", "\(dir)/data.h5"], in: dir)
        #expect(made.status == 0, "\(made.output)")
        try JepaCommand.writeTinyNextFrameConfig(in: dir, imageSize: 64, patch: 16)
        let trained = JepaCommand.run([jepa, "train", "--config", "nf.yaml", "--threads", "1"], in: dir)
        #expect(trained.status == 0, "\(trained.output)")
        let checkpoint = "runs/nf/checkpoints/step_3.h5"

        let evaluated = JepaCommand.run([jepa, "eval", "--checkpoint", checkpoint, "--probe-episodes", "20", "--pairs", "9",
                                         "--batch", "4"], in: dir)
        #expect(evaluated.status == 0, "\(evaluated.output)")
        #expect(evaluated.output.contains("the fit stored in the checkpoint (context 3…3, horizon 6"), "\(evaluated.output)")
        #expect(evaluated.output.contains("Reading:") && !evaluated.output.contains("pairs have no scored frame"), "\(evaluated.output)")
        let report = try String(contentsOfFile: "\(dir)/runs/nf/eval/report.md", encoding: .utf8)
        #expect(report.contains("principle: solidity") && report.contains("surprise predicted 6 steps ahead"), "\(report)")

        // A fixed context and a horizon whose first scored frame (3 + 20 − 1 = 22) comes after
        // most violation windows (frames 10…23 of 32): said so, not scored as if they were.
        let late = JepaCommand.run([jepa, "eval", "--checkpoint", checkpoint, "--probe-episodes", "20", "--pairs", "9",
                                    "--batch", "4", "--context", "3", "--surprise-horizon", "20", "--calibration-clips", "8",
                                    "--out", "late"], in: dir)
        #expect(late.status == 0 && late.output.contains("of 9 pairs have no scored frame within 4 frames of their violation (the first frame these settings score is 22"), "\(late.output)")
    }
}
