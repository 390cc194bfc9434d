import Foundation
import HDF5
import NN
import Tensors
import Testing
@testable import Checkpoints

// MARK: - Fixtures

/// A tiny two-layer model: Linear(4 → 3) then LayerNorm(3).
final class TinyEncoder: Module {
    let fc: Linear
    let norm: LayerNorm
    init(rng: inout RandomGenerator) {
        fc = Linear(4, 3, rng: &rng)
        norm = LayerNorm(3)
    }
    func callAsFunction(_ x: Tensor) -> Tensor { norm(fc(x)) }
}

/// Encoder + predictor + AdamW, trained on batches derived from the step number, so the data
/// stream needs no RNG state in the checkpoint (it is re-derived from `step`).
final class TinyRun {
    let encoder: TinyEncoder
    let predictor: Linear
    let optimizer: AdamW
    var step = 0

    init(seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        encoder = TinyEncoder(rng: &rng)
        predictor = Linear(3, 4, rng: &rng)
        optimizer = AdamW(parameters: encoder.namedParameters().map { (name: "encoder.\($0.name)", tensor: $0.tensor) }
                          + predictor.namedParameters().map { (name: "predictor.\($0.name)", tensor: $0.tensor) },
                          learningRate: 0.05, weightDecay: 0.1)
    }

    var modules: [String: Module] { ["encoder": encoder, "predictor": predictor] }

    func train(steps: Int) {
        for _ in 0..<steps {
            var rng = RandomGenerator(seed: 1000 + UInt64(step))
            let x = Tensor.randn([5, 4], using: &rng)
            let d = predictor(encoder(x)) - x
            (d * d).mean().backward()
            optimizer.step()
            optimizer.zeroGrad()
            step += 1
        }
    }

    func checkpoint(metric: Double? = nil) -> Checkpoint {
        Checkpoint(step: step, config: "model:\n  dim: 3\nseed: 7\n", modules: modules, optimizer: optimizer,
                   state: ["data.position": .int(step * 5), "rng.seed": .ints([7, 1000]),
                           "schedule": .doubles([0.5, 0.25]), "lr": .double(0.05), "note": .string("tiny run ✓")],
                   metric: metric)
    }

    /// Every parameter and optimiser buffer as raw bits, by name.
    func bits() -> [String: [UInt32]] {
        var out: [String: [UInt32]] = [:]
        for (group, module) in modules {
            for (name, t) in module.namedParameters() { out["\(group)/\(name)"] = t.scalars.map(\.bitPattern) }
        }
        for (name, t) in optimizer.namedState() { out["optimizer/\(name)"] = t.scalars.map(\.bitPattern) }
        out["optimizer_step"] = [UInt32(optimizer.stepCount)]
        return out
    }
}

/// A fresh empty directory under the system temporary directory.
func temporaryDirectory(_ function: String = #function) throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("ckpt-tests-\(function.prefix { $0.isLetter })-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func checkpointError(_ body: () throws -> Void) -> CheckpointError? {
    do { try body() } catch let error as CheckpointError { return error } catch {
        Issue.record("expected a CheckpointError, got \(type(of: error)): \(error)")
        return nil
    }
    Issue.record("expected a CheckpointError, nothing was thrown")
    return nil
}

func directoryEntries(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}

// MARK: - Round trip and resume

@Test func roundTripIsBitwiseAndKeepsMetadata() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let run = TinyRun(seed: 1)
    run.train(steps: 3)
    let path = dir + "/step_3.h5"
    let written = run.checkpoint(metric: 0.25)
    try CheckpointIO.write(written, to: path)

    let c = try CheckpointIO.read(path)
    #expect(c.step == 3)
    #expect(c.optimizerStep == 3)
    #expect(c.config == written.config)
    #expect(c.state == written.state)
    #expect(c.metric == 0.25)
    #expect(c.toolVersion == Toolkit.version)
    #expect(c.created?.contains("T") == true)
    #expect(Set(c.modules.keys) == ["encoder", "predictor"])
    for (group, module) in run.modules {
        let saved = Dictionary(uniqueKeysWithValues: c.modules[group]!.map { ($0.name, $0.tensor) })
        #expect(saved.count == module.namedParameters().count)
        for (name, t) in module.namedParameters() {
            #expect(saved[name]?.shape == t.shape)
            #expect(saved[name]?.scalars.map(\.bitPattern) == t.scalars.map(\.bitPattern), "\(group)/\(name)")
            #expect(saved[name] !== t)
        }
    }
    #expect(c.optimizer.map(\.name).sorted() == run.optimizer.namedState().map(\.name).sorted())
    #expect(c.optimizer.contains { $0.name == "exp_avg_sq.encoder.fc.weight" })

    // The layout: one group per module, dotted keys as single link names.
    let file = try HDF5File(path: path, mode: .readOnly)
    let paths = try file.datasetPaths()
    #expect(paths.contains("encoder/fc.weight"))
    #expect(paths.contains("optimizer/exp_avg.predictor.bias"))
    #expect(paths.contains("state/rng.seed"))
    #expect(try file.stringAttribute("format") == "jepa-swift-checkpoint")
    #expect(try file.intAttribute("format_version") == 1)
    try file.close()
}

