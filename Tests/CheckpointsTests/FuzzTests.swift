import Foundation
import HDF5
import NN
import Tensors
import Testing
@testable import Checkpoints

/// Damaged checkpoints: every load either succeeds with finite weights or throws a
/// `CheckpointError`; nothing crashes, hangs or loads NaN.
@Suite struct CheckpointFuzzTests {
    /// What one attempt to load `path` into a fresh TinyRun did.
    enum Outcome: Equatable { case loaded, refused(CheckpointError.Kind) }

    func load(_ path: String) -> (Outcome, String) {
        let fresh = TinyRun(seed: 99)
        do {
            try CheckpointIO.restore(path, into: fresh.modules, optimizer: fresh.optimizer)
            let finite = fresh.modules.values.allSatisfy { $0.parameters().allSatisfy { $0.scalars.allSatisfy(\.isFinite) } }
                && fresh.optimizer.namedState().allSatisfy { $0.tensor.scalars.allSatisfy(\.isFinite) }
            return finite ? (.loaded, "") : (.refused(.corrupt), "loaded non-finite weights")
        } catch let error as CheckpointError {
            return (.refused(error.kind), error.description)
        } catch {
            return (.refused(.io), "untyped error: \(error)")
        }
    }

    @Test func flippedBytesAndTruncationsAreLoadedOrRefusedWithATypedError() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tiny = TinyRun(seed: 5)
        tiny.train(steps: 2)
        let original = directory + "/original.h5"
        try CheckpointIO.write(tiny.checkpoint(), to: original)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original)))
        var rng = RandomGenerator(seed: 2026)
        var outcomes: [String: Int] = [:]
        for trial in 0..<300 {
            var mutated = bytes
            if trial % 4 == 3 {
                mutated = Array(mutated.prefix(rng.int(below: bytes.count)))
            } else {
                for _ in 0...rng.int(below: 8) { mutated[rng.int(below: bytes.count)] ^= UInt8(1 + rng.int(below: 255)) }
            }
            let path = directory + "/trial.h5"
            try Data(mutated).write(to: URL(fileURLWithPath: path))
            let (outcome, message) = load(path)
            #expect(!message.hasPrefix("untyped") && message != "loaded non-finite weights", "trial \(trial): \(message)")
            outcomes["\(outcome)", default: 0] += 1
        }
        // Both outcomes occur: flips in unused bytes load, damaged structure is refused.
        #expect(outcomes["loaded", default: 0] > 0)
        #expect(outcomes.keys.contains { $0.hasPrefix("refused") })
    }

    @Test func removedReshapedRetypedAndNestedDatasetsAreRefusedByName() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tiny = TinyRun(seed: 6)
        var rng = RandomGenerator(seed: 7)
        let keys = tiny.modules.flatMap { group, module in module.namedParameters().map { "\(group)/\($0.name)" } }.sorted()
        for trial in 0..<60 {
            let key = keys[rng.int(below: keys.count)]
            var checkpoint = tiny.checkpoint()
            let (group, name) = (String(key.split(separator: "/")[0]), String(key.split(separator: "/")[1]))
            let path = directory + "/trial.h5"
            switch trial % 4 {
            case 0:   // removed
                checkpoint.modules[group]!.removeAll { $0.name == name }
                try CheckpointIO.write(checkpoint, to: path)
                let (outcome, message) = load(path)
                #expect(outcome == .refused(.mismatch) && message.contains("missing key \(key)"), "\(message)")
            case 1:   // reshaped
                let index = checkpoint.modules[group]!.firstIndex { $0.name == name }!
                let t = checkpoint.modules[group]![index].tensor
                checkpoint.modules[group]![index].tensor = Tensor.zeros([t.count + 1])
                try CheckpointIO.write(checkpoint, to: path)
                let (outcome, message) = load(path)
                #expect(outcome == .refused(.mismatch) && message.contains("shape mismatch for \(key)"), "\(message)")
            case 2:   // a string where a tensor should be
                try CheckpointIO.write(checkpoint, to: path)
                let file = try HDF5File(path: path, mode: .readWrite)
                try file.write(key, shape: [3], uint8: Array("abc".utf8))
                try file.close()
                try Integrity.seal(path)   // a consistent file with the wrong content, not a damaged one
                let (outcome, message) = load(path)
                #expect(outcome == .refused(.corrupt) && message.contains("'\(key)' is uint8, expected a float32 tensor"), "\(message)")
            default:  // a group where a dataset should be
                checkpoint.modules[group]!.removeAll { $0.name == name }
                try CheckpointIO.write(checkpoint, to: path)
                let file = try HDF5File(path: path, mode: .readWrite)
                try file.write("\(key)/inner", shape: [1], float32: [0])
                try file.close()
                try Integrity.seal(path)
                let (outcome, message) = load(path)
                #expect(outcome == .refused(.corrupt) && message.contains("unexpected dataset '\(key)/inner'"), "\(message)")
            }
        }
    }
}
