import Config
import Evaluation
import Foundation
@testable import JEPA
import NN
import Tensors
import Testing
import Worlds

/// A tiny action-conditioned model: 16×16 frames, 4×4 tokens of width 16.
private func tinyActionConfig(_ predictor: ActionJEPAConfig.PredictorKind, encoder: ActionJEPAConfig.EncoderKind = .vit) -> ActionJEPAConfig {
    var c = ActionJEPAConfig()
    (c.frames, c.imageSize, c.patch, c.encoder, c.predictor) = (4, 16, 4, encoder, predictor)
    (c.encoderDim, c.encoderDepth, c.encoderHeads) = (16, 1, 2)
    (c.convWidths, c.pooledDim) = ([4, 8], 16)
    (c.predictorDim, c.predictorDepth, c.predictorHeads, c.gruHidden, c.inverseDynamicsHidden) = (16, 1, 2, 12, 8)
    c.rolloutSteps = 3
    return c
}

private func randomBatch(_ c: ActionJEPAConfig, batch: Int = 2, seed: UInt64 = 1) -> (frames: Tensor, actions: Tensor) {
    var rng = RandomGenerator(seed: seed)
    return (Tensor.uniform([batch, c.frames, 1, c.imageSize, c.imageSize], low: 0, high: 1, using: &rng),
            Tensor.uniform([batch, c.frames, c.actionDim], low: -1, high: 1, using: &rng))
}

@Suite struct ActionJEPATests {
    /// Output t of the transformer predictor depends on latents and actions of frames ≤ t only.
    @Test func transformerPredictorIsBlockCausal() throws {
        let c = tinyActionConfig(.transformer)
        var rng = RandomGenerator(seed: 3)
        let model = try ActionConditionedJEPA(config: c, rng: &rng)
        let z = Tensor.randn([1, 3, 16, 16], using: &rng), a = Tensor.randn([1, 3, 3], using: &rng)
        let base = noGrad { model.predictor(latents: z, actions: a) }
        let z2 = Tensor(z.scalars, shape: z.shape), a2 = Tensor(a.scalars, shape: a.shape)
        for i in (2 * 16 * 16)..<(3 * 16 * 16) { z2.ptr[i] += 1 }   // change frame 2 only
        a2.ptr[2 * 3] += 1
        let changed = noGrad { model.predictor(latents: z2, actions: a2) }
        let early = base.slice(axis: 1, 0..<2).scalars, earlyChanged = changed.slice(axis: 1, 0..<2).scalars
        #expect(early == earlyChanged)
        #expect(base.slice(axis: 1, 2..<3).scalars != changed.slice(axis: 1, 2..<3).scalars)
    }

    /// With `rollout_context` c the loss's rollout starts after frame c: frames c + 1 … c + r − 1
    /// predicted open loop from frames 0 … c − 1 (the prediction of frame c fed back), as
    /// `rollout` computes them by hand.
    @Test func rolloutLossStartsAfterItsContext() throws {
        var c = ActionJEPAConfig.passive
        (c.frames, c.imageSize, c.patch, c.encoderDim, c.encoderDepth, c.encoderHeads) = (6, 16, 4, 16, 1, 2)
        (c.pooledDim, c.gruHidden, c.rolloutSteps, c.rolloutContext, c.distance) = (16, 12, 3, 2, .l2)
        var rng = RandomGenerator(seed: 8)
        let model = try ActionConditionedJEPA(config: c, rng: &rng)
        for p in model.predictor.parameters() { p.assign(Tensor.uniform(p.shape, low: -0.2, high: 0.2, using: &rng)) }
        let frames = Tensor.uniform([2, 6, 1, 16, 16], low: 0, high: 1, using: &rng)
        let none = Tensor.zeros([2, 6, 0])
        let loss = noGrad { model.loss(frames: frames, actions: none, weights: JEPALossWeights(prediction: 1, rollout: 1)) }
        let byHand = noGrad { () -> Float in
            let z = ActionConditionedJEPA.normalized(model.rawLatents(frames, encoder: model.contextEncoder))
            let rolled = model.rollout(latents: z.slice(axis: 1, 0..<2), actions: none.slice(axis: 1, 0..<4))   // frames 2, 3, 4
            return energy(predicted: rolled.slice(axis: 1, 1..<3), target: model.encode(frames).slice(axis: 1, 3..<5), distance: .l2).item
        }
        #expect(abs(loss.parts.rollout! - byHand) <= 1e-5 * max(1, byHand), "\(loss.parts.rollout!) vs \(byHand)")
    }

