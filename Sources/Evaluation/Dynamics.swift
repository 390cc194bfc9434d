import Foundation
import HDF5
import JEPA
import Tensors

/// What a passive frame model knows about motion, measured on held-out one-ball episodes without
/// any violation pair (so nothing in it can be tuned to a category):
/// - a position probe (ridge, x and y) from one frame's latent, the decoder of everything below;
/// - probes of position and velocity from the model's state at a frame: the latents of the frames
///   it reads there (its context) and its prediction of the next frame's latent (what the
///   predictor made of them);
/// - open-loop rollouts decoded to positions by the position probe, against two baselines that
///   know the true positions: "repeat the last position" and a constant-velocity extrapolation
///   of the last two (it knows velocity but not gravity or bounces; beating it means the model
///   learned them), and against the probe applied to the true latents of the same frames (the
///   decoder's own error, the floor of the model's).
public struct DynamicsEvaluation: Codable, Sendable {
    /// Known frames `startFrame − contextFrames + 1 … startFrame` of each rollout, and of each state.
    public var contextFrames: Int, startFrame: Int
    /// Episodes that fit the probes and episodes that score them.
    public var trainEpisodes: Int, testEpisodes: Int
    /// R² of x, y from one frame's latent (held-out episodes, every frame).
    public var positionR2: [Double]
    /// The ridge penalties chosen for the position and the state probe on held-out training
    /// episodes (`RidgeProbe.validated`).
    public var positionLambda: Double, stateLambda: Double
    /// The state entries of `stateR2`, e.g. ["x", "y", "vx", "vy"].
    public var stateNames: [String]
    /// R² of `stateNames` from the model's state at a frame (the context's latents and the predicted
    /// next latent; held-out episodes, frames `stateFrames`).
    public var stateR2: [Double]
    public var stateFrames: [Int]
    /// Median position error in pixels at horizons 1…H: the decoded rollout, the baselines, and
    /// the probe on the true latents.
    public var model: [Double], constantVelocity: [Double], repeatLast: [Double], decodedTruth: [Double]
}

