import Foundation
import JEPA
import Tensors

/// What a video JEPA's state knows about motion under V-JEPA's protocol, measured on held-out
/// one-ball episodes without any violation pair: at frame t its state is what the predictor reads
/// when it predicts what comes after t — the context encoder's tokens of the `contextFrames` frames
/// ending at t, each temporal position's tokens average-pooled to a 2 × 2 grid (where things are,
/// coarsely, and everything the features carry). Ridge-probed onto x, y, vx, vy of frame t; the
/// penalty is chosen on the last fifth of the training episodes (`RidgeProbe.validated`).
public struct VideoStateEvaluation: Codable, Sendable {
    public var contextFrames: Int
    public var trainEpisodes: Int, testEpisodes: Int
    public var stateNames: [String]
    public var stateR2: [Double]
    /// The same probe on an untrained model of the same architecture (what the features give by
    /// construction: a random ViT over several frames carries some motion too).
    public var randomEncoderR2: [Double]?
    public var stateLambda: Double
    public var stateFrames: [Int]
}

/// Measures `VideoStateEvaluation` on the one-ball episodes of `datasetPath` (states `ball0.x`,
/// `ball0.y`, `ball0.vx`, `ball0.vy`): frames t = `firstFrame`… (every frame whose context fits),
/// probes fitted on `train`, scored on `test`.
public func evaluateVideoState(of model: VideoJEPA, contextFrames: Int, datasetPath: String, train: Range<Int>, test: Range<Int>,
                               firstFrame: Int = 11, poolGrid: Int = 2, batch: Int = 32) throws -> VideoStateEvaluation {
    let c = model.config
    let grid = model.contextEncoder.patchEmbed.grid
    guard contextFrames >= c.tubelet, contextFrames < c.frames, contextFrames % c.tubelet == 0 else {
        throw EvaluationError("state probe: context frames must be a multiple of the tubelet (\(c.tubelet)) below the window of \(c.frames) frames, got \(contextFrames)")
    }
    guard poolGrid >= 1, grid[1] % poolGrid == 0, grid[2] % poolGrid == 0 else {
        throw EvaluationError("state probe: the pooling grid \(poolGrid) must divide the token grid \(grid[1])×\(grid[2])")
    }
    let names = ["x", "y", "vx", "vy"]
    let source = try ProbeSource(path: datasetPath, names: names.map { "ball0." + $0 })
    let first = max(firstFrame, contextFrames - 1)
    guard first < source.length, train.count >= 2, !test.isEmpty else {
        throw EvaluationError("\(datasetPath): \(source.episodes) episodes of \(source.length) frames hold no frame from \(first) on, "
                              + "or too few episodes for the state probe")
    }
    let frames = Array(first..<source.length)
    let spatial = grid[1] * grid[2], positions = contextFrames / c.tubelet
    let contextIndices = Array(0..<(positions * spatial))
    let (cellH, cellW) = (grid[1] / poolGrid, grid[2] / poolGrid)
    // The context window ending at t, padded to the model's clip length: only its context tokens are read.
    func features(_ clips: Tensor) -> Tensor {
        let n = clips.shape[0]
        let padded = concat([clips, Tensor.zeros([n, c.frames - contextFrames, source.height, source.width])], axis: 1)
            .reshaped([n, 1, c.frames, source.height, source.width])
        let tokens = noGrad {
            DataParallel.map(batch: n) { rows in
                model.contextEncoder(padded.slice(axis: 0, rows), tokenIndices: Array(repeating: contextIndices, count: rows.count))
            }
        }
        let d = tokens.shape[2]
        return tokens.reshaped([n, positions, poolGrid, cellH, poolGrid, cellW, d]).mean(axes: [3, 5]).reshaped([n, -1])
    }
    let windows = frames.map { (start: $0 - contextFrames + 1, count: contextFrames) }
    let fitEpisodes = train.count - max(train.count / 5, 1)
    let result = try source.fitValidated(train: train, test: test, fitEpisodes: fitEpisodes, windows: windows, batch: batch,
                                         features: features)
    return VideoStateEvaluation(contextFrames: contextFrames, trainEpisodes: train.count, testEpisodes: test.count,
                                stateNames: names, stateR2: result.probe.r2, stateLambda: result.lambda, stateFrames: frames)
}
