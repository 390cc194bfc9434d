import Checkpoints
import Config
import Foundation
@testable import JEPA
import NN
import Tensors
import Testing

/// V-JEPA 2.1 objectives: the dense predictive loss on context tokens and deep self-supervision.
@Suite struct V21ObjectivesTests {
    static func config(deepLevels: [Int] = []) -> VideoJEPAConfig {
        var c = VideoJEPAConfig()
        (c.frames, c.imageSize, c.patch, c.tubelet) = (2, 16, 8, 1)           // 2 × 2 × 2 = 8 tokens
        (c.encoderDim, c.encoderDepth, c.encoderHeads) = (16, 3, 2)
        (c.predictorDim, c.predictorDepth, c.predictorHeads) = (8, 1, 2)
        c.deepLevels = deepLevels
        return c
    }

    static func batch() -> (clips: Tensor, context: [[Int]], target: [[Int]]) {
        var rng = RandomGenerator(seed: 4)
        let clips = Tensor.uniform([2, 1, 2, 16, 16], using: &rng)
        return (clips, [[0, 1, 2, 4], [3, 5, 6, 7]], [[3, 5, 6, 7], [0, 1, 2, 4]])
    }

    @Test func zeroWeightsGiveTheBaselineNumbers() throws {
        var rngA = RandomGenerator(seed: 9), rngB = RandomGenerator(seed: 9)
        let baseline = try VideoJEPA(config: Self.config(), rng: &rngA)
        let deep = try VideoJEPA(config: Self.config(deepLevels: [1, 2]), rng: &rngB)
        #expect(deep.predictor.levelHeads.count == 2)
        // The heads are drawn after every other parameter, so the shared ones are identical.
        for (name, tensor) in baseline.predictor.namedParameters() {
            #expect(deep.predictor.parameterDictionary()[name]!.scalars == tensor.scalars, "\(name)")
        }
        let (clips, context, target) = Self.batch()
        let off = JEPALossWeights(prediction: 1, variance: 1, covariance: 0.04)
        var zero = off
        zero.dense = 0
        zero.deep = [0, 0]
        let a = baseline.loss(clips: clips, contextIndices: context, targetIndices: target, weights: off)
        let b = deep.loss(clips: clips, contextIndices: context, targetIndices: target, weights: zero)
        #expect(a.total.item == b.total.item && a.prediction == b.prediction)
        #expect(b.parts.dense == nil && b.parts.deep == nil)

        var on = zero
        on.dense = 0.5
        on.deep = [0.25, 1]
        let c = deep.loss(clips: clips, contextIndices: context, targetIndices: target, weights: on)
        #expect(c.prediction == a.prediction)
        let dense = try #require(c.parts.dense), levels = try #require(c.parts.deep)
        #expect(dense > 0 && levels.count == 2 && levels.allSatisfy { $0 > 0 })
        #expect(abs(c.total.item - (a.total.item + 0.5 * dense + 0.25 * levels[0] + levels[1])) < 1e-5)
    }

    @Test func eachLevelIsALayerNormalisedTargetOfTheRightShape() throws {
        var rng = RandomGenerator(seed: 1)
        let model = try VideoJEPA(config: Self.config(deepLevels: [1, 2]), rng: &rng)
        let (clips, _, _) = Self.batch()
        let (final, levels) = model.multiLevelTargetFeatures(clips)
        #expect(levels.count == 2)
        #expect(([final] + levels).allSatisfy { $0.shape == [2, 8, 16] })
        #expect(final.scalars == model.targetFeatures(clips).scalars)
        for level in levels {
            let v = level.scalars
            for token in 0..<16 {
                let row = v[(token * 16)..<((token + 1) * 16)]
                let mean = row.reduce(0, +) / 16
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 16
                #expect(abs(mean) < 1e-4 && abs(variance - 1) < 1e-2)
            }
        }
        #expect(levels[0].scalars != levels[1].scalars && levels[1].scalars != final.scalars)
    }

