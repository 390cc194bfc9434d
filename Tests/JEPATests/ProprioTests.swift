import Checkpoints
import Config
import Foundation
@testable import JEPA
import NN
import Tensors
import Testing
import Worlds

/// A tiny GRU model of 16×16 frames (4×4 tokens of width 16, an 8-d latent), with or without
/// proprioception (scales of a 16×16 world whose fingers open up to 6 px).
private func tinyConfig(proprio: Bool) -> ActionJEPAConfig {
    var c = ActionJEPAConfig()
    (c.frames, c.imageSize, c.patch, c.predictor, c.pooledDim) = (4, 16, 4, .gru, 8)
    (c.encoderDim, c.encoderDepth, c.encoderHeads, c.gruHidden, c.inverseDynamicsHidden) = (16, 1, 2, 12, 8)
    (c.rolloutSteps, c.distance) = (3, .l2)
    (c.proprio, c.proprioScale) = (proprio, [16, 16, 6])
    return c
}

/// Frames, actions and states (gripper x, y, opening and one more entry) of a random batch.
private func randomBatch(_ c: ActionJEPAConfig, seed: UInt64 = 1) -> (frames: Tensor, actions: Tensor, states: Tensor) {
    var rng = RandomGenerator(seed: seed)
    return (Tensor.uniform([2, c.frames, 1, c.imageSize, c.imageSize], low: 0, high: 1, using: &rng),
            Tensor.uniform([2, c.frames, c.actionDim], low: -1, high: 1, using: &rng),
            Tensor.uniform([2, c.frames, 4], low: 0, high: 16, using: &rng))
}

/// Gives the zero-initialised output layers values, so that every parameter gets a gradient.
private func perturbZeroParameters(_ model: ActionConditionedJEPA, seed: UInt64 = 2) {
    var rng = RandomGenerator(seed: seed)
    for p in model.predictor.parameters() where p.scalars.allSatisfy({ $0 == 0 }) {
        p.assign(Tensor.uniform(p.shape, low: -0.2, high: 0.2, using: &rng))
    }
}

@Suite struct ProprioTests {
    /// Without proprioception the model is the one before it: no new parameters, the predictor is
    /// the plain GRU step, and the loss of a fixed batch is the number recorded when proprioception
    /// was added, to a few units in the last place (the CLI reproduced the reference run's metrics bit
    /// for bit, EXPERIMENTS §5.3).
    @Test func proprioOffKeepsTheOldModel() throws {
        let c = tinyConfig(proprio: false)
        #expect(c.proprioDim == 0 && c.stateDim == c.latentDim)
        var rng = RandomGenerator(seed: 3)
        let model = try ActionConditionedJEPA(config: c, rng: &rng)
        #expect(!model.trainableParameters.contains { $0.name.contains("proprio") })
        let gru = try #require(model.predictor as? ActionGRUPredictor)
        let (frames, actions, states) = randomBatch(c)
        let z = model.encode(frames)
        #expect(model.state(latents: z, proprio: states) === z)
        perturbZeroParameters(model)
        let a = actions.slice(axis: 1, 0..<3), zz = z.slice(axis: 1, 0..<3)
        let plain = noGrad { zz + gru.outProj(gru.cell(gru.actionEmbed(a).reshaped([2, 3, 1, -1]), gru.inProj(zz))) }
        #expect(noGrad { gru(latents: zz, actions: a) }.scalars == plain.scalars)
        let weights = JEPALossWeights(prediction: 1, variance: 1, covariance: 0.04, rollout: 1, inverseDynamics: 1)
        let loss = noGrad { model.loss(frames: frames, actions: actions, weights: weights) }
        #expect(loss.parts.proprio == nil && loss.parts.proprioCopyBaseline == nil)
        // Recorded bit for bit on another machine; OpenBLAS picks its kernels per CPU (this AMD EPYC
        // gives the next float), so a few units in the last place, not bits, are what must hold.
        let recorded = Float(bitPattern: 0x3fe8_4aa5)
        #expect(abs(loss.total.item - recorded) <= 4 * recorded.ulp, "\(loss.total.item) \(String(loss.total.item.bitPattern, radix: 16))")
    }