/// Measures `DynamicsEvaluation` on the one-ball episodes of `datasetPath` (states named
/// `ball0.x`, `ball0.y`, `ball0.vx`, `ball0.vy`, in pixels and pixels per frame): probes fitted on
/// `train` (their penalties chosen on its last fifth), everything scored on `test`; rollouts of `horizon` steps from the `context` frames
/// ending at `startFrame` (default: all the frames up to there, at most the predictor's window),
/// and the state read from as many.
public func evaluateDynamics(of model: ActionConditionedJEPA, datasetPath: String, train: Range<Int>, test: Range<Int>,
                             context: Int? = nil, startFrame: Int = 11, horizon: Int = 16, batch: Int = 32) throws -> DynamicsEvaluation {
    guard model.config.actionDim == 0, model.config.proprioDim == 0 else {
        throw EvaluationError("dynamics: only for next-frame models (no actions, no proprioception)")
    }
    let context = context ?? min(model.predictor.window, startFrame + 1)
    let names = ["x", "y", "vx", "vy"]
    let source = try ProbeSource(path: datasetPath, names: names.map { "ball0." + $0 })
    let length = source.length
    guard context >= 1, startFrame >= 1, startFrame - context + 1 >= 0, startFrame + horizon < length, horizon >= 1,
          !train.isEmpty, !test.isEmpty, train.upperBound <= source.episodes, test.upperBound <= source.episodes else {
        throw EvaluationError("\(datasetPath): \(source.episodes) episodes of \(length) frames do not hold \(context) context frames "
                              + "up to frame \(startFrame) (at least 1) and \(horizon) steps after")
    }
    let clips = try ClipFile(path: datasetPath)

    // Every frame's latent and true state, episode by episode.
    func latentsAndStates(_ episodes: Range<Int>) throws -> (latents: Tensor, states: [Double]) {
        var parts: [Tensor] = [], states: [Double] = []
        for start in stride(from: episodes.lowerBound, to: episodes.upperBound, by: batch) {
            let rows = start..<min(start + batch, episodes.upperBound)
            let frames = try clips.read(rows)
            parts.append(noGrad { DataParallel.map(batch: rows.count) { model.encode(frames.slice(axis: 0, $0)) } })
            let all = try source.file.readFloat32("states", rows: rows).values
            for i in 0..<(rows.count * length) { states += source.columns.map { Double(all[i * source.stateCount + $0]) } }
        }
        return (concat(parts, axis: 0), states)
    }
    let (trainLatents, trainStates) = try latentsAndStates(train)
    let (testLatents, testStates) = try latentsAndStates(test)
    let k = names.count, width = trainLatents.shape[2] * trainLatents.shape[3]
    func frameFeatures(_ latents: Tensor) -> [Double] {   // [n, T, ...] → [n·T, width]
        latents.reshaped([-1, width]).scalars.map(Double.init)
    }
    func targets(_ states: [Double], episodes: Int, frames: [Int], columns: Range<Int>) -> [Double] {
        (0..<episodes).flatMap { e in frames.flatMap { t in columns.map { states[(e * length + t) * k + $0] } } }
    }

    // The position probe, on every frame.
    let allFrames = Array(0..<length)
    let fitEpisodes = train.count - max(train.count / 5, 1)   // the rest choose each probe's penalty
    let (positionProbe, positionLambda) = try RidgeProbe.validated(
        features: frameFeatures(trainLatents), targets: targets(trainStates, episodes: train.count, frames: allFrames, columns: 0..<2),
        count: train.count * length, fitCount: fitEpisodes * length)
    func positions(_ latents: Tensor) -> [Double] {   // [n, T, ...] → [n·T, 2]
        positionProbe.predict(frameFeatures(latents), count: latents.shape[0] * latents.shape[1])
    }
    let positionR2 = RidgeProbe.r2(predicted: positions(testLatents),
                                   actual: targets(testStates, episodes: test.count, frames: allFrames, columns: 0..<2),
                                   count: test.count * length)

    // The model's state at frame t: the latents of the context frames ending at t and its prediction of frame t + 1's.
    let stateFrames = Array(startFrame..<(length - 1))
    func stateFeatures(_ latents: Tensor) -> [Double] {
        let n = latents.shape[0]
        let perFrame = stateFrames.map { t -> Tensor in
            let known = latents.slice(axis: 1, (t - context + 1)..<(t + 1))
            let next = noGrad {
                DataParallel.map(batch: n) { rows in
                    model.rollout(latents: known.slice(axis: 0, rows), actions: Tensor.zeros([rows.count, context, 0]))
                }
            }
            return concat([known, next], axis: 1).reshaped([n, 1, -1])
        }
        return concat(perFrame, axis: 1).reshaped([n * stateFrames.count, -1]).scalars.map(Double.init)
    }
    let (stateProbe, stateLambda) = try RidgeProbe.validated(
        features: stateFeatures(trainLatents), targets: targets(trainStates, episodes: train.count, frames: stateFrames, columns: 0..<k),
        count: train.count * stateFrames.count, fitCount: fitEpisodes * stateFrames.count)
    let stateR2 = RidgeProbe.r2(predicted: stateProbe.predict(stateFeatures(testLatents), count: test.count * stateFrames.count),
                                actual: targets(testStates, episodes: test.count, frames: stateFrames, columns: 0..<k),
                                count: test.count * stateFrames.count)

    // Open-loop rollouts of the held-out episodes, decoded.
    let n = test.count
    let known = testLatents.slice(axis: 1, (startFrame - context + 1)..<(startFrame + 1))
    let predicted = noGrad {
        DataParallel.map(batch: n) { rows in
            model.rollout(latents: known.slice(axis: 0, rows), actions: Tensor.zeros([rows.count, context - 1 + horizon, 0]))
        }
    }
    let decoded = positions(predicted)                                                          // [n·H, 2]
    let decodedTrue = positions(testLatents.slice(axis: 1, (startFrame + 1)..<(startFrame + horizon + 1)))
    func truth(_ e: Int, _ t: Int) -> (Double, Double) {
        let i = (e * length + t) * k
        return (testStates[i], testStates[i + 1])
    }
    func medianError(_ guess: (_ episode: Int, _ step: Int) -> (Double, Double)) -> [Double] {
        (1...horizon).map { step in
            median((0..<n).map { e in
                let (gx, gy) = guess(e, step), (x, y) = truth(e, startFrame + step)
                return ((gx - x) * (gx - x) + (gy - y) * (gy - y)).squareRoot()
            })
        }
    }
    return DynamicsEvaluation(
        contextFrames: context, startFrame: startFrame, trainEpisodes: train.count, testEpisodes: n,
        positionR2: positionR2, positionLambda: positionLambda, stateLambda: stateLambda, stateNames: names, stateR2: stateR2, stateFrames: stateFrames,
        model: medianError { e, step in (decoded[((e * horizon) + step - 1) * 2], decoded[((e * horizon) + step - 1) * 2 + 1]) },
        constantVelocity: medianError { e, step in
            let (x1, y1) = truth(e, startFrame), (x0, y0) = truth(e, startFrame - 1)
            return (x1 + Double(step) * (x1 - x0), y1 + Double(step) * (y1 - y0))
        },
        repeatLast: medianError { e, _ in truth(e, startFrame) },
        decodedTruth: medianError { e, step in (decodedTrue[((e * horizon) + step - 1) * 2], decodedTrue[((e * horizon) + step - 1) * 2 + 1]) })
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
