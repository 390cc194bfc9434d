import Checkpoints
import Foundation
import JEPA
import NN
import Tensors

/// Saving and loading a training checkpoint of the reference video JEPA (balls-vjepa sizes: encoder
/// 192 × 6, predictor 96 × 4, with AdamW moments): atomic write with fsync and the CRC-32
/// integrity header, then read + integrity check + strict restore.
struct CheckpointSection: BenchSection {
    let id = "checkpoint"
    let title = "checkpoint write (atomic, fsync, CRC-32) and read + restore, reference video JEPA with AdamW state"

    func run(_ context: BenchContext) throws -> [BenchRow] {
        Parallel.threads = context.threads
        var rng = RandomGenerator(seed: 0)
        let model = try VideoJEPA(config: VideoJEPAConfig(), rng: &rng)
        let optimizer = AdamW(parameters: model.trainableParameters)
        let path = NSTemporaryDirectory() + "jepa-bench-checkpoint-\(getpid()).h5"
        defer { unlink(path) }
        let checkpoint = Checkpoint(step: 1, config: "", modules: model.checkpointModules, optimizer: optimizer)
        let write = Timing.measure(seconds: context.seconds, minReps: 3) { try? CheckpointIO.write(checkpoint, to: path) }
        let megabytes = Double((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) / 1e6
        let read = Timing.measure(seconds: context.seconds, minReps: 3) {
            _ = try? CheckpointIO.restore(path, into: model.checkpointModules, optimizer: optimizer)
        }
        try CheckpointIO.restore(path, into: model.checkpointModules, optimizer: optimizer)   // surfaces any error
        let size = String(format: "%.1f MB", megabytes)
        return [
            BenchRow(section: id, name: "write", shape: size, threads: context.threads, stats: write,
                     note: String(format: "%.0f MB/s", megabytes / write.median)),
            BenchRow(section: id, name: "read+restore", shape: size, threads: context.threads, stats: read,
                     note: String(format: "%.0f MB/s", megabytes / read.median)),
        ]
    }
}