    @Test func distanceWeightingIsOneOverRootDistance() throws {
        var rng = RandomGenerator(seed: 2)
        let model = try VideoJEPA(config: Self.config(), rng: &rng)
        let (clips, _, _) = Self.batch()
        let targets = model.targetFeatures(clips)
        let predicted = Tensor.uniform([2, 1, 16], using: &rng)
        // Grid [t, h, w] = [2, 2, 2]: token 0 is (0,0,0); its nearest target 7 = (1,1,1) is √3 away,
        // and for clip 2 the target 1 = (0,0,1) next to context 0 is 1 away.
        let context = [[0], [0]], masked = [[7], [1, 7]]
        let uniform = model.denseEnergy(predicted: predicted, targets: targets, contextIndices: context,
                                        targetIndices: masked, weighting: .uniform)
        let weighted = model.denseEnergy(predicted: predicted, targets: targets, contextIndices: context,
                                         targetIndices: masked, weighting: .distance)
        let perClip = energyPerClip(predicted: predicted, target: targets.gather(batchIndices: context)).scalars
        #expect(abs(uniform.item - (perClip[0] + perClip[1]) / 2) < 1e-6)
        let expected = (perClip[0] / Float(3).squareRoot().squareRoot() + perClip[1]) / 2
        #expect(abs(weighted.item - expected) < 1e-6)
    }

    @Test func gradientsOfTheNewTermsMatchFiniteDifferences() throws {
        var rng = RandomGenerator(seed: 3)
        let model = try VideoJEPA(config: Self.config(deepLevels: [2]), rng: &rng)
        let (clips, context, target) = Self.batch()
        var weights = JEPALossWeights(prediction: 0)
        weights.dense = 1
        weights.deep = [1]
        let params = [model.predictor.levelHeads[0].weight, model.predictor.predictorProj.weight, model.predictor.predictorEmbed.weight]
        let bad = GradientCheck.mismatches(params) { _ in
            model.loss(clips: clips, contextIndices: context, targetIndices: target, weights: weights).total
        }
        #expect(bad.isEmpty, "\(bad.prefix(5))")
    }

    @Test func checkpointsStoreAndReloadTheLevelHeads() throws {
        var rng = RandomGenerator(seed: 5)
        let model = try VideoJEPA(config: Self.config(deepLevels: [1, 2]), rng: &rng)
        #expect(model.predictor.namedParameters().map(\.name).contains("level_heads.1.weight"))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("v21-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try CheckpointIO.write(Checkpoint(step: 1, modules: model.checkpointModules, optimizer: nil), to: path)
        var other = RandomGenerator(seed: 6)
        let fresh = try VideoJEPA(config: Self.config(deepLevels: [1, 2]), rng: &other)
        try CheckpointIO.restore(path, into: fresh.checkpointModules, optimizer: nil)
        #expect(fresh.predictor.levelHeads[1].weight.scalars == model.predictor.levelHeads[1].weight.scalars)
        let plain = try VideoJEPA(config: Self.config(), rng: &other)
        #expect { try CheckpointIO.restore(path, into: plain.checkpointModules, optimizer: nil) } throws: {
            "\($0)".contains("unexpected key predictor/level_heads.0.weight")
        }
    }

    @Test func badSettingsNameTheirKey() throws {
        let base = "name: t\nmodel: {frames: 2, image_size: 16, patch: 8, encoder_dim: 16, encoder_depth: 3, encoder_heads: 2, predictor_dim: 8, predictor_heads: 2"
        func load(_ yaml: String) throws { _ = try ConfigLoader.load(TrainingConfig.self, yaml: yaml, file: "t.yaml") }
        try load(base + ", deep_levels: [1, 2]}\nloss: {dense: 0.5, deep: [0.5, 0.5], dense_weighting: uniform}\n")
        #expect { try load(base + ", deep_levels: [1, 3]}\n") } throws: { "\($0)".contains("model.deep_levels") }
        #expect { try load(base + ", deep_levels: [2, 1]}\n") } throws: { "\($0)".contains("model.deep_levels") }
        #expect { try load(base + ", deep_levels: [1]}\nloss: {deep: [1, 1]}\n") } throws: { "\($0)".contains("loss.deep") }
        #expect { try load(base + "}\nloss: {dense: -1}\n") } throws: { "\($0)".contains("loss.dense") }
        #expect { try load("name: t\nkind: next_frame\nmodel: {action_dim: 0, predictor: recurrent}\nloss: {dense: 1}\n") } throws: {
            "\($0)".contains("loss.dense") && "\($0)".contains("model.dense_head")
        }
    }
}
