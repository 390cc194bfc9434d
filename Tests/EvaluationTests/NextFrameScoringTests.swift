import Config
@testable import Evaluation
import Foundation
import HDF5
@testable import JEPA
import Tensors
import Testing
import Worlds

/// A small balls world: 16×16 frames, one ball, slow.
private func tinyBalls() throws -> BallsWorld {
    var c = BallsConfig()
    (c.width, c.height, c.minRadius, c.maxRadius, c.maxBalls) = (16, 16, 2, 3, 1)
    (c.minVX, c.maxVX, c.minVY, c.maxVY, c.gravity) = (-1, 1, -0.5, 0.5, 0.15)
    return try BallsWorld(config: c)
}

/// A tiny next-frame model (no actions): 16×16 frames, 4×4 tokens pooled to 16 dimensions.
private func tinyPassiveConfig(_ predictor: ActionJEPAConfig.PredictorKind = .recurrent) -> ActionJEPAConfig {
    var c = ActionJEPAConfig.passive
    (c.frames, c.imageSize, c.patch, c.predictor) = (4, 16, 4, predictor)
    (c.encoderDim, c.encoderDepth, c.encoderHeads, c.pooledDim, c.gruHidden) = (16, 1, 2, 16, 12)
    (c.predictorDim, c.predictorDepth, c.predictorHeads, c.rolloutSteps, c.distance) = (16, 1, 2, 3, .l2)
    return c
}

private func clips(_ world: BallsWorld, count: Int, frames: Int, seed: UInt64) -> Tensor {
    let values = (0..<count).flatMap { world.episode(index: $0, seed: seed, frames: frames).frames.map { Float($0) / 255 } }
    return Tensor(values, shape: [count, frames, 1, 16, 16])
}

private func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("jepa-eval-\(name)-\(UUID().uuidString)").path
}

