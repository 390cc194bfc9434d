import Checkpoints
import Config
import Foundation
@testable import JEPA
import NN
import Tensors
import Testing

/// Latent-variable energy for the next-frame model: a per-clip z fed to the recurrent predictor.
@Suite struct NextFrameLatentTests {
    /// A tiny next-frame model (16×16 frames, 4×4 tokens pooled to 8 dimensions) with a z of size
    /// `zDim` and a predictor whose output depends on it.
    static func model(zDim: Int, seed: UInt64 = 21) throws -> ActionConditionedJEPA {
        var c = ActionJEPAConfig.passive
        (c.frames, c.imageSize, c.patch, c.encoderDim, c.encoderDepth, c.encoderHeads) = (5, 16, 4, 16, 1, 2)
        (c.pooledDim, c.gruHidden, c.rolloutSteps, c.distance, c.zDim, c.zSamples) = (8, 12, 3, .l2, zDim, 16)
        var rng = RandomGenerator(seed: seed)
        let m = try ActionConditionedJEPA(config: c, rng: &rng)
        // A trained-looking predictor (the untrained one predicts "nothing changes", blind to z).
        for p in m.predictor.parameters() { p.assign(Tensor.uniform(p.shape, low: -0.3, high: 0.3, using: &rng)) }
        return m
    }

    static func frames(seed: UInt64 = 5) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor.uniform([3, 5, 1, 16, 16], low: 0, high: 1, using: &rng)
    }

    @Test func choosingTheLatentLowersTheContinuationEnergy() throws {
        let m = try Self.model(zDim: 3)
        let latents = m.encode(Self.frames()), actions = Tensor.zeros([3, 3, 0])
        let zero = m.continuationEnergy(latents: latents, actions: actions, contextFrames: 1, horizon: 3)
        let sampled = m.continuationEnergy(latents: latents, actions: actions, contextFrames: 1, horizon: 3,
                                           inference: .sampled(count: 32, seed: 4))
        let descended = m.continuationEnergy(latents: latents, actions: actions, contextFrames: 1, horizon: 3,
                                             inference: .optimized(steps: 20, learningRate: 0.5))
        #expect(zero.energy.shape == [3] && zero.z?.scalars.allSatisfy { $0 == 0 } == true)
        // z = 0 is the first candidate, so the best sample is never worse than no latent.
        for (a, b) in zip(sampled.energy.scalars, zero.energy.scalars) { #expect(a <= b) }
        #expect(sampled.energy.scalars != zero.energy.scalars)
        for (a, b) in zip(descended.energy.scalars, zero.energy.scalars) { #expect(a < b) }
        #expect(descended.z?.shape == [3, 3])
        #expect(m.predictor.parameters().allSatisfy { $0.grad == nil || $0.grad!.scalars.allSatisfy { $0 == 0 } })
    }

    /// z = 0 is the model without a latent (the embedding has no bias), and the energy a model
    /// without one reports is its plain rollout energy.
    @Test func aZeroLatentIsNoLatent() throws {
        let m = try Self.model(zDim: 2)
        let latents = m.encode(Self.frames()), actions = Tensor.zeros([3, 4, 0])
        let context = latents.slice(axis: 1, 0..<2)
        let none = m.rollout(latents: context, actions: Tensor.zeros([3, 3, 0])).scalars
        let zero = m.rollout(latents: context, actions: Tensor.zeros([3, 3, 0]), z: Tensor.zeros([3, 2])).scalars
        #expect(none == zero)
        let plain = try Self.model(zDim: 0)
        let p = plain.encode(Self.frames())
        let e = plain.continuationEnergy(latents: p, actions: actions, contextFrames: 1, horizon: 4, inference: .sampled(count: 8, seed: 1))
        #expect(e.z == nil)
        let expected = energyPerClip(predicted: plain.rollout(latents: p.slice(axis: 1, 0..<1), actions: actions),
                                     target: p.slice(axis: 1, 1..<5), distance: .l2)
        #expect(e.energy.scalars == expected.scalars)
    }

    /// Training's teacher-forced energy with the chosen z is at most the one with z = 0.
    @Test func trainingPicksTheBestCandidatePerClip() throws {
        let m = try Self.model(zDim: 3)
        let x = Self.frames(), actions = Tensor.zeros([3, 5, 0])
        var weights = JEPALossWeights()
        (weights.variance, weights.covariance, weights.rollout) = (0, 0, 0)
        let withLatent = m.loss(frames: x, actions: actions, weights: weights, sigregSeed: 9).prediction
        let z = ActionConditionedJEPA.normalized(m.rawLatents(x, encoder: m.contextEncoder))
        let zeroPrediction = m.predictor(latents: z.slice(axis: 1, 0..<4), actions: Tensor.zeros([3, 4, 0]), z: Tensor.zeros([3, 3]))
        let atZero = energy(predicted: zeroPrediction, target: m.encode(x).slice(axis: 1, 1..<5), distance: .l2).item
        #expect(withLatent.isFinite && withLatent < atZero)
    }

    @Test func latentGradientsMatchFiniteDifferences() throws {
        let m = try Self.model(zDim: 2)
        let latents = m.encode(Self.frames()).slice(axis: 1, 0..<3)
        var rng = RandomGenerator(seed: 2)
        let z = Tensor.uniform([3, 2], low: -1, high: 1, using: &rng, requiresGrad: true)
        let predictor = try #require(m.predictor as? RecurrentPredictor)
        let bad = GradientCheck.mismatches([z, predictor.zEmbed!.weight]) { inputs in
            predictor(latents: latents, actions: Tensor.zeros([3, 3, 0]), z: inputs[0]).squared().sum()
        }
        #expect(bad.isEmpty, "\(bad.prefix(5))")
    }

    @Test func theLatentEmbeddingIsCheckpointedAndSettingsAreChecked() throws {
        #expect(try Self.model(zDim: 2).trainableParameters.map(\.name).contains("predictor.z_embed.weight"))
        #expect(try !Self.model(zDim: 0).trainableParameters.map(\.name).contains("predictor.z_embed.weight"))
        func load(_ yaml: String) throws -> TrainingConfig { try ConfigLoader.load(TrainingConfig.self, yaml: yaml, file: "nf.yaml") }
        let c = try load("kind: next_frame\nmodel: {latent_dim: 4, latent_samples: 16, latent_penalty: 0.1}")
        #expect(c.actionModel.zDim == 4 && c.actionModel.zSamples == 16 && c.actionModel.zPenalty == 0.1)
        func message(_ yaml: String) -> String {
            do { _ = try load(yaml); return "" } catch { return "\(error)" }
        }
        #expect(message("kind: next_frame\nmodel: {latent_dim: 2, predictor: transformer}").contains("model.latent_dim: needs predictor: recurrent or gru"))
        #expect(message("kind: next_frame\nmodel: {latent_dim: 2, latent_samples: 0}").contains("model.latent_samples: must be at least 1"))
        #expect(message("kind: next_frame\nmodel: {latent_dim: -1}").contains("model.latent_dim: must be non-negative"))
        #expect(message("kind: next_frame\nmodel: {latent_dim: 2, latent_penalty: -1}").contains("model.latent_penalty"))
    }
}