@Test func vitParameterNamesRoundTrip() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var rng = RandomGenerator(seed: 3)
    let vit = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 8, depth: 1, heads: 2, rng: &rng)
    let path = dir + "/vit.h5"
    try CheckpointIO.write(Checkpoint(step: 0, modules: ["context_encoder": vit], optimizer: nil), to: path)
    #expect(try HDF5File(path: path, mode: .readOnly).datasetPaths().contains("context_encoder/blocks.0.attn.qkv.weight"))

    var rng2 = RandomGenerator(seed: 99)
    let fresh = VisionTransformer(imageSize: 8, patch: 4, channels: 1, dim: 8, depth: 1, heads: 2, rng: &rng2)
    try CheckpointIO.restore(path, into: ["context_encoder": fresh], optimizer: nil)
    for ((n1, a), (n2, b)) in zip(vit.namedParameters(), fresh.namedParameters()) {
        #expect(n1 == n2)
        #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern), "\(n1)")
    }
}

@Test func resumeGivesBitwiseTheSameNumbers() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/resume.h5"

    let uninterrupted = TinyRun(seed: 11)
    uninterrupted.train(steps: 4)
    try CheckpointIO.write(uninterrupted.checkpoint(), to: path)
    uninterrupted.train(steps: 5)

    let resumed = TinyRun(seed: 12345)  // different initial weights: everything must come from the file
    let c = try CheckpointIO.restore(path, into: resumed.modules, optimizer: resumed.optimizer)
    resumed.step = c.step
    #expect(c.state["data.position"] == .int(20))
    #expect(resumed.optimizer.stepCount == 4)
    resumed.train(steps: 5)

    let (a, b) = (uninterrupted.bits(), resumed.bits())
    #expect(a.keys.sorted() == b.keys.sorted())
    for key in a.keys { #expect(a[key] == b[key], "\(key) differs after resume") }
}

// MARK: - Atomicity

@Test func failedWriteLeavesPreviousCheckpointAndNoTemporary() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/ckpt.h5"
    let run = TinyRun(seed: 2)
    try CheckpointIO.write(run.checkpoint(), to: path)
    let before = try Data(contentsOf: URL(fileURLWithPath: path))

    run.train(steps: 2)
    struct Injected: Error {}
    var sawTemporary = false
    let error = checkpointError {
        try CheckpointIO.write(run.checkpoint(), to: path, beforeRename: { temporary in
            sawTemporary = FileManager.default.fileExists(atPath: temporary)
                && temporary.hasPrefix(path + ".tmp-")
            throw Injected()
        })
    }
    #expect(sawTemporary)
    #expect(error?.kind == .io)
    #expect(error?.description.contains(path) == true)
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    #expect(directoryEntries(dir) == ["ckpt.h5"])
    #expect(try CheckpointIO.read(path).step == 0)

    // A later successful write replaces the file in one rename.
    try CheckpointIO.write(run.checkpoint(), to: path)
    #expect(try CheckpointIO.read(path).step == 2)
    #expect(directoryEntries(dir) == ["ckpt.h5"])
}

@Test func writeThatCannotCreateTheFileFailsCleanly() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/no-such-subdirectory/ckpt.h5"
    let error = checkpointError { try CheckpointIO.write(TinyRun(seed: 5).checkpoint(), to: path) }
    #expect(error?.kind == .io)
    #expect(error?.description.contains(path) == true)
    #expect(directoryEntries(dir).isEmpty)
}

@Test func invalidNamesAreRejectedBeforeWriting() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let t = Tensor.zeros([2])
    for c in [Checkpoint(step: 1, modules: ["a/b": [(name: "w", tensor: t)]]),
              Checkpoint(step: 1, modules: ["state": [(name: "w", tensor: t)]]),
              Checkpoint(step: 1, modules: ["enc": [(name: "w", tensor: t), (name: "w", tensor: t)]]),
              Checkpoint(step: 1, state: ["x/y": .int(1)])] {
        let error = checkpointError { try CheckpointIO.write(c, to: dir + "/bad.h5") }
        #expect(error?.kind == .invalidContent)
    }
    #expect(directoryEntries(dir).isEmpty)
}