    /// With the target's weights equal to the context's (momentum 0), the loss reads the targets from
    /// the context pass: the same loss and gradients as encoding the frames again with the target.
    @Test func aTargetWithTheContextsWeightsIsNotRunTwice() throws {
        var c = ActionJEPAConfig.passive
        (c.frames, c.imageSize, c.patch, c.encoderDim, c.encoderDepth, c.encoderHeads) = (6, 16, 4, 16, 1, 2)
        (c.pooledDim, c.gruHidden, c.rolloutSteps, c.rolloutContext, c.distance) = (16, 12, 3, 2, .l2)
        func model() throws -> ActionConditionedJEPA {
            var rng = RandomGenerator(seed: 8)
            return try ActionConditionedJEPA(config: c, rng: &rng)
        }
        var rng = RandomGenerator(seed: 9)
        let frames = Tensor.uniform([2, 6, 1, 16, 16], low: 0, high: 1, using: &rng), none = Tensor.zeros([2, 6, 0])
        let weights = JEPALossWeights(prediction: 1, variance: 1, covariance: 0.04, rollout: 1)
        func lossAndGradients(_ m: ActionConditionedJEPA) -> (Float, [Float]) {
            let loss = m.loss(frames: frames, actions: none, weights: weights)
            loss.total.backward()
            return (loss.total.item, m.trainableParameters.flatMap { $0.tensor.grad?.scalars ?? [] })
        }
        let shortcut = try model(), full = try model()
        #expect(shortcut.targetMatchesContext)
        // A weight of 0 stored as −0 in the target computes the same numbers but is not the same bits.
        let zero = try #require(full.targetEncoder.parameters().first { $0.scalars.contains(0) })
        zero.ptr[zero.scalars.firstIndex(of: 0)!] = -0.0
        #expect(!full.targetMatchesContext)
        let (a, b) = (lossAndGradients(shortcut), lossAndGradients(full))
        #expect(a.0 == b.0 && a.1 == b.1 && !a.1.isEmpty)

        // An EMA step with momentum > 0 after the context moved breaks the match; momentum 0 restores it.
        let moved = shortcut.contextEncoder.parameters()[0]
        moved.ptr[0] += 0.5
        shortcut.updateTarget(momentum: 0.5)
        #expect(!shortcut.targetMatchesContext)
        shortcut.updateTarget(momentum: 0)
        #expect(shortcut.targetMatchesContext)
    }

