import Foundation
import HDF5
import Tensors

/// A quick linear probe of what a video JEPA's frozen target encoder knows about the true state:
/// clips of `model.config.frames` frames starting at `clipStart` in each episode, features = the
/// target-encoder tokens of the clip's last temporal position, average-pooled to a `poolGrid` ×
/// `poolGrid` grid and flattened (1 = the mean token);
/// ridge-regressed onto the named state entries of that frame. Fitted on `trainEpisodes`, scored
/// (R²) on `testEpisodes`.
public func probeState(of model: VideoJEPA, datasetPath: String, names: [String], clipStart: Int = 8,
                       poolGrid: Int = 2, trainEpisodes: Range<Int>, testEpisodes: Range<Int>,
                       batch: Int = 32) throws -> [Double] {
    let file = try HDF5File(path: datasetPath, mode: .readOnly)
    let allNames = try JSONDecoder().decode([String].self, from: Data(file.stringAttribute("state_names").utf8))
    let columns = try names.map { name -> Int in
        guard let i = allNames.firstIndex(of: name) else { throw ProbeError("\(datasetPath): no state entry '\(name)'") }
        return i
    }
    let frameShape = try file.shape(of: "frames")
    guard frameShape.count == 4 else { throw ProbeError("\(datasetPath): frames must be [N, T, H, W] (one channel) for this probe") }
    let (episodes, length, h, w) = (frameShape[0], frameShape[1], frameShape[2], frameShape[3])
    let t = model.config.frames
    guard clipStart + t <= length, testEpisodes.upperBound <= episodes, trainEpisodes.upperBound <= episodes else {
        throw ProbeError("\(datasetPath): \(episodes) episodes of \(length) frames do not hold the requested clips")
    }
    let grid = model.contextEncoder.patchEmbed.grid
    let perFrame = grid[1] * grid[2], last = (grid[0] - 1) * perFrame
    guard poolGrid >= 1, grid[1] % poolGrid == 0, grid[2] % poolGrid == 0 else {
        throw ProbeError("the probe's pooling grid \(poolGrid) must divide the token grid \(grid[1])×\(grid[2])")
    }
    let (cellH, cellW) = (grid[1] / poolGrid, grid[2] / poolGrid)
    let stateCount = allNames.count

    func features(_ range: Range<Int>) throws -> (x: [Double], y: [Double]) {
        var x: [Double] = [], y: [Double] = []
        for start in stride(from: range.lowerBound, to: range.upperBound, by: batch) {
            let rows = start..<min(start + batch, range.upperBound)
            let frames = try file.readUInt8("frames", rows: rows).values
            let states = try file.readFloat32("states", rows: rows).values
            var clip: [Float] = []
            for e in 0..<rows.count {
                let base = (e * length + clipStart) * h * w
                clip += frames[base..<(base + t * h * w)].map { Float($0) / 255 }
                let s = (e * length + clipStart + t - 1) * stateCount
                y += columns.map { Double(states[s + $0]) }
            }
            let clips = Tensor(clip, shape: [rows.count, 1, t, h, w])
            let frame = model.targetFeatures(clips).slice(axis: 1, last..<(last + perFrame))      // [B, h·w, D]
            let d = frame.shape[2]
            let pooled = frame.reshaped([rows.count, poolGrid, cellH, poolGrid, cellW, d]).mean(axes: [2, 4])
            x += pooled.scalars.map(Double.init)
        }
        return (x, y)
    }
    let train = try features(trainEpisodes), test = try features(testEpisodes)
    let probe = try RidgeProbe(features: train.x, targets: train.y, count: trainEpisodes.count)
    return RidgeProbe.r2(predicted: probe.predict(test.x, count: testEpisodes.count), actual: test.y, count: testEpisodes.count)
}

/// The same quick probe for an action-conditioned model: features = the target encoder's latent
/// of single frames (`frameIndices` of every episode), all tokens flattened, so the probe can read
/// where things are; ridge-regressed onto the named state entries of those frames.
public func probeState(of model: ActionConditionedJEPA, datasetPath: String, names: [String],
                       frameIndices: [Int] = [3, 11, 19, 27], trainEpisodes: Range<Int>, testEpisodes: Range<Int>,
                       batch: Int = 32) throws -> [Double] {
    let file = try HDF5File(path: datasetPath, mode: .readOnly)
    let allNames = try JSONDecoder().decode([String].self, from: Data(file.stringAttribute("state_names").utf8))
    let columns = try names.map { name -> Int in
        guard let i = allNames.firstIndex(of: name) else { throw ProbeError("\(datasetPath): no state entry '\(name)'") }
        return i
    }
    let frameShape = try file.shape(of: "frames")
    guard frameShape.count == 4 else { throw ProbeError("\(datasetPath): frames must be [N, T, H, W] (one channel) for this probe") }
    let (episodes, length, h, w) = (frameShape[0], frameShape[1], frameShape[2], frameShape[3])
    guard frameIndices.allSatisfy({ $0 < length }), testEpisodes.upperBound <= episodes, trainEpisodes.upperBound <= episodes else {
        throw ProbeError("\(datasetPath): \(episodes) episodes of \(length) frames do not hold the requested frames")
    }
    let stateCount = allNames.count

    func features(_ range: Range<Int>) throws -> (x: [Double], y: [Double]) {
        var x: [Double] = [], y: [Double] = []
        for start in stride(from: range.lowerBound, to: range.upperBound, by: batch) {
            let rows = start..<min(start + batch, range.upperBound)
            let frames = try file.readUInt8("frames", rows: rows).values
            let states = try file.readFloat32("states", rows: rows).values
            var images: [Float] = []
            for e in 0..<rows.count {
                for f in frameIndices {
                    let base = (e * length + f) * h * w
                    images += frames[base..<(base + h * w)].map { Float($0) / 255 }
                    y += columns.map { Double(states[(e * length + f) * stateCount + $0]) }
                }
            }
            let latents = model.encode(Tensor(images, shape: [rows.count * frameIndices.count, 1, 1, h, w]))
            x += latents.scalars.map(Double.init)
        }
        return (x, y)
    }
    let train = try features(trainEpisodes), test = try features(testEpisodes)
    let (nTrain, nTest) = (trainEpisodes.count * frameIndices.count, testEpisodes.count * frameIndices.count)
    let probe = try RidgeProbe(features: train.x, targets: train.y, count: nTrain)
    return RidgeProbe.r2(predicted: probe.predict(test.x, count: nTest), actual: test.y, count: nTest)
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
