import Checkpoints
import Config
import Foundation
@testable import JEPA
import NN
import Tensors
import Testing

/// V-JEPA 2.1 objectives on the compact action-conditioned model: deep self-supervision (per-level
/// heads on the GRU state, targets read out of the target ViT's intermediate blocks) and the dense
/// analogue (a head regressing the stepped-from frame's target).
@Suite struct ActionV21ObjectivesTests {
    static func config(deepLevels: [Int] = [], denseHead: Bool = false) -> ActionJEPAConfig {
        var c = ActionJEPAConfig()
        (c.frames, c.imageSize, c.patch, c.predictor, c.pooledDim) = (3, 16, 8, .gru, 4)
        (c.encoderDim, c.encoderDepth, c.encoderHeads, c.gruHidden, c.inverseDynamicsHidden) = (8, 3, 2, 6, 4)
        (c.actionDim, c.rolloutSteps, c.distance) = (2, 2, .l2)
        (c.deepLevels, c.denseHead) = (deepLevels, denseHead)
        return c
    }

    static func batch() -> (frames: Tensor, actions: Tensor) {
        var rng = RandomGenerator(seed: 4)
        return (Tensor.uniform([2, 3, 1, 16, 16], using: &rng), Tensor.uniform([2, 3, 2], low: -1, high: 1, using: &rng))
    }

    @Test func zeroWeightsGiveTheBaselineNumbers() throws {
        var rngA = RandomGenerator(seed: 9), rngB = RandomGenerator(seed: 9)
        let baseline = try ActionConditionedJEPA(config: Self.config(), rng: &rngA)
        let both = try ActionConditionedJEPA(config: Self.config(deepLevels: [1, 2], denseHead: true), rng: &rngB)
        let gru = try #require(both.predictor as? ActionGRUPredictor)
        #expect(gru.levelHeads.count == 2 && gru.denseHead != nil)
        // The heads are drawn after every other parameter, so the shared ones are identical.
        let withHeads = Dictionary(uniqueKeysWithValues: both.trainableParameters.map { ($0.name, $0.tensor) })
        for (name, tensor) in baseline.trainableParameters {
            #expect(withHeads[name]?.scalars == tensor.scalars, "\(name)")
        }
        let (frames, actions) = Self.batch()
        let off = JEPALossWeights(prediction: 1, variance: 1, covariance: 0.04, rollout: 1, inverseDynamics: 1)
        var zero = off
        zero.dense = 0
        zero.deep = [0, 0]
        let a = baseline.loss(frames: frames, actions: actions, weights: off)
        let b = both.loss(frames: frames, actions: actions, weights: zero)
        #expect(a.total.item == b.total.item && a.prediction == b.prediction && a.parts.rollout == b.parts.rollout)
        #expect(b.parts.dense == nil && b.parts.deep == nil)

        var on = zero
        on.dense = 0.5
        on.deep = [0.25, 1]
        let c = both.loss(frames: frames, actions: actions, weights: on)
        #expect(c.prediction == a.prediction)
        let dense = try #require(c.parts.dense), levels = try #require(c.parts.deep)
        #expect(dense > 0 && levels.count == 2 && levels.allSatisfy { $0 > 0 })
        #expect(abs(c.total.item - (a.total.item + 0.5 * dense + 0.25 * levels[0] + levels[1])) < 1e-5)
    }