    /// The first rollout step from one frame equals the teacher-forced prediction of frame 1, and a
    /// rollout's step k equals feeding the earlier predictions by hand.
    @Test(arguments: ActionJEPAConfig.PredictorKind.allCases)
    func rolloutFeedsBackItsPredictions(_ kind: ActionJEPAConfig.PredictorKind) throws {
        let c = tinyActionConfig(kind)
        var rng = RandomGenerator(seed: 4)
        let model = try ActionConditionedJEPA(config: c, rng: &rng)
        let (frames, actions) = randomBatch(c)
        let z = model.encode(frames)
        let rolled = noGrad { model.rollout(latents: z.slice(axis: 1, 0..<1), actions: actions.slice(axis: 1, 0..<3)) }
        #expect(rolled.shape == [2, 3, c.latentTokens, c.latentDim])
        let first = noGrad { model.predictor(latents: z.slice(axis: 1, 0..<1), actions: actions.slice(axis: 1, 0..<1)) }
        #expect(rolled.slice(axis: 1, 0..<1).scalars == first.scalars)
        let byHand = noGrad { () -> Tensor in
            let two = concat([z.slice(axis: 1, 0..<1), rolled.slice(axis: 1, 0..<2)], axis: 1)
            let start = kind == .gru ? 2 : 0
            return model.predictor(latents: two.slice(axis: 1, start..<3), actions: actions.slice(axis: 1, start..<3))
        }
        let last = byHand.shape[1] - 1
        let expected = byHand.slice(axis: 1, last..<(last + 1)).scalars
        let got = rolled.slice(axis: 1, 2..<3).scalars
        #expect(zip(expected, got).allSatisfy { abs($0 - $1) <= 1e-5 })
    }

    @Test(arguments: ActionJEPAConfig.PredictorKind.allCases)
    func predictorGradientsMatchFiniteDifferences(_ kind: ActionJEPAConfig.PredictorKind) throws {
        var c = tinyActionConfig(kind)
        (c.imageSize, c.patch, c.encoderDim, c.predictorDim) = (8, 4, 8, 8)
        var rng = RandomGenerator(seed: 5)
        let model = try ActionConditionedJEPA(config: c, rng: &rng)
        let z = Tensor.randn([2, 2, c.latentTokens, c.latentDim], using: &rng, requiresGrad: true)
        let a = Tensor.randn([2, 2, 3], using: &rng, requiresGrad: true)
        let weight = (model.predictor.namedParameters().first { $0.name.hasSuffix("embed.weight") })!.tensor
        let bad = GradientCheck.mismatches([z, a, weight]) { x in model.predictor(latents: x[0], actions: x[1]) }
        #expect(bad.isEmpty, "\(bad.prefix(5))")
    }

    /// Every loss term reaches the context encoder, predictor and inverse-dynamics head; the target
    /// encoder gets no gradient.
    @Test(arguments: [ActionJEPAConfig.EncoderKind.vit, .conv])
    func lossTrainsContextSideOnly(_ encoder: ActionJEPAConfig.EncoderKind) throws {
        let c = tinyActionConfig(.transformer, encoder: encoder)
        var rng = RandomGenerator(seed: 6)
        let model = try ActionConditionedJEPA(config: c, rng: &rng)
        let (frames, actions) = randomBatch(c)
        // The predictor's output projection starts at zero (no change predicted), which blocks
        // gradients to the layers before it until the first update: give it values first.
        for p in model.predictor.parameters() where p.scalars.allSatisfy({ $0 == 0 }) {
            p.assign(Tensor.uniform(p.shape, low: -0.1, high: 0.1, using: &rng))
        }
        let weights = JEPALossWeights(prediction: 1, variance: 1, covariance: 0.04, rollout: 1, inverseDynamics: 1)
        let loss = model.loss(frames: frames, actions: actions, weights: weights)
        #expect(loss.parts.rollout != nil && loss.parts.inverseDynamics != nil && loss.parts.copyBaseline != nil)
        #expect(loss.targets.shape == [2, 4, c.latentTokens, c.latentDim])
        loss.total.backward()
        #expect(model.targetEncoder.parameters().allSatisfy { $0.grad == nil })
        for module in [model.contextEncoder, model.predictor, model.inverseDynamics!] as [Module] {
            #expect(module.parameters().allSatisfy { $0.grad.map { $0.scalars.contains { $0 != 0 } } ?? false })
        }
        // A fresh model's target encoder equals its context encoder, so at step 0 the teacher-forced
        // prediction energy is that of the latents moved by the (small) initial predictor.
        #expect(loss.prediction.isFinite && loss.prediction > 0)
    }

