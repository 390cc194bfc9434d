import Foundation
import HDF5
import JEPA
import Tensors

/// A dataset opened for probing: one-channel frames [N, T, H, W] and the state columns asked for.
struct ProbeSource {
    let path: String
    let file: HDF5File
    let columns: [Int]
    let stateCount: Int, episodes: Int, length: Int, height: Int, width: Int

    init(path: String, names: [String]) throws {
        self.path = path
        file = try HDF5File(path: path, mode: .readOnly)
        let all = try JSONDecoder().decode([String].self, from: Data(file.stringAttribute("state_names").utf8))
        columns = try names.map { name -> Int in
            guard let i = all.firstIndex(of: name) else { throw EvaluationError("\(path): no state entry '\(name)'") }
            return i
        }
        stateCount = all.count
        let shape = try file.shape(of: "frames")
        guard shape.count == 4 else { throw EvaluationError("\(path): frames must be [N, T, H, W] (one channel) for this probe") }
        (episodes, length, height, width) = (shape[0], shape[1], shape[2], shape[3])
    }

    /// Fits a ridge probe on `train` episodes and scores it on `test` episodes.
    /// Every episode gives one sample per window (first frame, frame count): `features` maps the
    /// windows' frames [S, count, H, W] (in [0, 1]) to features [S, F]; the target is the state
    /// of the window's last frame.
    func fit(train: Range<Int>, test: Range<Int>, windows: [(start: Int, count: Int)], batch: Int,
             features: (Tensor) -> Tensor) throws -> ProbeResult {
        let fit = try samples(train, windows: windows, batch: batch, features: features)
        let scored = try samples(test, windows: windows, batch: batch, features: features)
        let (nTrain, nTest) = (train.count * windows.count, test.count * windows.count)
        let probe = try RidgeProbe(features: fit.x, targets: fit.y, count: nTrain)
        return score(probe, scored, count: nTest)
    }

    /// As `fit`, with the ridge penalty chosen (`RidgeProbe.validated`) on the training episodes
    /// after the first `fitEpisodes`.
    func fitValidated(train: Range<Int>, test: Range<Int>, fitEpisodes: Int, windows: [(start: Int, count: Int)], batch: Int,
                      features: (Tensor) -> Tensor) throws -> (probe: ProbeResult, lambda: Double) {
        let fit = try samples(train, windows: windows, batch: batch, features: features)
        let scored = try samples(test, windows: windows, batch: batch, features: features)
        let (probe, lambda) = try RidgeProbe.validated(features: fit.x, targets: fit.y, count: train.count * windows.count,
                                                       fitCount: fitEpisodes * windows.count)
        return (score(probe, scored, count: test.count * windows.count), lambda)
    }

    private func score(_ probe: RidgeProbe, _ scored: (x: [Double], y: [Double]), count: Int) -> ProbeResult {
        let predicted = probe.predict(scored.x, count: count)
        return ProbeResult(r2: RidgeProbe.r2(predicted: predicted, actual: scored.y, count: count), predicted: predicted, actual: scored.y)
    }

    /// Features and targets of every window of the episodes in `range`, episode-major.
    private func samples(_ range: Range<Int>, windows: [(start: Int, count: Int)], batch: Int,
                         features: (Tensor) -> Tensor) throws -> (x: [Double], y: [Double]) {
        let count = windows[0].count
        guard windows.allSatisfy({ $0.count == count && $0.start >= 0 && $0.start + $0.count <= length }),
              range.upperBound <= episodes else {
            throw EvaluationError("\(path): \(episodes) episodes of \(length) frames do not hold the requested frames")
        }
        let (h, w) = (height, width)
        var x: [Double] = [], y: [Double] = []
        for start in stride(from: range.lowerBound, to: range.upperBound, by: batch) {
            let rows = start..<min(start + batch, range.upperBound)
            let frames = try file.readUInt8("frames", rows: rows).values
            let states = try file.readFloat32("states", rows: rows).values
            var images: [Float] = []
            for e in 0..<rows.count {
                for window in windows {
                    let base = (e * length + window.start) * h * w
                    images += frames[base..<(base + count * h * w)].map { Float($0) / 255 }
                    let row = (e * length + window.start + count - 1) * stateCount
                    y += columns.map { Double(states[row + $0]) }
                }
            }
            x += features(Tensor(images, shape: [rows.count * windows.count, count, h, w])).scalars.map(Double.init)
        }
        return (x, y)
    }
}