// MARK: - Damaged and foreign files

@Test func truncatedFileIsReportedAsTruncatedOrCorrupt() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/step_100.h5"
    try CheckpointIO.write(TinyRun(seed: 6).checkpoint(), to: path)
    let original = try Data(contentsOf: URL(fileURLWithPath: path))
    for keep in [original.count / 2, original.count * 9 / 10, original.count - 1] {
        try original.prefix(keep).write(to: URL(fileURLWithPath: path))
        let error = checkpointError { _ = try CheckpointIO.read(path) }
        #expect(error?.kind == .corrupt, "kept \(keep) of \(original.count) bytes")
        #expect(error?.description == "\(path) is truncated: \(keep) bytes, written as \(original.count)")
    }
    // Without the integrity header (files of earlier versions), HDF5's own end-of-file check reports it.
    var headerless = original
    headerless.replaceSubrange(0..<Integrity.blockSize, with: [UInt8](repeating: 0, count: Integrity.blockSize))
    try headerless.prefix(original.count * 9 / 10).write(to: URL(fileURLWithPath: path))
    let error = checkpointError { _ = try CheckpointIO.read(path) }
    #expect(error?.description.hasPrefix("\(path) is truncated or corrupt (HDF5: ") == true, "\(error?.description ?? "")")
}

@Test func aFlippedBitInsideATensorIsDetected() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/step_1.h5"
    let tiny = TinyRun(seed: 8)
    try CheckpointIO.write(tiny.checkpoint(), to: path)
    var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    // The stored float32 bytes of the first weight, found in the file and changed in their low bit.
    let weight = tiny.encoder.fc.weight.scalars.withUnsafeBytes { Data($0) }
    let at = try #require(bytes.range(of: weight)).lowerBound
    bytes[at] ^= 1
    try bytes.write(to: URL(fileURLWithPath: path))
    let error = checkpointError { _ = try CheckpointIO.read(path) }
    #expect(error?.kind == .corrupt)
    #expect(error?.description.contains("is corrupt: CRC-32") == true, "\(error?.description ?? "")")
}

@Test func foreignFilesGiveClearErrors() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }

    let plain = dir + "/plain.h5"
    let file = try HDF5File(path: plain, mode: .truncate)
    try file.write("weights", shape: [2], float32: [1, 2])
    try file.close()
    let notCheckpoint = checkpointError { _ = try CheckpointIO.read(plain) }
    #expect(notCheckpoint?.kind == .notCheckpoint)
    #expect(notCheckpoint?.description.contains("not a jepa-swift checkpoint") == true)
    #expect(notCheckpoint?.description.contains(plain) == true)

    let text = dir + "/notes.txt"
    try "hello, not HDF5\n".write(toFile: text, atomically: true, encoding: .utf8)
    let textError = checkpointError { _ = try CheckpointIO.read(text) }
    #expect(textError?.kind == .notHDF5)
    #expect(textError?.description.contains("not an HDF5 file") == true)
    #expect(textError?.description.contains(text) == true)

    let missing = dir + "/nope.h5"
    let missingError = checkpointError { _ = try CheckpointIO.read(missing) }
    #expect(missingError?.kind == .missingFile)
    #expect(missingError?.description == "checkpoint \(missing) does not exist")

    let newer = dir + "/newer.h5"
    try CheckpointIO.write(Checkpoint(step: 1), to: newer)
    let rewrite = try HDF5File(path: newer, mode: .readWrite)
    try rewrite.setAttribute("format_version", 7)
    try rewrite.close()
    try Integrity.seal(newer)   // as a newer writer would
    let newerError = checkpointError { _ = try CheckpointIO.read(newer) }
    #expect(newerError?.kind == .unsupportedVersion)
    #expect(newerError?.description.contains("format_version 7 is newer than this tool supports (1)") == true)
}

// MARK: - Restore errors

