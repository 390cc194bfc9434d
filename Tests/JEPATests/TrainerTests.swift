import Evaluation
import Foundation
@testable import JEPA
import Tensors
import Testing
import Worlds

/// A tiny balls dataset (16×16 frames) and a tiny model config.
private func tinySetup(_ name: String) throws -> (TrainingConfig, String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jepa-trainer-\(name)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var balls = BallsConfig()
    (balls.width, balls.height, balls.minRadius, balls.maxRadius, balls.maxBalls) = (16, 16, 2, 3, 1)
    (balls.minVX, balls.maxVX, balls.minVY, balls.maxVY, balls.gravity) = (-1, 1, -0.5, 0.5, 0.15)
    _ = try generateDataset(world: BallsWorld(config: balls), episodes: 24, frames: 6, seed: 3, to: dir + "/data.h5")
    var c = TrainingConfig()
    c.data.path = dir + "/data.h5"
    c.data.batchSize = 8
    (c.model.frames, c.model.imageSize, c.model.patch) = (2, 16, 8)
    (c.model.encoderDim, c.model.encoderDepth, c.model.encoderHeads) = (16, 1, 2)
    (c.model.predictorDim, c.model.predictorDepth, c.model.predictorHeads) = (8, 1, 2)
    (c.mask.blocks, c.mask.spatialScale, c.mask.aspectRatio, c.mask.maskedSpatialFraction) = (1, [0.25, 0.25], [1, 1], 0.5)
    (c.train.steps, c.optim.warmupSteps, c.optim.lr, c.train.logEvery, c.train.checkpointEvery, c.train.keepLast) = (20, 2, 2e-3, 5, 10, 2)
    return (c, dir)
}

private func parameters(_ t: Trainer) -> [Float] {
    t.model.checkpointModules.sorted { $0.key < $1.key }.flatMap { $0.value.parameters() }.flatMap(\.scalars)
}

@Suite(.serialized) struct TrainerTests {
    @Test func tinyRunLearnsLogsAndCheckpoints() throws {
        var (config, dir) = try tinySetup("learn")
        config.train.steps = 40
        let trainer = try Trainer(config: config, runDirectory: dir + "/run", configYAML: "name: tiny", resume: false)
        var records: [TrainingRecord] = []
        try trainer.run(report: { if case let .step(r) = $0 { records.append(r) } })
        #expect(trainer.step == 40)
        #expect(records.map(\.step) == [5, 10, 15, 20, 25, 30, 35, 40])
        #expect(records.last!.prediction < 0.8 * records.first!.prediction, "\(records.map(\.prediction))")
        #expect(records.allSatisfy { $0.targetStd > config.train.collapseFloor && $0.effectiveRank > 1 })
        let lines = try String(contentsOfFile: dir + "/run/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 8 && lines[0].contains("\"target_std\""))
        #expect(FileManager.default.fileExists(atPath: dir + "/run/checkpoints/step_40.h5"))
    }

    /// Stopped at step 10 and resumed from its checkpoint, a run ends with the same parameters, bit
    /// for bit, as one that ran 20 steps straight (same thread count).
    @Test func interruptedAndResumedEqualsUninterrupted() throws {
        let (config, dir) = try tinySetup("resume")
        let straight = try Trainer(config: config, runDirectory: dir + "/straight", configYAML: "", resume: false)
        try straight.run()
        let first = try Trainer(config: config, runDirectory: dir + "/split", configYAML: "", resume: false)
        try first.run(shouldStop: { first.step == 7 })
        #expect(first.step == 7)
        let resumed = try Trainer(config: config, runDirectory: dir + "/split", configYAML: "", resume: true)
        #expect(resumed.step == 7)
        try resumed.run()
        #expect(resumed.step == 20)
        #expect(parameters(resumed) == parameters(straight))
        #expect(resumed.optimizer.namedState().flatMap(\.tensor.scalars) == straight.optimizer.namedState().flatMap(\.tensor.scalars))
    }

    @Test func sigregRunsResumeExactlyToo() throws {
        var (config, dir) = try tinySetup("sigreg")
        (config.loss.variance, config.loss.covariance, config.loss.sigreg) = (0, 0, 0.05)
        let straight = try Trainer(config: config, runDirectory: dir + "/straight", configYAML: "", resume: false)
        try straight.run()
        let first = try Trainer(config: config, runDirectory: dir + "/split", configYAML: "", resume: false)
        try first.run(shouldStop: { first.step == 5 })
        let resumed = try Trainer(config: config, runDirectory: dir + "/split", configYAML: "", resume: true)
        try resumed.run()
        #expect(parameters(resumed) == parameters(straight))
    }

    /// The probe reads held-out clips and scores each named state entry; one ball's position is
    /// visible through any encoder that keeps where things are, even an untrained one.
    @Test func stateProbeOfAVideoModel() throws {
        let (config, dir) = try tinySetup("probe")
        var balls = BallsConfig()
        (balls.width, balls.height, balls.minRadius, balls.maxRadius, balls.minBalls, balls.maxBalls) = (16, 16, 2, 3, 1, 1)
        _ = try generateDataset(world: BallsWorld(config: balls), episodes: 200, frames: 12, seed: 4, to: dir + "/probe.h5")
        var rng = RandomGenerator(seed: 1)
        let model = try VideoJEPA(config: config.model, rng: &rng)
        let r2 = try probeState(of: model, datasetPath: dir + "/probe.h5", names: ["ball0.x", "ball0.y"],
                                trainEpisodes: 0..<160, testEpisodes: 160..<200).r2
        #expect(r2.count == 2 && r2.allSatisfy { $0.isFinite && $0 > 0.2 }, "\(r2)")
        #expect(throws: EvaluationError.self) {
            _ = try probeState(of: model, datasetPath: dir + "/probe.h5", names: ["ball0.x"], poolGrid: 3,
                               trainEpisodes: 0..<160, testEpisodes: 160..<200)
        }
    }

    @Test func dataOfTheWrongSizeIsRefused() throws {
        var (config, dir) = try tinySetup("mismatch")
        config.model.imageSize = 32
        #expect(throws: TrainingError.self) {
            _ = try Trainer(config: config, runDirectory: dir + "/run", configYAML: "", resume: false)
        }
    }
}
