import Foundation

/// Runs the real `jepa` binary (and other programs) from the tests of this target.
enum JepaCommand {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The `jepa` executable beside this test bundle (the test target depends on it, so it is built).
    static let path = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("jepa").path

    /// Runs `arguments` (a program found on PATH, or a path) in `directory`; status and the
    /// merged stdout and stderr.
    static func run(_ arguments: [String], in directory: String) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Writes `nf.yaml` into `directory`: a next-frame model of `imageSize`-pixel frames trained for
    /// 3 steps on `data.h5`, storing a calibration fitted on 8 clips — the model the command tests use.
    static func writeTinyNextFrameConfig(in directory: String, imageSize: Int, patch: Int) throws {
        try """
            name: nf
            kind: next_frame
            data: {path: data.h5, batch_size: 4}
            model: {frames: 4, image_size: \(imageSize), patch: \(patch), encoder_dim: 16, encoder_depth: 1, encoder_heads: 2,
                    pooled_dim: 16, gru_hidden: 12, rollout_steps: 2}
            optim: {lr: 2.0e-3, warmup_steps: 1}
            ema: {start: 0, end: 0}
            train: {steps: 3, log_every: 1, checkpoint_every: 3, calibration_clips: 8}
            """.write(toFile: "\(directory)/nf.yaml", atomically: true, encoding: .utf8)
    }
}