    /// Output t of the recurrent predictor depends on latents and actions of frames ≤ t only, and
    /// (unlike the Markov GRU) on earlier frames too.
    @Test func recurrentPredictorIsCausalWithMemory() throws {
        let c = tinyActionConfig(.recurrent)
        var rng = RandomGenerator(seed: 3)
        let model = try ActionConditionedJEPA(config: c, rng: &rng)
        for p in model.predictor.parameters() where p.scalars.allSatisfy({ $0 == 0 }) {
            p.assign(Tensor.uniform(p.shape, low: -0.1, high: 0.1, using: &rng))
        }
        let z = Tensor.randn([1, 3, 1, 16], using: &rng), a = Tensor.randn([1, 3, 3], using: &rng)
        let base = noGrad { model.predictor(latents: z, actions: a) }
        let z2 = Tensor(z.scalars, shape: z.shape)
        z2.ptr[16] += 1                                         // frame 1 only
        let changed = noGrad { model.predictor(latents: z2, actions: a) }
        #expect(base.slice(axis: 1, 0..<1).scalars == changed.slice(axis: 1, 0..<1).scalars)
        #expect(base.slice(axis: 1, 2..<3).scalars != changed.slice(axis: 1, 2..<3).scalars)   // frame 2 remembers frame 1
    }

    @Test func latentsArePooledForTheGRU() throws {
        let c = tinyActionConfig(.gru)
        var rng = RandomGenerator(seed: 7)
        let model = try ActionConditionedJEPA(config: c, rng: &rng)
        let (frames, _) = randomBatch(c)
        let z = model.encode(frames)
        #expect(z.shape == [2, 4, 1, 16])
        let row = Array(z.scalars[0..<16])
        let mean = row.reduce(0, +) / 16
        #expect(abs(mean) < 1e-4)   // layer-normalised
    }
}

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A tiny grasp dataset and `experiments/tiny-grasp-ac.yaml` (with the given predictor) reading it.
private func tinyGraspSetup(_ name: String, predictor: ActionJEPAConfig.PredictorKind) throws -> (TrainingConfig, String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jepa-ac-\(name)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    _ = try generateDataset(world: GraspWorld(config: GraspConfig()), episodes: 16, frames: 8, seed: 2, to: dir + "/grasp.h5")
    var c = try ConfigLoader.loadFile(TrainingConfig.self, path: repository.appendingPathComponent("experiments/tiny-grasp-ac.yaml").path,
                                      overrides: ["model.predictor=\(predictor.rawValue)", "data.path=\(dir)/grasp.h5"])
    c.actionModel.pooledDim = 16
    return (c, dir)
}

@Suite(.serialized) struct ActionTrainerTests {
    /// Training lowers the loss of a fixed batch (batches differ too much at this size to compare
    /// logged losses) and the target latents keep their spread.
    @Test(arguments: [ActionJEPAConfig.PredictorKind.transformer, .gru])
    func tinyGraspRunLearnsWithoutCollapse(_ kind: ActionJEPAConfig.PredictorKind) throws {
        let (config, dir) = try tinyGraspSetup("learn-\(kind)", predictor: kind)
        try config.validate()
        let trainer = try Trainer(config: config, runDirectory: dir + "/run", configYAML: "", resume: false)
        let model = try #require(trainer.model as? ActionConditionedJEPA)
        let held = try ClipLoader(path: config.data.path, options: ClipLoaderOptions(batchSize: 8, clipLength: 4, seed: 99)).next()
        func heldOutLoss() -> Float {
            noGrad { model.loss(frames: held.frames, actions: held.actions!, weights: config.loss).total.item }
        }
        let before = heldOutLoss()
        var records: [TrainingRecord] = []
        try trainer.run(report: { if case let .step(r) = $0 { records.append(r) } })
        let after = heldOutLoss()
        #expect(after < 0.9 * before, "fixed-batch loss \(before) → \(after)")
        #expect(records.count == 6)
        #expect(records.allSatisfy { $0.targetStd > config.train.collapseFloor }, "\(records.map(\.targetStd))")
        #expect(records.allSatisfy { $0.rollout != nil && $0.inverseDynamics != nil && $0.copyBaseline != nil })
        let line = try String(contentsOfFile: dir + "/run/metrics.jsonl", encoding: .utf8).split(separator: "\n")[0]
        #expect(line.contains("\"copy_baseline\"") && line.contains("\"inverse_dynamics\""))
    }

