import Checkpoints
import Foundation
import Testing

/// Runs the real `jepa` binary under Open MPI's `mpirun` (skipped, with a note, when mpirun is not
/// installed; CI installs openmpi-bin): two ranks with half the batch each must end with the same
/// parameters as one process with the whole batch.
@Suite(.serialized) struct DataParallelTests {
    static let repository = JepaCommand.repository
    static let jepa = JepaCommand.path

    static func run(_ arguments: [String], in directory: String) -> (status: Int32, output: String) {
        JepaCommand.run(arguments, in: directory)
    }

    static var hasMPI: Bool { run(["mpirun", "--version"], in: "/").status == 0 }

    /// A directory with tiny balls data and a config with a per-example loss (no batch statistics).
    static func prepare() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ddp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let world = repository.appendingPathComponent("experiments/tiny-balls-world.json").path
        let made = run([jepa, "data", "generate", "--world", "balls", "--episodes", "16", "--frames", "4",
                        "--config", world, "--out", "\(dir)/data.h5"], in: dir)
        #expect(made.status == 0, "\(made.output)")
        try """
            name: ddp
            data: {path: data.h5, batch_size: 8}
            model: {frames: 2, image_size: 16, patch: 8, encoder_dim: 16, encoder_depth: 1, encoder_heads: 2,
                    predictor_dim: 8, predictor_depth: 1, predictor_heads: 2}
            mask: {kind: multiblock, blocks: 1, spatial_scale: [0.25, 0.25], aspect_ratio: [1, 1], masked_spatial_fraction: 0.5}
            loss: {prediction: 1, variance: 0, covariance: 0}
            optim: {lr: 2.0e-3, warmup_steps: 1}
            train: {steps: 4, log_every: 1, checkpoint_every: 4}
            """.write(toFile: "\(dir)/ddp.yaml", atomically: true, encoding: .utf8)
        return dir
    }

    @Test func twoRanksWithHalfBatchesMatchOneProcess() throws {
        guard Self.hasMPI else {
            print("note: mpirun (Open MPI) is not installed; the data-parallel test is skipped")
            return
        }
        let dir = try Self.prepare()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let single = Self.run([Self.jepa, "train", "--config", "ddp.yaml", "--set", "name=single", "--threads", "1"], in: dir)
        #expect(single.status == 0, "\(single.output)")
        let ranks = Self.run(["mpirun", "--oversubscribe", "-np", "2", Self.jepa, "train", "--config", "ddp.yaml",
                              "--set", "name=ranks", "--threads", "1"], in: dir)
        #expect(ranks.status == 0, "\(ranks.output)")
        #expect(ranks.output.contains("batch 8 (4 on each of 2 ranks)"))

        let a = try CheckpointIO.read("\(dir)/runs/single/checkpoints/step_4.h5")
        let b = try CheckpointIO.read("\(dir)/runs/ranks/checkpoints/step_4.h5")
        for group in ["context_encoder", "target_encoder", "predictor"] {
            let mine = Dictionary(uniqueKeysWithValues: b.modules[group]!.map { ($0.name, $0.tensor.scalars) })
            for (name, tensor) in a.modules[group]! {
                let x = tensor.scalars, y = try #require(mine[name])
                let scale = max(x.map(abs).max()!, 1e-6)
                let worst = zip(x, y).map { abs($0 - $1) }.max()!
                #expect(worst <= 1e-5 * scale, "\(group)/\(name): max |difference| \(worst)")
            }
        }
        // The averaged loss is logged once, by rank 0, and equals the single process's.
        let lines = try String(contentsOfFile: "\(dir)/runs/ranks/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        let first = { (path: String) throws -> Double in
            let line = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")[0]
            return try #require((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["prediction"] as? Double)
        }
        #expect(abs(try first("\(dir)/runs/single/metrics.jsonl") - first("\(dir)/runs/ranks/metrics.jsonl")) < 1e-5)
    }

    @Test func ranksWithDifferentConfigsOrAnUnevenBatchAreRefusedBeforeTraining() throws {
        guard Self.hasMPI else { return }
        let dir = try Self.prepare()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Each rank writes its stderr to its own file: mpirun forwards the ranks' streams in chunks
        // that can interleave mid-line. It may also stop the other ranks once one has failed, so the
        // message must be whole in at least one rank's file, as it was in the merged output before.
        let rankStderr = "2> $0.stderr.$OMPI_COMM_WORLD_RANK"
        let reported = { (name: String, ranks: Int, message: String) -> Bool in
            (0..<ranks).contains { rank in
                ((try? String(contentsOfFile: "\(dir)/\(name).stderr.\(rank)", encoding: .utf8)) ?? "").contains(message)
            }
        }
        let differ = Self.run(["mpirun", "--oversubscribe", "-np", "2", "sh", "-c",
                               "\(Self.jepa) train --config ddp.yaml --set name=differ --threads 1 --set optim.lr=0.00$((OMPI_COMM_WORLD_RANK+1)) \(rankStderr)",
                               "differ"], in: dir)
        #expect(differ.status != 0)
        #expect(reported("differ", 2, "ranks were started with different configs"), "\(differ.output)")
        let uneven = Self.run(["mpirun", "--oversubscribe", "-np", "3", "sh", "-c",
                               "\(Self.jepa) train --config ddp.yaml --set name=uneven --threads 1 \(rankStderr)", "uneven"], in: dir)
        #expect(uneven.status != 0)
        #expect(reported("uneven", 3, "data.batch_size 8 does not split evenly over 3 ranks"), "\(uneven.output)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/runs/differ") && !FileManager.default.fileExists(atPath: "\(dir)/runs/uneven"))
    }
}
