import Foundation
@testable import JEPA
import NN
import Tensors
import Testing

/// Gradients of every trainable tensor after one `DataParallelStep` over `workers` shards.
private func stepGradients(_ parameters: [Tensor], workers: Int, batch: Int,
                           _ loss: (Range<Int>) -> JEPALoss) -> (gradients: [[Float]], loss: JEPALoss) {
    for p in parameters { p.grad = nil }
    let value = DataParallelStep(trainable: parameters).run(batch: batch, workers: workers, loss)
    let gradients = parameters.map { $0.grad?.scalars ?? [] }
    for p in parameters { p.grad = nil }
    return (gradients, value)
}

/// Largest |a − b| / (1e-6 + max |b|) over each tensor's gradient; and whether the same tensors got one.
private func expectClose(_ a: [[Float]], _ b: [[Float]], tolerance: Float = 2e-4, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.map(\.isEmpty) == b.map(\.isEmpty), "different tensors received gradients", sourceLocation: sourceLocation)
    var worst: Float = 0
    for (x, y) in zip(a, b) where !y.isEmpty {
        let scale = y.map(abs).max()! + 1e-6
        worst = max(worst, zip(x, y).map { abs($0 - $1) }.max()! / scale)
    }
    #expect(worst < tolerance, "relative gradient difference \(worst)", sourceLocation: sourceLocation)
}

/// Gives the zero-initialised output layers values, so that every parameter gets a gradient.
private func perturbZeroParameters(_ module: Module, seed: UInt64 = 2) {
    var rng = RandomGenerator(seed: seed)
    for p in module.parameters() where p.scalars.allSatisfy({ $0 == 0 }) {
        p.assign(Tensor.uniform(p.shape, low: -0.2, high: 0.2, using: &rng))
    }
}

@Suite struct DataParallelStepTests {
    /// The masked video model with every batch-level term on (variance, covariance and SIGReg over
    /// the whole batch, a sampled latent per clip): 2 and 4 shards give the gradients and logged
    /// values of one, up to float summation order; a repeat with 2 shards is bit for bit the same.
    @Test func videoModelShardsGiveTheWholeBatchGradient() throws {
        var c = VideoJEPAConfig()
        (c.frames, c.imageSize, c.patch, c.tubelet) = (2, 16, 8, 1)
        (c.encoderDim, c.encoderDepth, c.encoderHeads, c.predictorDim, c.predictorDepth, c.predictorHeads) = (16, 1, 2, 8, 1, 2)
        (c.latentDim, c.latentSamples) = (2, 4)
        var rng = RandomGenerator(seed: 5)
        let model = try VideoJEPA(config: c, rng: &rng)
        let batch = 8
        let clips = Tensor.uniform([batch, 1, 2, 16, 16], using: &rng)
        var context: [[Int]] = [], target: [[Int]] = []
        for _ in 0..<batch {
            let p = rng.permutation(8)
            target.append(p[..<4].sorted())
            context.append(p[4...].sorted())
        }
        var weights = JEPALossWeights(prediction: 1, variance: 1, covariance: 0.5, sigreg: 0.1)
        weights.dense = 0.3
        let parameters = model.trainableParameters.map(\.tensor)
        let loss = { (rows: Range<Int>) in
            model.loss(clips: clips.slice(axis: 0, rows), contextIndices: Array(context[rows]),
                       targetIndices: Array(target[rows]), weights: weights, sigregSeed: 11)
        }
        let (one, whole) = stepGradients(parameters, workers: 1, batch: batch, loss)
        #expect(one.allSatisfy { !$0.isEmpty })
        for workers in [2, 4] {
            let (sharded, value) = stepGradients(parameters, workers: workers, batch: batch, loss)
            expectClose(sharded, one)
            #expect(abs(value.total.item - whole.total.item) < 1e-5 * max(1, abs(whole.total.item)))
            #expect(abs(value.prediction - whole.prediction) < 1e-5)
            #expect(abs(value.variance - whole.variance) < 1e-5 && abs(value.covariance - whole.covariance) < 1e-5
                    && abs(value.sigreg - whole.sigreg) < 1e-4)
            #expect(value.targets.shape == whole.targets.shape)
        }
        #expect(stepGradients(parameters, workers: 2, batch: batch, loss).gradients
                == stepGradients(parameters, workers: 2, batch: batch, loss).gradients)
    }

    /// The compact action model with proprioception, rollout, inverse dynamics, position-wise
    /// variance/covariance and a sampled z: the same equivalence.
    @Test func actionModelShardsGiveTheWholeBatchGradient() throws {
        var c = ActionJEPAConfig()
        (c.frames, c.imageSize, c.patch, c.predictor, c.pooledDim) = (4, 16, 4, .gru, 8)
        (c.encoderDim, c.encoderDepth, c.encoderHeads, c.gruHidden, c.inverseDynamicsHidden) = (16, 1, 2, 12, 8)
        (c.rolloutSteps, c.distance, c.proprio, c.proprioScale) = (3, .l2, true, [16, 16, 6])
        (c.zDim, c.zSamples) = (2, 4)
        var rng = RandomGenerator(seed: 7)
        let model = try ActionConditionedJEPA(config: c, rng: &rng)
        perturbZeroParameters(model.predictor)
        let batch = 6
        let frames = Tensor.uniform([batch, 4, 1, 16, 16], using: &rng)
        let actions = Tensor.uniform([batch, 4, c.actionDim], low: -1, high: 1, using: &rng)
        let states = Tensor.uniform([batch, 4, 4], low: 0, high: 16, using: &rng)
        let weights = JEPALossWeights(prediction: 1, variance: 1, covariance: 0.04, sigreg: 0.05, rollout: 1, inverseDynamics: 1)
        let parameters = model.trainableParameters.map(\.tensor)
        let loss = { (rows: Range<Int>) in
            model.loss(frames: frames.slice(axis: 0, rows), actions: actions.slice(axis: 0, rows),
                       proprio: states.slice(axis: 0, rows), weights: weights, sigregSeed: 3)
        }
        let (one, whole) = stepGradients(parameters, workers: 1, batch: batch, loss)
        let (sharded, value) = stepGradients(parameters, workers: 3, batch: batch, loss)
        expectClose(sharded, one)
        #expect(abs(value.total.item - whole.total.item) < 1e-5 * max(1, abs(whole.total.item)))
        #expect(abs(value.parts.rollout! - whole.parts.rollout!) < 1e-5)
        #expect(abs(value.parts.proprio! - whole.parts.proprio!) < 1e-5)
        #expect(abs(value.parts.copyBaseline! - whole.parts.copyBaseline!) < 1e-5)
    }

    /// A batch that does not split over the workers is refused by `workers(forBatch:)` (one shard,
    /// the ops threaded instead), and inside a shard nothing splits again.
    @Test func workerCountFollowsTheBatch() {
        #expect(DataParallel.workers(forBatch: 16, threads: 2) == 2)
        #expect(DataParallel.workers(forBatch: 15, threads: 2) == 1)
        #expect(DataParallel.workers(forBatch: 1, threads: 2) == 1)
        #expect(DataParallel.workers(forBatch: 16, threads: 1) == 1)
        let inner = ShardResults<Int>(count: 2)
        DataParallel.run(batch: 4, workers: 2) { shard in
            inner[shard.index] = DataParallel.workers(forBatch: 16, threads: 2) * 10 + Parallel.threads
        }
        #expect(inner.values == [11, 11])
    }
}
