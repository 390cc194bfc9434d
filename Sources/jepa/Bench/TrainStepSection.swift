import JEPA
import NN
import Tensors
import Worlds

/// One JEPA training step at the reference size of `../shared/peer/peer_jepa.py --mode bench`:
/// 64×64 balls frames, 4-frame clips, patch 8, tubelet 1 (256 tokens), a tube mask of exactly 32 of
/// 64 spatial positions in every frame (128 context + 128 target tokens); encoder dim 192, depth 6,
/// 3 heads; predictor dim 96, depth 4, 3 heads; batch 16. The step: target forward (no graph),
/// context + predictor forward, L1 energy, backward, AdamW, EMA. Batches and masks are made before
/// the timer, as the peer does.
struct TrainStepSection: BenchSection {
    let id = "train-step"
    let title = "JEPA training step at the reference size (batch 16, 4×64×64 clips, 50% tube mask)"
    static let batch = 16

    /// The peer's analytic count: 3 × (context encoder + predictor forward) + target forward.
    static var flops: Double {
        func blocks(_ n: Double, _ d: Double, _ depth: Double) -> Double { depth * (24 * n * d * d + 4 * n * n * d) }
        let b = Double(batch)
        let context = b * blocks(128, 192, 6), target = b * blocks(256, 192, 6), predictor = b * blocks(256, 96, 4)
        return 3 * (context + predictor) + target
    }

    func run(_ context: BenchContext) throws -> [BenchRow] {
        OpenBLAS.setThreads(1)
        Parallel.threads = context.threads
        var rng = RandomGenerator(seed: 0)
        let model = try VideoJEPA(config: VideoJEPAConfig(), rng: &rng)
        let opt = AdamW(parameters: model.trainableParameters, learningRate: 1e-4, weightDecay: 0.04)
        let world = try BallsWorld()
        let batches = (0..<4).map { k in Self.makeBatch(world: world, offset: k * Self.batch, rng: &rng) }
        let step = DataParallelStep(trainable: model.trainableParameters.map(\.tensor))
        // The default (one shard per thread), and at 2+ threads the per-operation threading it replaced.
        let modes: [(String, Int?)] = context.threads > 1 ? [("train step", nil), ("train step, per-op threads", 1)] : [("train step", nil)]
        return modes.map { name, workers in
            // Each mode's peak memory on its own: the pool would keep the other mode's buffer sizes.
            TensorStorage.releaseCachedBuffers()
            var k = 0
            let stats = Timing.measure(seconds: context.seconds, minReps: context.minReps) {
                let (clips, ctx, tgt) = batches[k % batches.count]
                k += 1
                _ = step.run(batch: Self.batch, workers: workers) { rows in
                    model.loss(clips: clips.slice(axis: 0, rows), contextIndices: Array(ctx[rows]), targetIndices: Array(tgt[rows]))
                }
                opt.step()
                opt.zeroGrad()
                model.updateTarget(momentum: 0.996)
            }
            let clipsPerSecond = Double(Self.batch) / stats.median
            return BenchRow(section: id, name: name, shape: "16x1x4x64x64", threads: context.threads,
                            stats: stats, flops: Self.flops,
                            note: "\(fixed(1 / stats.median, 2)) steps/s, \(fixed(clipsPerSecond, 1)) clips/s")
        }
    }

    /// Clips [B, 1, 4, 64, 64] from the balls world and a peer-style tube mask per clip.
    static func makeBatch(world: BallsWorld, offset: Int, rng: inout RandomGenerator) -> (Tensor, [[Int]], [[Int]]) {
        let frames = 4, spatial = 64
        var values: [Float] = []
        for i in 0..<batch {
            values += world.episode(index: offset + i, seed: 1, frames: frames).frames.map { Float($0) / 255 }
        }
        let clips = Tensor(values, shape: [batch, frames, 1, 64, 64]).permuted([0, 2, 1, 3, 4])
        var context: [[Int]] = [], target: [[Int]] = []
        for _ in 0..<batch {
            let masked = Set(rng.permutation(spatial).prefix(spatial / 2))
            let all = 0..<(frames * spatial)
            target.append(all.filter { masked.contains($0 % spatial) })
            context.append(all.filter { !masked.contains($0 % spatial) })
        }
        return (clips, context, target)
    }
}
