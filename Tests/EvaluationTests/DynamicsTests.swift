@testable import Evaluation
import Foundation
import HDF5
@testable import JEPA
import Tensors
import Testing
import Worlds

@Suite struct DynamicsTests {
    /// 16×16 frames, one ball.
    func world() throws -> BallsWorld {
        var c = BallsConfig()
        (c.width, c.height, c.minRadius, c.maxRadius, c.maxBalls) = (16, 16, 2, 3, 1)
        (c.minVX, c.maxVX, c.minVY, c.maxVY, c.gravity) = (-1, 1, -0.5, 0.5, 0.15)
        return try BallsWorld(config: c)
    }

    func model(_ rng: inout RandomGenerator) throws -> ActionConditionedJEPA {
        var c = ActionJEPAConfig.passive
        (c.frames, c.imageSize, c.patch, c.predictor) = (4, 16, 4, .recurrent)
        (c.encoderDim, c.encoderDepth, c.encoderHeads, c.pooledDim, c.gruHidden) = (16, 1, 2, 16, 12)
        return try ActionConditionedJEPA(config: c, rng: &rng)
    }

    /// An untrained predictor predicts "nothing changes", so its decoded rollout is the position
    /// probe's reading of the last known frame at every horizon; the baselines are the medians of
    /// the hand-computed errors of the true positions.
    @Test func rolloutErrorsAgainstHandComputedBaselines() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jepa-dynamics-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (episodes, length, start, context, horizon) = (14, 16, 5, 2, 6)
        _ = try generateDataset(world: try world(), episodes: episodes, frames: length, seed: 4, to: path)
        var rng = RandomGenerator(seed: 2)
        let untrained = try model(&rng)
        let train = 0..<10, test = 10..<14
        let d = try evaluateDynamics(of: untrained, datasetPath: path, train: train, test: test, context: context,
                                     startFrame: start, horizon: horizon, batch: 3)
        #expect(d.model.count == horizon && d.stateR2.count == 4 && d.positionR2.count == 2 && d.stateFrames == Array(5..<15))
        // By default the context is every frame up to the start, at most the predictor's window (3).
        let byDefault = try evaluateDynamics(of: untrained, datasetPath: path, train: train, test: test, startFrame: start, horizon: horizon, batch: 3)
        #expect(byDefault.contextFrames == 3 && byDefault.repeatLast == d.repeatLast)

        let file = try HDF5File(path: path, mode: .readOnly)
        let names = try JSONDecoder().decode([String].self, from: Data(file.stringAttribute("state_names").utf8))
        let (ix, iy) = (names.firstIndex(of: "ball0.x")!, names.firstIndex(of: "ball0.y")!)
        let states = try file.readFloat32("states")
        let s = states.shape[2]
        func position(_ e: Int, _ t: Int) -> (Double, Double) {
            (Double(states.values[(e * length + t) * s + ix]), Double(states.values[(e * length + t) * s + iy]))
        }
        func medians(_ guess: (Int, Int) -> (Double, Double)) -> [Double] {
            (1...horizon).map { k in
                median(test.map { e in
                    let (gx, gy) = guess(e, k), (x, y) = position(e, start + k)
                    return ((gx - x) * (gx - x) + (gy - y) * (gy - y)).squareRoot()
                })
            }
        }
        let repeatLast = medians { e, _ in position(e, start) }
        let constantVelocity = medians { e, k in
            let (x1, y1) = position(e, start), (x0, y0) = position(e, start - 1)
            return (x1 + Double(k) * (x1 - x0), y1 + Double(k) * (y1 - y0))
        }
        for k in 0..<horizon {
            #expect(abs(d.repeatLast[k] - repeatLast[k]) < 1e-9 && abs(d.constantVelocity[k] - constantVelocity[k]) < 1e-9)
        }

        // The position probe, fitted here on every frame of the training episodes (8 fit, 2 choose the penalty).
        let frames = try ClipFile(path: path).read(0..<episodes)
        let latents = untrained.encode(frames)                                  // [E, T, 1, D]
        let dim = latents.shape[3]
        let values = latents.scalars.map(Double.init)
        let (probe, lambda) = try RidgeProbe.validated(
            features: Array(values[0..<(train.count * length * dim)]),
            targets: train.flatMap { e in (0..<length).flatMap { t in [position(e, t).0, position(e, t).1] } },
            count: train.count * length, fitCount: 8 * length)
        #expect(lambda == d.positionLambda)
        let lastKnown = test.flatMap { e in values[((e * length + start) * dim)..<((e * length + start + 1) * dim)] }
        let decoded = probe.predict(Array(lastKnown), count: test.count)
        let model = medians { e, _ in (decoded[(e - test.lowerBound) * 2], decoded[(e - test.lowerBound) * 2 + 1]) }
        for k in 0..<horizon { #expect(abs(d.model[k] - model[k]) <= 1e-4 * max(1, model[k]), "\(d.model) vs \(model)") }
    }

