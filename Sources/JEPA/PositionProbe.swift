import Foundation
import HDF5
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
            guard let i = all.firstIndex(of: name) else { throw ProbeError("\(path): no state entry '\(name)'") }
            return i
        }
        stateCount = all.count
        let shape = try file.shape(of: "frames")
        guard shape.count == 4 else { throw ProbeError("\(path): frames must be [N, T, H, W] (one channel) for this probe") }
        (episodes, length, height, width) = (shape[0], shape[1], shape[2], shape[3])
    }

    /// Fits a ridge probe on `train` episodes and returns its R² per column on `test` episodes.
    /// Every episode gives one sample per window (first frame, frame count): `features` maps the
    /// windows' frames [S, count, H, W] (in [0, 1]) to features [S, F]; the target is the state
    /// of the window's last frame.
    func r2(train: Range<Int>, test: Range<Int>, windows: [(start: Int, count: Int)], batch: Int,
            features: (Tensor) -> Tensor) throws -> [Double] {
        let count = windows[0].count
        guard windows.allSatisfy({ $0.count == count && $0.start >= 0 && $0.start + $0.count <= length }),
              train.upperBound <= episodes, test.upperBound <= episodes else {
            throw ProbeError("\(path): \(episodes) episodes of \(length) frames do not hold the requested frames")
        }
        let (h, w) = (height, width)
        func samples(_ range: Range<Int>) throws -> (x: [Double], y: [Double]) {
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
        let fit = try samples(train), scored = try samples(test)
        let (nTrain, nTest) = (train.count * windows.count, test.count * windows.count)
        let probe = try RidgeProbe(features: fit.x, targets: fit.y, count: nTrain)
        return RidgeProbe.r2(predicted: probe.predict(scored.x, count: nTest), actual: scored.y, count: nTest)
    }
}

/// A quick linear probe of what a video JEPA's frozen target encoder knows about the true state:
/// clips of `model.config.frames` frames starting at `clipStart` in each episode, features = the
/// target-encoder tokens of the clip's last temporal position, average-pooled to a `poolGrid` ×
/// `poolGrid` grid and flattened (1 = the mean token); ridge-regressed onto the named state entries
/// of that frame. Fitted on `trainEpisodes`, scored (R²) on `testEpisodes`.
public func probeState(of model: VideoJEPA, datasetPath: String, names: [String], clipStart: Int = 8,
                       poolGrid: Int = 2, trainEpisodes: Range<Int>, testEpisodes: Range<Int>,
                       batch: Int = 32) throws -> [Double] {
    let source = try ProbeSource(path: datasetPath, names: names)
    let grid = model.contextEncoder.patchEmbed.grid
    let perFrame = grid[1] * grid[2], last = (grid[0] - 1) * perFrame
    guard poolGrid >= 1, grid[1] % poolGrid == 0, grid[2] % poolGrid == 0 else {
        throw ProbeError("the probe's pooling grid \(poolGrid) must divide the token grid \(grid[1])×\(grid[2])")
    }
    let (cellH, cellW) = (grid[1] / poolGrid, grid[2] / poolGrid)
    return try source.r2(train: trainEpisodes, test: testEpisodes, windows: [(clipStart, model.config.frames)],
                         batch: batch) { clips in
        let (n, t) = (clips.shape[0], clips.shape[1])
        let tokens = model.targetFeatures(clips.reshaped([n, 1, t, source.height, source.width]))
        let frame = tokens.slice(axis: 1, last..<(last + perFrame))                            // [S, h·w, D]
        return frame.reshaped([n, poolGrid, cellH, poolGrid, cellW, frame.shape[2]]).mean(axes: [2, 4]).reshaped([n, -1])
    }
}

/// The same quick probe for an action-conditioned model: features = the target encoder's latent
/// of single frames (`frameIndices` of every episode), all tokens flattened, so the probe can read
/// where things are; ridge-regressed onto the named state entries of those frames.
public func probeState(of model: ActionConditionedJEPA, datasetPath: String, names: [String],
                       frameIndices: [Int] = [3, 11, 19, 27], trainEpisodes: Range<Int>, testEpisodes: Range<Int>,
                       batch: Int = 32) throws -> [Double] {
    let source = try ProbeSource(path: datasetPath, names: names)
    return try source.r2(train: trainEpisodes, test: testEpisodes, windows: frameIndices.map { ($0, 1) },
                         batch: batch) { frames in
        let n = frames.shape[0]
        return model.encode(frames.reshaped([n, 1, 1, source.height, source.width])).reshaped([n, -1])
    }
}

/// Open-loop prediction on held-out clips: from the target latent of frame `clipStart` of each
/// episode and the recorded actions, roll the model out `horizon` frames and compare with the
/// target latents of the frames that followed. Returns, per step k = 1…horizon, the mean energy of
/// the model's prediction and of the "nothing changes" prediction (frame `clipStart`'s latent).
public func rolloutEnergies(of model: ActionConditionedJEPA, datasetPath: String, episodes: Range<Int>,
                            clipStart: Int = 8, horizon: Int = 4, batch: Int = 32) throws -> (model: [Double], copy: [Double]) {
    let file = try HDF5File(path: datasetPath, mode: .readOnly)
    let frameShape = try file.shape(of: "frames")
    guard frameShape.count == 4, try file.shape(of: "actions").last == model.config.actionDim else {
        throw ProbeError("\(datasetPath): needs one-channel frames [N, T, H, W] and \(model.config.actionDim) actions per frame")
    }
    let (count, length, h, w, a) = (frameShape[0], frameShape[1], frameShape[2], frameShape[3], model.config.actionDim)
    guard horizon >= 1, clipStart + horizon < length, episodes.upperBound <= count else {
        throw ProbeError("\(datasetPath): \(count) episodes of \(length) frames do not hold \(horizon) steps from frame \(clipStart)")
    }
    var modelSum = [Double](repeating: 0, count: horizon), copySum = modelSum
    for start in stride(from: episodes.lowerBound, to: episodes.upperBound, by: batch) {
        let rows = start..<min(start + batch, episodes.upperBound)
        let frames = try file.readUInt8("frames", rows: rows).values
        let actions = try file.readFloat32("actions", rows: rows).values
        var images: [Float] = [], taken: [Float] = []
        for e in 0..<rows.count {
            let base = (e * length + clipStart) * h * w
            images += frames[base..<(base + (horizon + 1) * h * w)].map { Float($0) / 255 }
            let first = (e * length + clipStart) * a
            taken += actions[first..<(first + horizon * a)]
        }
        let latents = model.encode(Tensor(images, shape: [rows.count, horizon + 1, 1, h, w]))
        let predicted = noGrad { model.rollout(latents: latents.slice(axis: 1, 0..<1),
                                               actions: Tensor(taken, shape: [rows.count, horizon, a])) }
        for k in 1...horizon {
            let target = latents.slice(axis: 1, k..<(k + 1))
            let d = model.config.distance
            modelSum[k - 1] += Double(energyPerClip(predicted: predicted.slice(axis: 1, (k - 1)..<k), target: target, distance: d).scalars.reduce(0, +))
            copySum[k - 1] += Double(energyPerClip(predicted: latents.slice(axis: 1, 0..<1), target: target, distance: d).scalars.reduce(0, +))
        }
    }
    let n = Double(episodes.count)
    return (modelSum.map { $0 / n }, copySum.map { $0 / n })
}