@Test func restoreMismatchesNameGroupAndKey() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/ckpt.h5"
    let run = TinyRun(seed: 8)
    try CheckpointIO.write(run.checkpoint(), to: path)

    // Missing group.
    let target = TinyRun(seed: 9)
    let missingGroup = checkpointError {
        try CheckpointIO.restore(path, into: ["target_encoder": target.encoder], optimizer: nil)
    }
    #expect(missingGroup?.kind == .missingGroup)
    #expect(missingGroup?.description.contains("missing group 'target_encoder'") == true)

    // Shape mismatch: a predictor of another width; nothing is modified.
    var rng = RandomGenerator(seed: 10)
    let wide = Linear(3, 6, rng: &rng)
    let before = target.bits()
    let shape = checkpointError {
        try CheckpointIO.restore(path, into: ["encoder": target.encoder, "predictor": wide], optimizer: target.optimizer)
    }
    #expect(shape?.kind == .mismatch)
    #expect(shape?.description.contains("shape mismatch for predictor/weight: expected [6, 3], found [4, 3]") == true)
    #expect(target.bits() == before)

    // Missing key: the file's encoder lacks a parameter the module has.
    var c = run.checkpoint()
    c.modules["encoder"]!.removeAll { $0.name == "norm.bias" }
    try CheckpointIO.write(c, to: path)
    let missingKey = checkpointError {
        try CheckpointIO.restore(path, into: target.modules, optimizer: nil)
    }
    #expect(missingKey?.kind == .mismatch)
    #expect(missingKey?.description.contains("missing key encoder/norm.bias") == true)

    // Weights-only file restored with an optimiser.
    try CheckpointIO.write(Checkpoint(step: 1, modules: run.modules, optimizer: nil), to: path)
    let noOptimizer = checkpointError {
        try CheckpointIO.restore(path, into: target.modules, optimizer: target.optimizer)
    }
    #expect(noOptimizer?.kind == .mismatch)
    #expect(noOptimizer?.description.contains("no optimizer state") == true)
    try CheckpointIO.restore(path, into: target.modules, optimizer: nil)
}

// MARK: - Rotation

@Test func rotationKeepsLastBestAndLatest() throws {
    let root = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let dir = root + "/run"
    let rotation = CheckpointRotation(directory: dir, keepLast: 2)
    #expect(try rotation.latest() == nil)
    let run = TinyRun(seed: 13)
    let metrics: [Double] = [0.9, 0.5, 0.7, 0.6, 0.8]
    for (i, metric) in metrics.enumerated() {
        run.train(steps: 1)
        let written = try rotation.save(run.checkpoint(), metric: metric)
        #expect(written == dir + "/step_\(i + 1).h5")
        #expect(try rotation.latest() == written)
    }
    #expect(directoryEntries(dir) == ["best.h5", "latest", "step_4.h5", "step_5.h5"])

    // A temporary left by a crashed writer (another pid) is cleaned up by the next save.
    try Data("partial".utf8).write(to: URL(fileURLWithPath: dir + "/step_6.h5.tmp-999999999"))
    run.train(steps: 1)
    try rotation.save(run.checkpoint(), metric: 0.95)
    #expect(directoryEntries(dir) == ["best.h5", "latest", "step_5.h5", "step_6.h5"])
    let best = try CheckpointIO.read(rotation.bestPath)
    #expect(best.step == 2)
    #expect(best.metric == 0.5)
    #expect(try rotation.periodicCheckpoints().map(\.step) == [5, 6])

    // Higher is better: the first metric always becomes best, then only improvements.
    let accuracy = CheckpointRotation(directory: root + "/accuracy", keepLast: 1)
    for (step, metric) in [(1, 0.2), (2, 0.4), (3, 0.3)] {
        var c = run.checkpoint()
        c.step = step
        try accuracy.save(c, metric: metric, lowerIsBetter: false)
    }
    #expect(try CheckpointIO.read(accuracy.bestPath).step == 2)
    #expect(directoryEntries(accuracy.directory) == ["best.h5", "latest", "step_3.h5"])
}

// MARK: - h5py

@Test func pythonLoaderReadsTheCheckpoint() throws {
    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
    guard (try? run(["-c", "import h5py, numpy"]))?.status == 0 else {
        print("note: python3 with h5py and numpy is not available; h5py compatibility check skipped")
        return
    }
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/step_3.h5"
    let tiny = TinyRun(seed: 21)
    tiny.train(steps: 3)
    try CheckpointIO.write(tiny.checkpoint(), to: path)

    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/load_checkpoint.py").path
    let key = "encoder/fc.weight"
    let result = try run([script, path, "--value", key])
    #expect(result.status == 0, "\(result.output)")
    #expect(result.output.contains("format = jepa-swift-checkpoint"))
    #expect(result.output.contains("step = 3"))
    #expect(result.output.contains("encoder: 4 tensors"))
    #expect(result.output.contains("optimizer: 12 tensors"))
    #expect(result.output.contains("state/note = 'tiny run ✓'"))
    // --value prints the first element with repr(float): it must parse back to the same Float.
    let line = result.output.split(separator: "\n").first { $0.hasPrefix("value \(key)[0] = ") }
    let printed = line.flatMap { Double($0.split(separator: "=").last!.trimmingCharacters(in: .whitespaces)) }
    #expect(printed.map { Float($0) } == tiny.encoder.fc.weight.scalars[0])
}