    /// With proprioception the state is [latent ‖ 2·s/scale − 1] of width D + 3, the predictor and
    /// the rollout map states to states, and an untrained predictor predicts "nothing changes" for
    /// the proprio part too (its head starts at zero).
    @Test func proprioStateHasTheRightWidth() throws {
        let c = tinyConfig(proprio: true)
        #expect(c.proprioDim == 3 && c.stateDim == 11)
        var rng = RandomGenerator(seed: 3)
        let model = try ActionConditionedJEPA(config: c, rng: &rng)
        let names = model.trainableParameters.map(\.name)
        for name in ["predictor.proprio_embed.weight", "predictor.proprio_embed.bias", "predictor.proprio_head.weight", "predictor.proprio_head.bias"] {
            #expect(names.contains(name), "\(names)")
        }
        let (frames, actions, states) = randomBatch(c)
        let z = model.encode(frames)
        #expect(z.shape == [2, 4, 1, 8])
        let s = model.state(latents: z, proprio: states)
        #expect(s.shape == [2, 4, 1, 11])
        #expect(model.visualPart(s).scalars == z.scalars)
        let raw = states.scalars
        let scale: [Float] = [16, 16, 6]
        var expected: [Float] = []
        for row in 0..<8 { for i in 0..<3 { expected.append(2 * raw[row * 4 + i] / scale[i] - 1) } }
        #expect(zip(model.proprioPart(s).scalars, expected).allSatisfy { abs($0 - $1) <= 1e-6 })
        let rolled = noGrad { model.rollout(latents: s.slice(axis: 1, 0..<1), actions: actions.slice(axis: 1, 0..<3)) }
        #expect(rolled.shape == [2, 3, 1, 11])
        #expect(model.proprioPart(rolled.slice(axis: 1, 2..<3)).scalars == model.proprioPart(s.slice(axis: 1, 0..<1)).scalars)
        let loss = noGrad {
            model.loss(frames: frames, actions: actions, proprio: states,
                       weights: JEPALossWeights(prediction: 1, variance: 1, rollout: 1, proprio: 2))
        }
        #expect(loss.parts.proprio != nil && loss.parts.proprio == loss.parts.proprioCopyBaseline)
        #expect(loss.parts.proprio! > 0 && loss.total.item.isFinite)
    }

    /// The predictor's gradients with respect to the state (both parts), the actions and the new
    /// layers match finite differences, and the proprio loss term reaches the new layers and the
    /// encoder.
    @Test func proprioGradientsMatchFiniteDifferences() throws {
        let c = tinyConfig(proprio: true)
        var rng = RandomGenerator(seed: 5)
        let model = try ActionConditionedJEPA(config: c, rng: &rng)
        perturbZeroParameters(model)
        let gru = try #require(model.predictor as? ActionGRUPredictor)
        let s = Tensor.randn([2, 2, 1, c.stateDim], using: &rng, requiresGrad: true)
        let a = Tensor.randn([2, 2, 3], using: &rng, requiresGrad: true)
        let inputs = [s, a, gru.proprioEmbed!.weight, gru.proprioHead!.weight, gru.proprioHead!.bias!]
        let bad = GradientCheck.mismatches(inputs) { x in model.predictor(latents: x[0], actions: x[1]) }
        #expect(bad.isEmpty, "\(bad.prefix(5))")

        let (frames, actions, states) = randomBatch(c)
        for p in model.trainableParameters { p.tensor.grad = nil }   // the check above left gradients
        let only = JEPALossWeights(prediction: 0, proprio: 1)
        let loss = model.loss(frames: frames, actions: actions, proprio: states, weights: only)
        loss.total.backward()
        for p in [gru.proprioEmbed!.weight, gru.proprioHead!.weight, gru.inProj.weight] {
            #expect(p.grad.map { $0.scalars.contains { $0 != 0 } } ?? false)
        }
        #expect(gru.outProj.weight.grad.map { $0.scalars.allSatisfy { $0 == 0 } } ?? true)   // the latent head is not in this term
    }