    @Test func actionConditionedRunsResumeExactly() throws {
        var (config, dir) = try tinyGraspSetup("resume", predictor: .transformer)
        config.train.steps = 12
        let straight = try Trainer(config: config, runDirectory: dir + "/straight", configYAML: "", resume: false)
        try straight.run()
        let yaml = try ConfigLoader.resolvedYAML(config)
        let first = try Trainer(config: config, runDirectory: dir + "/split", configYAML: yaml, resume: false)
        try first.run(shouldStop: { first.step == 5 })
        let resumed = try Trainer(config: config, runDirectory: dir + "/split", configYAML: yaml, resume: true)
        #expect(resumed.step == 5)
        try resumed.run()
        func parameters(_ t: Trainer) -> [Float] {
            t.model.checkpointModules.sorted { $0.key < $1.key }.flatMap { $0.value.parameters() }.flatMap(\.scalars)
        }
        #expect(parameters(resumed) == parameters(straight))
        let loaded = try loadWorldModel(checkpoint: dir + "/split/checkpoints/step_12.h5")
        #expect(loaded.step == 12 && loaded.config.kind == .actionConditioned && loaded.model is ActionConditionedJEPA)
        #expect(loaded.model.checkpointModules.sorted { $0.key < $1.key }.flatMap { $0.value.parameters() }.flatMap(\.scalars)
                == parameters(resumed))
    }

    /// The probe reads frames of held-out episodes and scores each named state entry; the gripper's
    /// position is visible in any latent that keeps where things are, even an untrained one.
    @Test func stateProbeOfAnActionConditionedModel() throws {
        let (config, dir) = try tinyGraspSetup("probe", predictor: .transformer)
        _ = try generateDataset(world: GraspWorld(config: GraspConfig()), episodes: 150, frames: 8, seed: 5, to: dir + "/probe.h5")
        var rng = RandomGenerator(seed: 1)
        let model = try ActionConditionedJEPA(config: config.actionModel, rng: &rng)
        let r2 = try probeState(of: model, datasetPath: dir + "/probe.h5", names: ["gripper.x", "gripper.y"],
                                frameIndices: [1, 3, 5, 7], trainEpisodes: 0..<120, testEpisodes: 120..<150).r2
        #expect(r2.count == 2 && r2.allSatisfy { $0.isFinite && $0 > 0.2 }, "\(r2)")
        #expect(throws: EvaluationError.self) {
            _ = try probeState(of: model, datasetPath: dir + "/grasp.h5", names: ["ball0.x"], trainEpisodes: 0..<12, testEpisodes: 12..<16)
        }
    }

    /// An untrained predictor predicts "nothing changes" exactly (its output layer starts at zero),
    /// so its open-loop energies equal the copy baseline's; a trained-looking one departs from it.
    @Test(arguments: ActionJEPAConfig.PredictorKind.allCases)
    func rolloutErrorsStartAtTheCopyBaseline(_ kind: ActionJEPAConfig.PredictorKind) throws {
        let (config, dir) = try tinyGraspSetup("energies-\(kind)", predictor: kind)
        var rng = RandomGenerator(seed: 2)
        let model = try ActionConditionedJEPA(config: config.actionModel, rng: &rng)
        let fresh = try rolloutErrors(of: model, datasetPath: dir + "/grasp.h5", episodes: 0..<6, context: 2, clipStart: 2,
                                      horizon: 3, batch: 3)
        #expect(fresh.model.count == 3 && fresh.model == fresh.repeatLast && fresh.repeatLast.allSatisfy { $0 > 0 })
        #expect(fresh.shuffledActions == fresh.model)     // an untrained predictor ignores its actions
        for p in model.predictor.parameters() where p.scalars.allSatisfy({ $0 == 0 }) {
            p.assign(Tensor.uniform(p.shape, low: -0.1, high: 0.1, using: &rng))
        }
        let moved = try rolloutErrors(of: model, datasetPath: dir + "/grasp.h5", episodes: 0..<6, context: 2, clipStart: 2,
                                      horizon: 3, batch: 3)
        #expect(moved.repeatLast == fresh.repeatLast && moved.model != fresh.model)
        #expect(moved.shuffledActions.map { $0 != moved.model } == true)
        #expect(throws: EvaluationError.self) {
            _ = try rolloutErrors(of: model, datasetPath: dir + "/grasp.h5", episodes: 0..<6, clipStart: 6, horizon: 3)
        }
    }

    @Test func passiveDataIsRefusedWithAReason() throws {
        var (config, dir) = try tinyGraspSetup("passive", predictor: .gru)
        var balls = BallsConfig()
        (balls.width, balls.height) = (64, 64)
        _ = try generateDataset(world: BallsWorld(config: balls), episodes: 4, frames: 6, seed: 1, to: dir + "/balls.h5")
        config.data.path = dir + "/balls.h5"
        do {
            _ = try Trainer(config: config, runDirectory: dir + "/run", configYAML: "", resume: false)
            Issue.record("a passive dataset was accepted")
        } catch let error as TrainingError {
            #expect(error.description.contains("action_dim") && error.description.contains("passive"))
        }
    }

    /// Frame t is stacked after frames t − k + 1 … t − 1, the clip's first frame standing in for
    /// frames before it; the encoder takes k·C channels and the model trains on stacked frames.
    @Test func frameStackingPutsEarlierFramesFirst() throws {
        let clip = Tensor([1, 2, 3], shape: [1, 3, 1, 1, 1])
        #expect(ActionConditionedJEPA.stacked(clip, count: 2).scalars == [1, 1, 1, 2, 2, 3])
        #expect(ActionConditionedJEPA.stacked(clip, count: 2).shape == [1, 3, 2, 1, 1])
        #expect(ActionConditionedJEPA.stacked(clip, count: 4).scalars == [1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 2, 3])
        #expect(ActionConditionedJEPA.stacked(clip, count: 1).scalars == clip.scalars)
        var c = tinyActionConfig(.recurrent)
        (c.actionDim, c.frameStack) = (0, 2)
        var rng = RandomGenerator(seed: 9)
        let model = try ActionConditionedJEPA(config: c, rng: &rng)
        let frames = Tensor.uniform([2, c.frames, 1, c.imageSize, c.imageSize], low: 0, high: 1, using: &rng)
        let z = model.encode(frames)
        #expect(z.shape == [2, c.frames, 1, c.pooledDim])
        // Frame 1's latent depends on frame 0 (its stacked predecessor); frame 0's is frame 0 twice.
        let changed = Tensor(frames.scalars, shape: frames.shape)
        for i in 0..<(c.imageSize * c.imageSize) { changed.ptr[i] = 0 }
        let z2 = model.encode(changed)
        #expect(z.slice(axis: 1, 1..<2).scalars != z2.slice(axis: 1, 1..<2).scalars)
        #expect(z.slice(axis: 1, 2..<3).scalars == z2.slice(axis: 1, 2..<3).scalars)
        let loss = model.loss(frames: frames, actions: Tensor.zeros([2, c.frames, 0]), weights: JEPALossWeights())
        #expect(loss.total.item.isFinite)
    }
}