@Suite struct NextFrameScoringTests {
    /// An untrained predictor predicts "nothing changes" exactly, so frame t's surprise is the
    /// energy between the latents of frames t−1 and t; each frame is scored from its own window.
    @Test(arguments: [ActionJEPAConfig.PredictorKind.recurrent, .transformer])
    func untrainedSurpriseIsTheFrameToFrameEnergy(_ kind: ActionJEPAConfig.PredictorKind) throws {
        var rng = RandomGenerator(seed: 1)
        let model = try ActionConditionedJEPA(config: tinyPassiveConfig(kind), rng: &rng)
        let scorer = try NextFrameSurpriseScorer(model: model, contextFrames: 2, stride: 2)
        #expect(scorer.scoredFrames(length: 7) == [2, 4, 6] && scorer.scoredFrames(length: 2).isEmpty)
        let x = clips(try tinyBalls(), count: 2, frames: 7, seed: 3)
        let s = try scorer.surprise(x)
        #expect(s.shape == [2, 3])
        let z = model.encode(x)
        for (w, t) in [2, 4, 6].enumerated() {
            let expected = energyPerClip(predicted: z.slice(axis: 1, (t - 1)..<t), target: z.slice(axis: 1, t..<(t + 1)), distance: .l2).scalars
            for b in 0..<2 { #expect(abs(s.scalars[b * 3 + w] - expected[b]) <= 1e-6 * max(1, expected[b])) }
        }
    }

    /// A batch is scored in shards on the worker threads; each clip's scores are those it gets
    /// scored alone (one clip: one shard), for the next-frame and the masked video scorer.
    @Test func batchScoresAreEachClipsOwn() throws {
        var rng = RandomGenerator(seed: 6)
        let model = try ActionConditionedJEPA(config: tinyPassiveConfig(), rng: &rng)
        for p in model.predictor.parameters() { p.assign(Tensor.uniform(p.shape, low: -0.2, high: 0.2, using: &rng)) }
        var videoConfig = VideoJEPAConfig()
        (videoConfig.frames, videoConfig.imageSize, videoConfig.patch, videoConfig.tubelet) = (4, 16, 8, 1)
        (videoConfig.encoderDim, videoConfig.encoderDepth, videoConfig.encoderHeads) = (16, 1, 2)
        (videoConfig.predictorDim, videoConfig.predictorDepth, videoConfig.predictorHeads) = (8, 1, 2)
        let video = try VideoJEPA(config: videoConfig, rng: &rng)
        let x = clips(try tinyBalls(), count: 4, frames: 7, seed: 8)
        for scorer in [try NextFrameSurpriseScorer(model: model, contextFrames: 3, horizon: 2) as any SurpriseScorer,
                       try makeSurpriseScorer(for: video, contextFrames: 2)] {
            let batch = try scorer.surprise(x).scalars
            let alone = try (0..<4).flatMap { try scorer.surprise(x.slice(axis: 0, $0..<($0 + 1))).scalars }
            #expect(batch.count == alone.count && zip(batch, alone).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        }
    }

    /// With a trained-looking predictor a frame's score depends only on its window: scoring the
    /// clip's last frames alone gives the same numbers.
    @Test func windowsAreIndependent() throws {
        var rng = RandomGenerator(seed: 2)
        let model = try ActionConditionedJEPA(config: tinyPassiveConfig(), rng: &rng)
        for p in model.predictor.parameters() { p.assign(Tensor.uniform(p.shape, low: -0.2, high: 0.2, using: &rng)) }
        let scorer = try NextFrameSurpriseScorer(model: model, contextFrames: 3)
        let x = clips(try tinyBalls(), count: 2, frames: 8, seed: 4)
        let all = try scorer.surprise(x), tail = try scorer.surprise(x.slice(axis: 1, 4..<8))
        #expect(all.shape == [2, 5] && tail.shape == [2, 1])
        #expect(abs(tail.scalars[0] - all.scalars[4]) <= 1e-5 && abs(tail.scalars[1] - all.scalars[9]) <= 1e-5)
    }

    /// With a horizon h, frame t's score is the energy between its latent and the h-th step of an
    /// open-loop rollout from the context frames ending at t − h; horizon 1 is the next-frame score.
    @Test func horizonScoresAreOpenLoopRollouts() throws {
        var rng = RandomGenerator(seed: 5)
        let model = try ActionConditionedJEPA(config: tinyPassiveConfig(), rng: &rng)
        for p in model.predictor.parameters() { p.assign(Tensor.uniform(p.shape, low: -0.2, high: 0.2, using: &rng)) }
        let x = clips(try tinyBalls(), count: 2, frames: 8, seed: 6)
        let z = model.encode(x)
        let scorer = try NextFrameSurpriseScorer(model: model, contextFrames: 2, horizon: 3)
        #expect(scorer.scoredFrames(length: 8) == [4, 5, 6, 7] && scorer.scoredFrames(length: 4).isEmpty)
        let s = try scorer.surprise(x)
        #expect(s.shape == [2, 4])
        for (w, t) in [4, 5, 6, 7].enumerated() {
            let predicted = model.rollout(latents: z.slice(axis: 1, (t - 4)..<(t - 2)), actions: Tensor.zeros([2, 4, 0]))
            let expected = energyPerClip(predicted: predicted.slice(axis: 1, 2..<3), target: z.slice(axis: 1, t..<(t + 1)), distance: .l2).scalars
            for b in 0..<2 { #expect(abs(s.scalars[b * 4 + w] - expected[b]) <= 1e-5 * max(1, expected[b])) }
        }
        // The next-frame scores differ from the 3-step ones: the horizon is used.
        let next = try NextFrameSurpriseScorer(model: model, contextFrames: 2).surprise(x).slice(axis: 1, 2..<6)
        #expect(zip(next.scalars, s.scalars).contains { abs($0 - $1) > 1e-4 })
        #expect(throws: EvaluationError.self) { _ = try NextFrameSurpriseScorer(model: model, contextFrames: 2, horizon: 0) }
        #expect(throws: EvaluationError.self) { _ = try scorer.surprise(x.slice(axis: 1, 0..<4)) }     // nothing 3 steps after 2 frames
    }

    /// A growing context scores frame t from all the frames up to the horizon before it (up to the
    /// most context frames), and the first frames from the minimum context, fewer steps ahead: each
    /// frame's score is that of a fixed-context scorer with that context and horizon.
    @Test func growingContextScoresEachFrameFromItsWholeHistory() throws {
        var rng = RandomGenerator(seed: 9)
        let model = try ActionConditionedJEPA(config: tinyPassiveConfig(), rng: &rng)   // window 3
        for p in model.predictor.parameters() { p.assign(Tensor.uniform(p.shape, low: -0.2, high: 0.2, using: &rng)) }
        let x = clips(try tinyBalls(), count: 2, frames: 7, seed: 5)
        for horizon in [1, 2] {
            let growing = try NextFrameSurpriseScorer(model: model, contextFrames: 3, horizon: horizon, minimumContext: 1)
            let frames = growing.scoredFrames(length: 7)
            #expect(frames == Array(1..<7) && growing.horizons == Array(1...horizon))
            let s = try growing.surprise(x)
            for (w, t) in frames.enumerated() {
                let steps = min(horizon, t)
                #expect(growing.horizon(scoring: t) == steps)
                let fixed = try NextFrameSurpriseScorer(model: model, contextFrames: min(3, t - steps + 1), horizon: steps)
                let expected = try fixed.surprise(x)
                let column = fixed.scoredFrames(length: 7).firstIndex(of: t)!, columns = expected.shape[1]
                for b in 0..<2 {
                    #expect(abs(s.scalars[b * frames.count + w] - expected.scalars[b * columns + column]) <= 1e-5 * max(1, abs(expected.scalars[b * columns + column])))
                }
            }
        }
        let byDefault = try makeSurpriseScorer(for: model, contextFrames: nil) as! NextFrameSurpriseScorer
        #expect(byDefault.minimumContext == 3 && byDefault.contextFrames == 3)   // min(4, window 3)
        #expect(throws: EvaluationError.self) { _ = try NextFrameSurpriseScorer(model: model, contextFrames: 2, minimumContext: 3) }
    }

    @Test func badScoringInputsAreClearErrors() throws {
        var rng = RandomGenerator(seed: 3)
        let model = try ActionConditionedJEPA(config: tinyPassiveConfig(), rng: &rng)
        #expect(throws: EvaluationError.self) { _ = try NextFrameSurpriseScorer(model: model, contextFrames: 4) }   // window is 3
        #expect(throws: EvaluationError.self) { _ = try NextFrameSurpriseScorer(model: model, contextFrames: 0) }
        #expect(throws: EvaluationError.self) { _ = try NextFrameSurpriseScorer(model: model, contextFrames: 2, stride: 0) }
        let scorer = try NextFrameSurpriseScorer(model: model, contextFrames: 3)
        #expect(throws: EvaluationError.self) { _ = try scorer.surprise(Tensor.zeros([1, 3, 1, 16, 16])) }   // nothing to predict
        #expect(throws: EvaluationError.self) { _ = try scorer.surprise(Tensor.zeros([1, 6, 1, 8, 8])) }     // wrong frame size
        #expect(throws: EvaluationError.self) { _ = try scorer.surprise(Tensor.zeros([6])) }                 // wrong rank
        var withActions = tinyPassiveConfig()
        withActions.actionDim = 3
        let actionModel = try ActionConditionedJEPA(config: withActions, rng: &rng)
        #expect(throws: EvaluationError.self) { _ = try NextFrameSurpriseScorer(model: actionModel, contextFrames: 2) }
        #expect(throws: EvaluationError.self) { _ = try makeSurpriseScorer(for: actionModel, contextFrames: nil) }
    }

    /// The calibrated scorer: its residuals are the prediction errors (their mean square is the L2
    /// energy), its energies over the calibration clips themselves average 1 without shrinkage,
    /// and unusable calibration files are clear errors.
    @Test func calibratedSurpriseWhitensItsOwnClips() throws {
        let dir = temporaryPath("calibration")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try generateDataset(world: try tinyBalls(), episodes: 10, frames: 8, seed: 7, to: dir + "/normal.h5")
        var rng = RandomGenerator(seed: 8)
        let model = try ActionConditionedJEPA(config: tinyPassiveConfig(), rng: &rng)
        for p in model.predictor.parameters() { p.assign(Tensor.uniform(p.shape, low: -0.2, high: 0.2, using: &rng)) }
        let scorer = try NextFrameSurpriseScorer(model: model, contextFrames: 3)
        let x = try ClipFile(path: dir + "/normal.h5").read(0..<10)
        let groups = try scorer.residualsByHorizon(x), plain = try scorer.surprise(x)
        #expect(groups.count == 1 && groups[0].horizon == 1)
        let residuals = groups[0].residuals
        #expect(residuals.shape == [50, 16] && plain.shape == [10, 5])
        for (w, b) in [(0, 0), (2, 7), (4, 9)] {
            let row = residuals.scalars[((w * 10 + b) * 16)..<((w * 10 + b + 1) * 16)]
            let meanSquare = row.reduce(0) { $0 + $1 * $1 } / 16
            #expect(abs(meanSquare - plain.scalars[b * 5 + w]) <= 1e-5 * max(1, meanSquare))
        }
        let calibrated = try scorer.calibrated(on: dir + "/normal.h5", clips: 10, batch: 4, shrinkage: .fixed(0))
        #expect(calibrated.calibration?.keys.sorted() == [1] && calibrated.calibration?[1]?.samples == 50 && scorer.calibration == nil)
        let s = try calibrated.surprise(x)
        #expect(s.shape == [10, 5] && s.scalars.allSatisfy(\.isFinite))
        let meanEnergy: Float = s.scalars.reduce(0, +) / 50
        #expect(abs(meanEnergy - 1) <= 1e-3)

        // A growing context with a horizon: one fit per number of steps ahead, each averaging 1 over
        // its own frames (frame 1 one step ahead, 2 two, 3…7 three; minimum context 1).
        _ = try generateDataset(world: try tinyBalls(), episodes: 40, frames: 8, seed: 9, to: dir + "/more.h5")
        let growing = try NextFrameSurpriseScorer(model: model, contextFrames: 3, horizon: 3, minimumContext: 1)
        let fits = try growing.calibrated(on: dir + "/more.h5", clips: 40, batch: 8, shrinkage: .fixed(0))
        #expect(fits.calibration?.keys.sorted() == [1, 2, 3] && fits.calibration?[3]?.samples == 200 && fits.calibration?[1]?.samples == 40)
        let g = try fits.surprise(try ClipFile(path: dir + "/more.h5").read(0..<40))
        #expect(g.shape == [40, 7])
        for (k, columns) in [(1, 0..<1), (2, 1..<2), (3, 2..<7)] {
            let values = (0..<40).flatMap { b in columns.map { g.scalars[b * 7 + $0] } }
            #expect(abs(values.reduce(0, +) / Float(values.count) - 1) <= 1e-3, "steps ahead \(k)")
        }
        var partial = fits
        partial.calibration?[2] = nil
        #expect(throws: EvaluationError.self) { _ = try partial.surprise(x) }

        var big = BallsConfig()
        (big.width, big.height, big.maxBalls) = (32, 32, 1)
        _ = try generateDataset(world: try BallsWorld(config: big), episodes: 2, frames: 8, seed: 1, to: dir + "/big.h5")
        _ = try generateDataset(world: try tinyBalls(), episodes: 2, frames: 3, seed: 1, to: dir + "/short.h5")
        for bad in ["/missing.h5", "/big.h5", "/short.h5"] {
            #expect(throws: (any Error).self) { _ = try scorer.calibrated(on: dir + bad) }
        }
        #expect(throws: EvaluationError.self) { _ = try scorer.calibrated(on: dir + "/normal.h5", clips: 0) }
    }

    /// A video JEPA's calibrated scorer: one pooled error per window (the mean over each predicted
    /// frame's tokens, [B · W, P · D] clip-major), window w the same as the clip's frames w… alone;
    /// energies over the calibration clips themselves average 1 without shrinkage; clips shorter than
    /// the window are a clear error.
    @Test func calibratedVideoSurpriseWhitensItsOwnClips() throws {
        let dir = temporaryPath("video-calibration")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try generateDataset(world: try tinyBalls(), episodes: 40, frames: 8, seed: 7, to: dir + "/normal.h5")
        var c = VideoJEPAConfig()
        (c.frames, c.imageSize, c.patch, c.tubelet) = (4, 16, 8, 2)                         // 2 × 2 × 2 tokens
        (c.encoderDim, c.encoderDepth, c.encoderHeads, c.predictorDim, c.predictorDepth, c.predictorHeads) = (16, 1, 2, 8, 1, 2)
        var rng = RandomGenerator(seed: 8)
        let model = try VideoJEPA(config: c, rng: &rng)
        // As trained: an untrained predictor's output is near zero, and layer-normed targets alone
        // span one direction fewer than their width (a covariance too ill-conditioned to test on).
        for p in model.predictor.parameters() { p.assign(Tensor.uniform(p.shape, low: -1, high: 1, using: &rng)) }
        let scorer = try MaskedSurpriseScorer(model: model, contextFrames: 2)
        let x = try ClipFile(path: dir + "/normal.h5").read(0..<40)
        let residuals = try scorer.residuals(x)
        #expect(residuals.shape == [40 * 5, 16])                                                // 5 windows, 1 predicted position × 16
        let alone = try scorer.residuals(x.slice(axis: 0, 3..<4).slice(axis: 1, 2..<6))
        let row = Array(residuals.scalars[((3 * 5 + 2) * 16)..<((3 * 5 + 3) * 16)])
        #expect(zip(alone.scalars, row).allSatisfy { abs($0 - $1) <= 1e-5 })
        let calibrated = try scorer.calibrated(on: dir + "/normal.h5", clips: 40, batch: 8, shrinkage: .fixed(0))
        #expect(calibrated.calibration?.samples == 200 && calibrated.calibration?.dimension == 16 && scorer.calibration == nil)
        let s = try calibrated.surprise(x)
        #expect(s.shape == [40, 5] && s.scalars.allSatisfy(\.isFinite))
        #expect(abs(s.scalars.reduce(0, +) / 200 - 1) <= 1e-3)
        _ = try generateDataset(world: try tinyBalls(), episodes: 2, frames: 3, seed: 1, to: dir + "/short.h5")
        #expect(throws: EvaluationError.self) { _ = try scorer.calibrated(on: dir + "/short.h5") }
    }

    /// A next-frame model trained briefly on the tiny world scores violation pairs from a file:
    /// every blatant teleport is more surprising than its physical twin one step ahead (40 steps
    /// of training do not make its 4-step rollouts reliable).
    @Test func briefTrainingRanksTeleportsAbovePhysics() throws {
        let world = try tinyBalls()
        let dir = temporaryPath("teleport")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try generateDataset(world: world, episodes: 32, frames: 8, seed: 5, to: dir + "/data.h5")
        var config = TrainingConfig()
        config.kind = .nextFrame
        config.actionModel = tinyPassiveConfig()
        config.data.path = dir + "/data.h5"
        config.data.batchSize = 8
        config.loss = JEPALossWeights(prediction: 1, variance: 1, covariance: 0.04, rollout: 1)
        (config.ema.start, config.ema.end) = (0, 0)
        (config.train.steps, config.optim.warmupSteps, config.optim.lr, config.train.checkpointEvery) = (40, 4, 2e-3, 40)
        try config.validate()
        let trainer = try Trainer(config: config, runDirectory: dir + "/run", configYAML: ConfigLoader.resolvedYAML(config), resume: false)
        try trainer.run()
        let (loadedConfig, step, model) = try loadWorldModel(checkpoint: dir + "/run/checkpoints/step_40.h5")
        #expect(loadedConfig.kind == .nextFrame && step == 40 && model.checkpointModules["inverse_dynamics"] == nil)

        let maker = BallsViolations(world: world, minTeleportFraction: 0.5)
        let records = try (0..<6).map { i -> ViolationRecord in
            let pair = try maker.violationPair(index: i, seed: 9, frames: 12, category: .teleport)
            return ViolationRecord(possible: pair.possible, impossible: pair.impossible, violationFrame: pair.violationFrame, category: 0)
        }
        try writeViolationDataset(records, world: world, frames: 12, seed: 9, categoryNames: ["teleport"], to: dir + "/voe.h5")
        let scores = try ViolationScores(path: dir + "/voe.h5", scorer: makeSurpriseScorer(for: model, contextFrames: nil, horizon: 1), batch: 4)
        #expect(scores.pairs.count == 6 && scores.frames == Array(3..<12))
        #expect(scores.pairs.allSatisfy { $0.possible.allSatisfy(\.isFinite) && $0.impossible.count == 9 })
        let summary = scores.summaries(reduction: .max)
        #expect(summary.map(\.category) == ["teleport", "principle: spatio_temporal_continuity", "overall"])
        #expect(summary[0].pairwiseAccuracy == 1, "\(summary)")
    }

    @Test func aPlainClipFileIsNotAViolationSet() throws {
        let path = temporaryPath("plain") + ".h5"
        _ = try generateDataset(world: try tinyBalls(), episodes: 4, frames: 6, seed: 1, to: path)
        var rng = RandomGenerator(seed: 4)
        let model = try ActionConditionedJEPA(config: tinyPassiveConfig(), rng: &rng)
        let scorer = try NextFrameSurpriseScorer(model: model, contextFrames: 2)
        #expect(throws: EvaluationError.self) { _ = try ViolationScores(path: path, scorer: scorer) }
    }

    /// An untrained predictor repeats the last latent whatever the context, so the continuation
    /// energy is the same from 1 and from 3 frames and equals the hand-computed "repeat frame
    /// clipStart" energy; with a latent variable, the minimum over z is never above z = 0.
    @Test func continuationEnergiesFromOneAndMoreFrames() throws {
        let path = temporaryPath("continuations") + ".h5"
        _ = try generateDataset(world: try tinyBalls(), episodes: 5, frames: 8, seed: 2, to: path)
        var rng = RandomGenerator(seed: 6)
        let untrained = try ActionConditionedJEPA(config: tinyPassiveConfig(), rng: &rng)
        let plain = try continuationEnergies(of: untrained, datasetPath: path, episodes: 1..<5, contexts: [1, 3],
                                             clipStart: 3, horizon: 2, batch: 3)
        #expect(plain.map(\.contextFrames) == [1, 3] && plain.allSatisfy { $0.minOverZ == nil })
        let z = untrained.encode(clips(try tinyBalls(), count: 5, frames: 8, seed: 2).slice(axis: 0, 1..<5))
        let repeatLast = energyPerClip(predicted: concat([z.slice(axis: 1, 3..<4), z.slice(axis: 1, 3..<4)], axis: 1),
                                       target: z.slice(axis: 1, 4..<6), distance: .l2).scalars.reduce(0, +) / 4
        for e in plain { #expect(abs(e.atZero - Double(repeatLast)) <= 1e-6 * max(1, Double(repeatLast)), "\(plain) vs \(repeatLast)") }

        var c = tinyPassiveConfig()
        (c.zDim, c.zSamples) = (2, 8)
        let withZ = try ActionConditionedJEPA(config: c, rng: &rng)
        for p in withZ.predictor.parameters() { p.assign(Tensor.uniform(p.shape, low: -1, high: 1, using: &rng)) }
        let energies = try continuationEnergies(of: withZ, datasetPath: path, episodes: 0..<5, contexts: [1, 3], clipStart: 3, horizon: 2)
        #expect(energies.allSatisfy { $0.minOverZ != nil && $0.minOverZ! < $0.atZero })
        #expect(throws: EvaluationError.self) {
            _ = try continuationEnergies(of: withZ, datasetPath: path, episodes: 0..<5, contexts: [4], clipStart: 3, horizon: 2)
        }
    }
}