    @Test func proprioConfigIsValidated() throws {
        func message(_ yaml: String) -> String {
            do {
                let c = try ConfigLoader.load(TrainingConfig.self, yaml: yaml, file: "p.yaml")
                return "no error: \(c.actionModel.proprio)"
            } catch { return "\(error)" }
        }
        let good = try ConfigLoader.load(TrainingConfig.self, yaml: "kind: action_conditioned\nmodel: {predictor: gru, proprio: true}\nloss: {proprio: 0.5}", file: "p.yaml")
        #expect(good.actionModel.proprio && good.actionModel.proprioScale == [64, 64, 16] && good.loss.proprio == 0.5)
        #expect(try ConfigLoader.load(TrainingConfig.self, yaml: ConfigLoader.resolvedYAML(good), file: "resolved") == good)
        let off = try ConfigLoader.load(TrainingConfig.self, yaml: "kind: action_conditioned", file: "p.yaml")
        #expect(!off.actionModel.proprio && off.actionModel.proprioDim == 0 && off.loss.proprio == 1)
        let wrongType = message("kind: action_conditioned\nmodel: {predictor: gru, proprio: 3}")
        #expect(wrongType.contains("p.yaml") && wrongType.contains("model.proprio"), "\(wrongType)")
        #expect(message("kind: action_conditioned\nmodel: {predictor: transformer, proprio: true}").contains("model.proprio: needs predictor: gru"))
        #expect(message("kind: action_conditioned\nmodel: {predictor: gru, proprio: true, proprio_scale: []}").contains("model.proprio_scale: must be a non-empty list"))
        #expect(message("kind: action_conditioned\nmodel: {predictor: gru, proprio: true, proprio_scale: [64, 0, 16]}").contains("model.proprio_scale"))
        #expect(message("kind: next_frame\nmodel: {proprio: true}").contains("model.proprio: needs actions and states"))
        #expect(message("kind: action_conditioned\nloss: {proprio: -1}").contains("loss.proprio: must be a non-negative weight"))
    }
}

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite(.serialized) struct ProprioTrainerTests {
    /// A tiny proprio run trains (its proprio error falls below "nothing changes"), logs the new
    /// terms, and its checkpoint restores the new layers by name.
    @Test func proprioRunTrainsAndRestoresFromItsCheckpoint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jepa-proprio-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try generateDataset(world: GraspWorld(config: GraspConfig()), episodes: 16, frames: 8, seed: 2, to: dir + "/grasp.h5")
        var config = try ConfigLoader.loadFile(TrainingConfig.self, path: repository.appendingPathComponent("experiments/tiny-grasp-ac.yaml").path,
                                               overrides: ["model.predictor=gru", "model.pooled_dim=8", "model.proprio=true", "data.path=\(dir)/grasp.h5"])
        config.train.steps = 20
        try config.validate()
        let yaml = try ConfigLoader.resolvedYAML(config)
        let trainer = try Trainer(config: config, runDirectory: dir + "/run", configYAML: yaml, resume: false)
        var records: [TrainingRecord] = []
        try trainer.run(report: { if case let .step(r) = $0 { records.append(r) } })
        let last = try #require(records.last)
        #expect(last.proprio != nil && last.proprioCopyBaseline != nil)
        #expect(last.proprio! < last.proprioCopyBaseline!, "\(records.map { ($0.proprio ?? -1, $0.proprioCopyBaseline ?? -1) })")
        let line = try String(contentsOfFile: dir + "/run/metrics.jsonl", encoding: .utf8).split(separator: "\n")[0]
        #expect(line.contains("\"proprio\"") && line.contains("\"proprio_copy_baseline\""))

        let saved = try CheckpointIO.read(dir + "/run/checkpoints/step_20.h5")
        #expect(saved.modules["predictor"]?.contains { $0.name == "proprio_head.weight" } == true)
        let loaded = try loadWorldModel(checkpoint: dir + "/run/checkpoints/step_20.h5")
        let model = try #require(loaded.model as? ActionConditionedJEPA)
        #expect(model.config.proprio)
        func values(_ m: any WorldModel) -> [String: [Float]] {
            Dictionary(uniqueKeysWithValues: m.trainableParameters.map { ($0.name, $0.tensor.scalars) })
        }
        let restored = values(model), trained = values(trainer.model)
        #expect(restored.keys.sorted() == trained.keys.sorted() && restored == trained)
        #expect(restored["predictor.proprio_head.weight"]!.contains { $0 != 0 })
    }
}