    /// A video JEPA's state probe reads, at frame t, the context encoder's tokens of the frames
    /// t − 1, t (its context of 2 frames, the rest of the clip never read): the same R² as a probe
    /// fitted here on those tokens; contexts the model cannot take are clear errors.
    @Test func videoStateProbeReadsTheContextTokens() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jepa-video-state-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (episodes, length) = (14, 16)
        _ = try generateDataset(world: try world(), episodes: episodes, frames: length, seed: 4, to: path)
        var c = VideoJEPAConfig()
        (c.frames, c.imageSize, c.patch, c.tubelet) = (4, 16, 8, 2)                          // 2 × 2 × 2 tokens
        (c.encoderDim, c.encoderDepth, c.encoderHeads, c.predictorDim, c.predictorDepth, c.predictorHeads) = (16, 1, 2, 8, 1, 2)
        var rng = RandomGenerator(seed: 3)
        let model = try VideoJEPA(config: c, rng: &rng)
        let train = 0..<10, test = 10..<14
        let v = try evaluateVideoState(of: model, contextFrames: 2, datasetPath: path, train: train, test: test, firstFrame: 5, batch: 4)
        #expect(v.stateFrames == Array(5..<16) && v.stateR2.count == 4 && v.contextFrames == 2)

        let clips = try ClipFile(path: path).read(0..<episodes)                                // [E, T, 1, H, W]
        let file = try HDF5File(path: path, mode: .readOnly)
        let names = try JSONDecoder().decode([String].self, from: Data(file.stringAttribute("state_names").utf8))
        let columns = ["x", "y", "vx", "vy"].map { names.firstIndex(of: "ball0." + $0)! }
        let states = try file.readFloat32("states")
        func samples(_ episodes: Range<Int>) -> (x: [Double], y: [Double]) {
            var x: [Double] = [], y: [Double] = []
            for e in episodes {
                for t in v.stateFrames {
                    let context = clips.slice(axis: 0, e..<(e + 1)).slice(axis: 1, (t - 1)..<(t + 1)).permuted([0, 2, 1, 3, 4])
                    let clip = concat([context, Tensor.zeros([1, 1, 2, 16, 16])], axis: 2)            // [1, C, 4, H, W]
                    x += noGrad { model.contextEncoder(clip, tokenIndices: [[0, 1, 2, 3]]) }.scalars.map(Double.init)
                    y += columns.map { Double(states.values[(e * length + t) * states.shape[2] + $0]) }
                }
            }
            return (x, y)
        }
        let (fit, scored) = (samples(train), samples(test))
        let perEpisode = v.stateFrames.count
        let (probe, lambda) = try RidgeProbe.validated(features: fit.x, targets: fit.y, count: train.count * perEpisode,
                                                       fitCount: 8 * perEpisode)
        let r2 = RidgeProbe.r2(predicted: probe.predict(scored.x, count: test.count * perEpisode), actual: scored.y,
                               count: test.count * perEpisode)
        #expect(lambda == v.stateLambda)
        for i in 0..<4 { #expect(abs(r2[i] - v.stateR2[i]) <= 1e-6, "\(r2) vs \(v.stateR2)") }

        for bad in [1, 4] {                                                                   // not a tubelet multiple; the whole window
            #expect(throws: EvaluationError.self) {
                _ = try evaluateVideoState(of: model, contextFrames: bad, datasetPath: path, train: train, test: test)
            }
        }
    }

    @Test func refusesWhatItCannotMeasure() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jepa-dynamics-\(UUID().uuidString).h5").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try generateDataset(world: try world(), episodes: 6, frames: 10, seed: 4, to: path)
        var rng = RandomGenerator(seed: 2)
        let passive = try model(&rng)
        #expect(throws: EvaluationError.self) {   // 10 frames cannot hold frame 11 and 16 steps after it
            _ = try evaluateDynamics(of: passive, datasetPath: path, train: 0..<4, test: 4..<6)
        }
        var c = passive.config
        c.actionDim = 2
        let actionModel = try ActionConditionedJEPA(config: c, rng: &rng)
        #expect(throws: EvaluationError.self) {
            _ = try evaluateDynamics(of: actionModel, datasetPath: path, train: 0..<4, test: 4..<6, context: 2, startFrame: 3, horizon: 4)
        }
    }
}
