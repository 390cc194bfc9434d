import Checkpoints
import Config
@testable import Evaluation
import Foundation
@testable import JEPA
import Tensors
import Testing
import Worlds

/// The calibration jepa train stores in a next-frame checkpoint, and the defaults that use it.
@Suite struct SurpriseCalibrationTests {
    /// A tiny next-frame run of a few steps on a tiny one-ball world; returns (directory, checkpoint).
    func tinyRun(_ name: String) throws -> (String, String) {
        var balls = BallsConfig()
        (balls.width, balls.height, balls.minRadius, balls.maxRadius, balls.maxBalls) = (16, 16, 2, 3, 1)
        (balls.minVX, balls.maxVX, balls.minVY, balls.maxVY, balls.gravity) = (-1, 1, -0.5, 0.5, 0.15)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jepa-calibration-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        _ = try generateDataset(world: try BallsWorld(config: balls), episodes: 16, frames: 12, seed: 5, to: dir + "/data.h5")
        var config = TrainingConfig()
        config.kind = .nextFrame
        var model = ActionJEPAConfig.passive
        (model.frames, model.imageSize, model.patch, model.predictor) = (4, 16, 4, .recurrent)
        (model.encoderDim, model.encoderDepth, model.encoderHeads, model.pooledDim, model.gruHidden) = (16, 1, 2, 16, 12)
        (model.rolloutSteps, model.distance) = (3, .l2)
        config.actionModel = model
        config.data.path = dir + "/data.h5"
        config.data.batchSize = 4
        (config.ema.start, config.ema.end) = (0, 0)
        (config.train.steps, config.optim.warmupSteps, config.train.checkpointEvery) = (3, 1, 3)
        try config.validate()
        try Trainer(config: config, runDirectory: dir + "/run", configYAML: ConfigLoader.resolvedYAML(config), resume: false).run()
        return (dir, dir + "/run/checkpoints/step_3.h5")
    }

    @Test func storedFitScoresExactlyAsTheFitItWasAndLeavesTheWeightsAlone() throws {
        let (dir, checkpoint) = try tinyRun("stored")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try SurpriseCalibration.stored(at: checkpoint) == nil)
        let before = try CheckpointIO.read(checkpoint)
        let model = try #require(try loadWorldModel(checkpoint: checkpoint).model as? ActionConditionedJEPA)
        let fit = try SurpriseCalibration.fit(model: model, clips: dir + "/data.h5", count: 10, batch: 4)
        #expect(fit.clips == 10 && fit.horizon == defaultSurpriseHorizon && fit.minimumContext == min(defaultMinimumContext, model.predictor.window))
        #expect(fit.energies.keys.sorted() == Array(1...defaultSurpriseHorizon))   // the first frames are predicted fewer steps ahead
        guard case let .fixed(delta) = defaultCalibrationShrinkage else { Issue.record("the default shrinkage is a fixed δ"); return }
        #expect(fit.energies.values.allSatisfy { $0.shrinkage == delta })
        try fit.store(in: checkpoint)

        let stored = try #require(try SurpriseCalibration.stored(at: checkpoint))
        #expect(stored.settings == fit.settings && stored.clips == 10 && stored.source == dir + "/data.h5")
        #expect(stored.energies.keys.sorted() == fit.energies.keys.sorted())
        for (k, energy) in fit.energies {
            #expect(stored.energies[k]!.mean.scalars == energy.mean.scalars && stored.energies[k]!.whitening.scalars == energy.whitening.scalars)
            #expect(stored.energies[k]!.samples == energy.samples && stored.energies[k]!.shrinkage == energy.shrinkage)
        }
        let scorer = try #require(try makeSurpriseScorer(for: model, contextFrames: nil) as? NextFrameSurpriseScorer)
        let fresh = try scorer.calibrated(on: dir + "/data.h5", clips: 10, batch: 4)
        let clips = try ClipFile(path: dir + "/data.h5").read(10..<16)
        #expect(try stored.applied(to: scorer)!.surprise(clips).scalars == fresh.surprise(clips).scalars)
        // A fit is for its own settings only.
        #expect(stored.applied(to: try NextFrameSurpriseScorer(model: model, contextFrames: 2, horizon: 2)) == nil)
        #expect(stored.applied(to: try NextFrameSurpriseScorer(model: model, contextFrames: scorer.contextFrames, horizon: 1,
                                                                minimumContext: scorer.minimumContext)) == nil)
        #expect(stored.applied(to: try NextFrameSurpriseScorer(model: model, contextFrames: scorer.contextFrames)) == nil)

        // Weights, optimiser and training state are what they were; loading and --init-from skip the group.
        let after = try CheckpointIO.read(checkpoint)
        #expect(after.step == before.step && after.optimizer.map(\.name) == before.optimizer.map(\.name))
        for (group, list) in before.modules {
            #expect(after.modules[group]!.map(\.tensor.scalars) == list.map(\.tensor.scalars))
        }
        #expect(before.state.allSatisfy { after.state[$0.key] == $0.value })
        _ = try loadWorldModel(checkpoint: checkpoint)
        var rng = RandomGenerator(seed: 3)
        let other = try ActionConditionedJEPA(config: model.config, rng: &rng)
        try initialiseWeights(other, from: checkpoint, strict: true)
    }

    @Test func damagedStoredFitsAreRefusedWithAReason() throws {
        let (dir, checkpoint) = try tinyRun("damaged")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try #require(try loadWorldModel(checkpoint: checkpoint).model as? ActionConditionedJEPA)
        let fit = try SurpriseCalibration.fit(model: model, clips: dir + "/data.h5", count: 6, batch: 4)
        try fit.store(in: checkpoint)
        var partial = try CheckpointIO.read(checkpoint)
        partial.state["calibration.horizon"] = nil
        try CheckpointIO.write(partial, to: dir + "/partial.h5")
        #expect(throws: EvaluationError.self) { _ = try SurpriseCalibration.stored(at: dir + "/partial.h5") }

        var missing = try CheckpointIO.read(checkpoint)
        missing.modules[CheckpointIO.calibrationGroup]!.removeAll { $0.name == "h2.mean" }
        try CheckpointIO.write(missing, to: dir + "/missing.h5")
        #expect(throws: EvaluationError.self) { _ = try SurpriseCalibration.stored(at: dir + "/missing.h5") }

        var upper = try CheckpointIO.read(checkpoint)
        let d = fit.main.dimension
        var w = fit.main.whitening.scalars
        w[1] = 0.5   // above the diagonal
        upper.modules[CheckpointIO.calibrationGroup] = upper.modules[CheckpointIO.calibrationGroup]!.map {
            $0.name == "h\(fit.horizon).whitening" ? ($0.name, Tensor(w, shape: [d, d])) : $0
        }
        try CheckpointIO.write(upper, to: dir + "/upper.h5")
        let error = #expect(throws: EvaluationError.self) { _ = try SurpriseCalibration.stored(at: dir + "/upper.h5") }
        #expect(error?.description.contains("lower-triangular") == true, "\(String(describing: error))")
    }
}