    @Test func eachLevelIsALayerNormalisedPooledTargetOfTheLatentsShape() throws {
        var rng = RandomGenerator(seed: 1)
        let model = try ActionConditionedJEPA(config: Self.config(deepLevels: [1, 2]), rng: &rng)
        let (frames, _) = Self.batch()
        let (final, levels) = model.multiLevelTargets(frames)
        #expect(levels.count == 2)
        #expect(([final] + levels).allSatisfy { $0.shape == [2, 3, 1, 4] })
        #expect(final.scalars == model.encode(frames).scalars)
        for level in levels {
            let v = level.scalars
            for row in 0..<6 {
                let x = v[(row * 4)..<((row + 1) * 4)]
                let mean = x.reduce(0, +) / 4
                let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
                #expect(abs(mean) < 1e-4 && abs(variance - 1) < 1e-2)
            }
        }
        #expect(levels[0].scalars != levels[1].scalars && levels[1].scalars != final.scalars)
        // The level after block 1 is the target pooling of the hidden tokens there, computed independently.
        let pooled = try #require(model.targetEncoder as? ProjectedPoolEncoder), vit = try #require(pooled.backbone as? VisionTransformer)
        let images = frames.reshaped([6, 1, 16, 16])
        let afterOne = noGrad { vit.blocks[0](vit.embed(images)) }
        let expected = noGrad { pooled.pool(afterOne.reshaped([6, 1, -1])).layerNorm(weight: nil, bias: nil, eps: 1e-6) }
        #expect(zip(expected.scalars, levels[0].scalars).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test func gradientsOfTheNewTermsMatchFiniteDifferences() throws {
        var rng = RandomGenerator(seed: 3)
        let model = try ActionConditionedJEPA(config: Self.config(deepLevels: [2], denseHead: true), rng: &rng)
        let gru = try #require(model.predictor as? ActionGRUPredictor)
        let (frames, actions) = Self.batch()
        var weights = JEPALossWeights(prediction: 0)
        weights.dense = 1
        weights.deep = [1]
        let params = [gru.levelHeads[0].weight, try #require(gru.denseHead).weight, gru.inProj.weight, gru.actionEmbed.weight]
        let bad = GradientCheck.mismatches(params) { _ in model.loss(frames: frames, actions: actions, weights: weights).total }
        #expect(bad.isEmpty, "\(bad.prefix(5))")
    }

    @Test func checkpointsStoreAndReloadTheHeads() throws {
        var rng = RandomGenerator(seed: 5)
        let config = Self.config(deepLevels: [1, 2], denseHead: true)
        let model = try ActionConditionedJEPA(config: config, rng: &rng)
        let names = model.trainableParameters.map(\.name)
        #expect(names.contains("predictor.level_heads.1.weight") && names.contains("predictor.dense_head.weight"))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ac-v21-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try CheckpointIO.write(Checkpoint(step: 1, modules: model.checkpointModules, optimizer: nil), to: path)
        var other = RandomGenerator(seed: 6)
        let fresh = try ActionConditionedJEPA(config: config, rng: &other)
        try CheckpointIO.restore(path, into: fresh.checkpointModules, optimizer: nil)
        for ((name, a), (_, b)) in zip(model.trainableParameters, fresh.trainableParameters) {
            #expect(a.scalars == b.scalars, "\(name)")
        }
        let plain = try ActionConditionedJEPA(config: Self.config(), rng: &other)
        #expect { try CheckpointIO.restore(path, into: plain.checkpointModules, optimizer: nil) } throws: {
            "\($0)".contains("unexpected key predictor/")
        }
    }

    @Test func badSettingsNameTheirKey() throws {
        let base = "name: t\nkind: action_conditioned\nmodel: {frames: 3, image_size: 16, patch: 8, encoder_dim: 8, encoder_depth: 3, encoder_heads: 2, pooled_dim: 4"
        func load(_ yaml: String) throws { _ = try ConfigLoader.load(TrainingConfig.self, yaml: yaml, file: "t.yaml") }
        try load(base + ", predictor: gru, deep_levels: [1, 2], dense_head: true}\nloss: {dense: 0.5, deep: [0.5, 0.5]}\n")
        #expect { try load(base + ", predictor: gru, deep_levels: [1, 3]}\n") } throws: { "\($0)".contains("model.deep_levels") }
        #expect { try load(base + ", predictor: gru, deep_levels: [1]}\nloss: {deep: [1, 1]}\n") } throws: { "\($0)".contains("loss.deep") }
        #expect { try load(base + ", predictor: gru}\nloss: {dense: 1}\n") } throws: { "\($0)".contains("loss.dense") && "\($0)".contains("model.dense_head") }
        #expect { try load(base + ", predictor: recurrent, dense_head: true}\n") } throws: { "\($0)".contains("model.dense_head") }
        #expect { try load(base + ", predictor: gru, encoder: conv, deep_levels: [1]}\n") } throws: { "\($0)".contains("model.deep_levels") }
    }
}
