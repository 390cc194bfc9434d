import Checkpoints
import Config
import Foundation
@testable import JEPA
import NN
import Tensors
import Testing

/// Latent-variable energy: a latent z fed to the predictor, the energy minimised over z.
@Suite struct LatentEnergyTests {
    static func model(latentDim: Int, seed: UInt64 = 11) throws -> VideoJEPA {
        var c = V21ObjectivesTests.config()
        c.latentDim = latentDim
        var rng = RandomGenerator(seed: seed)
        let m = try VideoJEPA(config: c, rng: &rng)
        if let embed = m.predictor.latentEmbed { embed.weight.assign(embed.weight * 20) }   // a latent that matters
        return m
    }

    @Test func optimisingTheLatentLowersTheEnergy() throws {
        let m = try Self.model(latentDim: 4)
        let (clips, context, target) = V21ObjectivesTests.batch()
        let zero = m.latentEnergy(clips: clips, contextIndices: context, targetIndices: target, inference: .zero)
        let descended = m.latentEnergy(clips: clips, contextIndices: context, targetIndices: target,
                                       inference: .optimized(steps: 10, learningRate: 0.05))
        let sampled = m.latentEnergy(clips: clips, contextIndices: context, targetIndices: target,
                                     inference: .sampled(count: 16, seed: 3))
        for (a, b) in zip(descended.energy.scalars, zero.energy.scalars) { #expect(a < b) }
        // z = 0 is the first candidate, so the best sample is never worse than no latent.
        for (a, b) in zip(sampled.energy.scalars, zero.energy.scalars) { #expect(a <= b) }
        #expect(sampled.energy.scalars != zero.energy.scalars)
        #expect(descended.latent?.shape == [2, 4] && zero.latent?.scalars.allSatisfy { $0 == 0 } == true)
        #expect(m.predictor.parameters().allSatisfy { $0.grad == nil || $0.grad!.scalars.allSatisfy { $0 == 0 } })
    }

    @Test func trainingPicksTheBestCandidatePerClip() throws {
        let m = try Self.model(latentDim: 4)
        let (clips, context, target) = V21ObjectivesTests.batch()
        let withLatent = m.loss(clips: clips, contextIndices: context, targetIndices: target).prediction
        let zero = m.latentEnergy(clips: clips, contextIndices: context, targetIndices: target, inference: .zero).energy.scalars
        #expect(withLatent <= zero.reduce(0, +) / Float(zero.count) + 1e-6)
        #expect(withLatent.isFinite)
    }

    @Test func withoutALatentNothingChanges() throws {
        let plain = try Self.model(latentDim: 0)
        #expect(plain.predictor.latentEmbed == nil)
        let (clips, context, target) = V21ObjectivesTests.batch()
        let e = plain.latentEnergy(clips: clips, contextIndices: context, targetIndices: target, inference: .optimized(steps: 5, learningRate: 1))
        #expect(e.latent == nil)
        let loss = plain.loss(clips: clips, contextIndices: context, targetIndices: target)
        #expect(abs(e.energy.scalars.reduce(0, +) / 2 - loss.prediction) < 1e-6)
    }

    @Test func latentGradientsMatchFiniteDifferences() throws {
        let m = try Self.model(latentDim: 3)
        let (clips, context, target) = V21ObjectivesTests.batch()
        let targetAtMask = m.targetFeatures(clips).gather(batchIndices: target)
        let encoded = noGrad { m.contextEncoder(clips, tokenIndices: context) }
        var rng = RandomGenerator(seed: 2)
        let z = Tensor.uniform([2, 3], low: -1, high: 1, using: &rng, requiresGrad: true)
        let bad = GradientCheck.mismatches([z, m.predictor.latentEmbed!.weight]) { inputs in
            m.predictionEnergy(context: encoded, targetAtMask: targetAtMask, contextIndices: context, targetIndices: target, latent: inputs[0])
        }
        #expect(bad.isEmpty, "\(bad.prefix(5))")
    }

    @Test func theLatentEmbeddingIsCheckpointedAndSettingsAreChecked() throws {
        let m = try Self.model(latentDim: 2)
        #expect(m.predictor.namedParameters().map(\.name).contains("latent_embed.weight"))
        let base = "name: t\nmodel: {frames: 2, image_size: 16, patch: 8, encoder_dim: 16, encoder_heads: 2, predictor_dim: 8, predictor_heads: 2"
        func load(_ yaml: String) throws { _ = try ConfigLoader.load(TrainingConfig.self, yaml: yaml, file: "t.yaml") }
        try load(base + ", latent_dim: 4, latent_samples: 16, latent_penalty: 0.1}\n")
        #expect { try load(base + ", latent_dim: 4, latent_samples: 0}\n") } throws: { "\($0)".contains("model.latent_samples") }
        #expect { try load(base + ", latent_dim: -1}\n") } throws: { "\($0)".contains("model.latent_dim") }
    }
}