/// A probe scored on held-out samples: R² per state entry, and the predicted and true values
/// ([samples, entries], row-major) behind it.
public struct ProbeResult: Sendable {
    public var r2: [Double]
    public var predicted: [Double], actual: [Double]

    /// Predicted and true values of entry `column`.
    public func column(_ column: Int) -> (predicted: [Double], actual: [Double]) {
        let k = r2.count
        return (stride(from: column, to: predicted.count, by: k).map { predicted[$0] },
                stride(from: column, to: actual.count, by: k).map { actual[$0] })
    }
}

/// A quick linear probe of what a video JEPA's frozen target encoder knows about the true state:
/// clips of `model.config.frames` frames starting at `clipStart` in each episode, features = the
/// target-encoder tokens of the clip's last temporal position, average-pooled to a `poolGrid` ×
/// `poolGrid` grid and flattened (1 = the mean token); ridge-regressed onto the named state entries
/// of that frame. Fitted on `trainEpisodes`, scored (R²) on `testEpisodes`.
public func probeState(of model: VideoJEPA, datasetPath: String, names: [String], clipStart: Int = 8,
                       poolGrid: Int = 2, trainEpisodes: Range<Int>, testEpisodes: Range<Int>,
                       batch: Int = 32) throws -> ProbeResult {
    let source = try ProbeSource(path: datasetPath, names: names)
    let grid = model.contextEncoder.patchEmbed.grid
    let perFrame = grid[1] * grid[2], last = (grid[0] - 1) * perFrame
    guard poolGrid >= 1, grid[1] % poolGrid == 0, grid[2] % poolGrid == 0 else {
        throw EvaluationError("the probe's pooling grid \(poolGrid) must divide the token grid \(grid[1])×\(grid[2])")
    }
    let (cellH, cellW) = (grid[1] / poolGrid, grid[2] / poolGrid)
    return try source.fit(train: trainEpisodes, test: testEpisodes, windows: [(clipStart, model.config.frames)],
                         batch: batch) { clips in
        let (n, t) = (clips.shape[0], clips.shape[1])
        let video = clips.reshaped([n, 1, t, source.height, source.width])
        let tokens = DataParallel.map(batch: n) { model.targetFeatures(video.slice(axis: 0, $0)) }
        let frame = tokens.slice(axis: 1, last..<(last + perFrame))                            // [S, h·w, D]
        return frame.reshaped([n, poolGrid, cellH, poolGrid, cellW, frame.shape[2]]).mean(axes: [2, 4]).reshaped([n, -1])
    }
}

/// The same quick probe for a frame model (action-conditioned or next-frame): features = the
/// target encoder's latents of frames t−1 and t (`frameIndices` give t), all tokens flattened, so
/// the probe can read where things are and how they move; ridge-regressed onto the named state
/// entries of frame t.
public func probeState(of model: ActionConditionedJEPA, datasetPath: String, names: [String],
                       frameIndices: [Int] = [3, 11, 19, 27], trainEpisodes: Range<Int>, testEpisodes: Range<Int>,
                       batch: Int = 32) throws -> ProbeResult {
    let source = try ProbeSource(path: datasetPath, names: names)
    return try source.fit(train: trainEpisodes, test: testEpisodes, windows: frameIndices.map { ($0 - 1, 2) },
                          batch: batch) { frames in
        let n = frames.shape[0]
        let pairs = frames.reshaped([n, 2, 1, source.height, source.width])
        return DataParallel.map(batch: n) { model.encode(pairs.slice(axis: 0, $0)) }.reshaped([n, -1])
    }
}

/// Open-loop prediction error against the horizon, per step k = 1…horizon: the mean energy of the
/// model's prediction, of "nothing changes" (the last known latent) and, for a model with
/// actions, of the model's prediction under shuffled actions (each episode rolled out with another
/// episode's actions).
public struct RolloutErrors: Codable, Sendable {
    public var model: [Double], repeatLast: [Double], shuffledActions: [Double]?
}

