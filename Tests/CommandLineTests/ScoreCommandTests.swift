import Foundation
import Testing

/// `jepa train` of a next-frame model stores its surprise calibration; `jepa score` uses it by default.
@Suite struct ScoreCommandTests {
    @Test func trainingStoresTheCalibrationThatScoringUsesByDefault() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("score-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let jepa = JepaCommand.path
        let world = JepaCommand.repository.appendingPathComponent("experiments/tiny-balls-world.json").path
        let made = JepaCommand.run([jepa, "data", "generate", "--world", "balls", "--episodes", "16", "--frames", "12",
                                    "--config", world, "--out", "\(dir)/data.h5"], in: dir)
        #expect(made.status == 0, "\(made.output)")
        try JepaCommand.writeTinyNextFrameConfig(in: dir, imageSize: 16, patch: 8)
        let trained = JepaCommand.run([jepa, "train", "--config", "nf.yaml", "--threads", "1"], in: dir)
        #expect(trained.status == 0, "\(trained.output)")
        #expect(trained.output.contains("stored in runs/nf/checkpoints/step_3.h5: the surprise calibration"), "\(trained.output)")

        let checkpoint = "runs/nf/checkpoints/step_3.h5"
        let scored = JepaCommand.run([jepa, "score", "--checkpoint", checkpoint, "--input", "data.h5", "--output", "s.csv"], in: dir)
        #expect(scored.status == 0 && scored.output.contains("the fit stored in the checkpoint"), "\(scored.output)")
        #expect(scored.output.contains("calibrated energy)"), "\(scored.output)")
        let raw = JepaCommand.run([jepa, "score", "--checkpoint", checkpoint, "--input", "data.h5", "--output", "r.csv", "--raw-energy"], in: dir)
        #expect(raw.status == 0 && !raw.output.contains("calibrated"), "\(raw.output)")
        // Different settings than the fit's: the model's own energy, said so.
        let other = JepaCommand.run([jepa, "score", "--checkpoint", checkpoint, "--input", "data.h5", "--output", "h.csv", "--horizon", "2"], in: dir)
        #expect(other.status == 0 && other.output.contains("the checkpoint's calibration is for context"), "\(other.output)")
        let scores = try String(contentsOfFile: "\(dir)/s.csv", encoding: .utf8), rawScores = try String(contentsOfFile: "\(dir)/r.csv", encoding: .utf8)
        #expect(scores.split(separator: "\n").count == 17 && scores != rawScores)

        // A checkpoint trained without it gets the same calibration from jepa calibrate.
        let bare = JepaCommand.run([jepa, "train", "--config", "nf.yaml", "--threads", "1", "--set", "name=bare",
                                    "--set", "train.calibration_clips=0"], in: dir)
        #expect(bare.status == 0 && !bare.output.contains("stored in"), "\(bare.output)")
        let uncalibrated = JepaCommand.run([jepa, "score", "--checkpoint", "runs/bare/checkpoints/step_3.h5", "--input", "data.h5",
                                            "--output", "u.csv"], in: dir)
        #expect(uncalibrated.status == 0 && uncalibrated.output.contains("no stored calibration"), "\(uncalibrated.output)")
        let calibrated = JepaCommand.run([jepa, "calibrate", "--checkpoint", "runs/bare/checkpoints/step_3.h5", "--clips-used", "8"], in: dir)
        #expect(calibrated.status == 0 && calibrated.output.contains("stored in runs/bare/checkpoints/step_3.h5"), "\(calibrated.output)")
        let again = JepaCommand.run([jepa, "score", "--checkpoint", "runs/bare/checkpoints/step_3.h5", "--input", "data.h5",
                                     "--output", "a.csv"], in: dir)
        #expect(again.status == 0 && again.output.contains("the fit stored in the checkpoint"), "\(again.output)")
        // Same weights and clips, so the same fit up to summation order (jepa train ran on one thread).
        func values(_ name: String) throws -> [Double] {
            try String(contentsOfFile: "\(dir)/\(name)", encoding: .utf8).split(separator: "\n").dropFirst()
                .flatMap { $0.split(separator: ",").dropFirst().map { Double($0)! } }
        }
        let (refit, stored) = (try values("a.csv"), try values("s.csv"))
        #expect(refit.count == stored.count && zip(refit, stored).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
        // Clips too short to calibrate at the default horizon: training succeeds and says so.
        let short = JepaCommand.run([jepa, "data", "generate", "--world", "balls", "--episodes", "8", "--frames", "6",
                                     "--config", world, "--out", "\(dir)/short.h5"], in: dir)
        #expect(short.status == 0, "\(short.output)")
        let shortRun = JepaCommand.run([jepa, "train", "--config", "nf.yaml", "--threads", "1", "--set", "name=short",
                                        "--set", "data.path=short.h5"], in: dir)
        #expect(shortRun.status == 0 && shortRun.output.contains("note: no surprise calibration stored") && shortRun.output.contains("too short"),
                "\(shortRun.output)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/runs/short/checkpoints/step_3.h5"))
        let video = JepaCommand.run([jepa, "calibrate", "--checkpoint", "missing.h5"], in: dir)
        #expect(video.status != 0 && video.output.contains("missing.h5"), "\(video.output)")
    }
}