/// Open-loop prediction on held-out clips: from the target latents of frames
/// `clipStart − context + 1 … clipStart` of each episode (and the recorded actions, if the model
/// takes any), roll the model out `horizon` frames and compare with the target latents of the
/// frames that followed. A model with proprioception starts from the states of the context frames
/// (latents with the recorded proprioception) and is scored on its predicted latents.
public func rolloutErrors(of model: ActionConditionedJEPA, datasetPath: String, episodes: Range<Int>,
                          context: Int = 1, clipStart: Int = 8, horizon: Int = 8, batch: Int = 32) throws -> RolloutErrors {
    let file = try HDF5File(path: datasetPath, mode: .readOnly)
    let frameShape = try file.shape(of: "frames")
    let a = model.config.actionDim
    let actionShape = file.exists("actions") ? try file.shape(of: "actions") : []
    guard frameShape.count == 4, a == 0 || actionShape.last == a else {
        throw EvaluationError("\(datasetPath): needs one-channel frames [N, T, H, W]" + (a > 0 ? " and \(a) actions per frame" : ""))
    }
    let (count, length, h, w) = (frameShape[0], frameShape[1], frameShape[2], frameShape[3])
    let first = clipStart - context + 1
    guard horizon >= 1, context >= 1, first >= 0, clipStart + horizon < length, episodes.upperBound <= count, batch >= 2 else {
        throw EvaluationError("\(datasetPath): \(count) episodes of \(length) frames do not hold \(context) context frames up to frame \(clipStart) and \(horizon) steps after it")
    }
    let span = context + horizon
    var sums = (model: [Double](repeating: 0, count: horizon), copy: [Double](repeating: 0, count: horizon),
                shuffled: [Double](repeating: 0, count: horizon))
    var counted = 0
    for start in stride(from: episodes.lowerBound, to: episodes.upperBound, by: batch) {
        let rows = start..<min(start + batch, episodes.upperBound)
        guard rows.count >= 2 || a == 0 else { continue }   // shuffling needs a second episode
        let frames = try file.readUInt8("frames", rows: rows).values
        let actions = a > 0 ? try file.readFloat32("actions", rows: rows).values : []
        let stateRows = model.config.proprioDim > 0 ? try file.readFloat32("states", rows: rows) : nil
        let s = stateRows.map { $0.shape[2] } ?? 0
        var images: [Float] = [], taken: [Float] = [], proprio: [Float] = []
        for e in 0..<rows.count {
            let base = (e * length + first) * h * w
            images += frames[base..<(base + span * h * w)].map { Float($0) / 255 }
            let from = (e * length + first) * a
            taken += actions[from..<(from + (span - 1) * a)]
            if let stateRows { proprio += stateRows.values[((e * length + first) * s)..<((e * length + first + context) * s)] }
        }
        let n = rows.count
        let clips = Tensor(images, shape: [n, span, 1, h, w])
        let latents = DataParallel.map(batch: n) { model.encode(clips.slice(axis: 0, $0)) }
        let known = model.state(latents: latents.slice(axis: 1, 0..<context),
                                proprio: stateRows.map { _ in Tensor(proprio, shape: [n, context, s]) })
        let d = model.config.distance
        func errors(_ actions: [Float]) -> [Double] {
            let predicted = noGrad { model.visualPart(model.rollout(latents: known, actions: Tensor(actions, shape: [n, span - 1, a]))) }
            return (0..<horizon).map { k in
                Double(energyPerClip(predicted: predicted.slice(axis: 1, k..<(k + 1)),
                                     target: latents.slice(axis: 1, (context + k)..<(context + k + 1)), distance: d).scalars.reduce(0, +))
            }
        }
        let last = latents.slice(axis: 1, (context - 1)..<context)
        for k in 0..<horizon {
            sums.copy[k] += Double(energyPerClip(predicted: last, target: latents.slice(axis: 1, (context + k)..<(context + k + 1)),
                                                 distance: d).scalars.reduce(0, +))
        }
        for (k, e) in errors(taken).enumerated() { sums.model[k] += e }
        if a > 0 {
            // Episode e takes episode e+1's actions (a derangement within the batch).
            let per = (span - 1) * a
            var shuffled: [Float] = []
            for e in 0..<n {
                let from = (e + 1) % n * per
                shuffled += taken[from..<(from + per)]
            }
            for (k, e) in errors(shuffled).enumerated() { sums.shuffled[k] += e }
        }
        counted += n
    }
    guard counted > 0 else { throw EvaluationError("\(datasetPath): no episodes to roll out") }
    let scale = 1 / Double(counted)
    return RolloutErrors(model: sums.model.map { $0 * scale }, repeatLast: sums.copy.map { $0 * scale },
                         shuffledActions: a > 0 ? sums.shuffled.map { $0 * scale } : nil)
}
