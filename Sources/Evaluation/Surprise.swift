import JEPA
import Tensors

/// Energy-based surprise of clips: a window slides over each clip; in each window the model
/// predicts the target encoder's representation of frames it has not seen from frames it has, and
/// the window's surprise is the energy (the model's distance) between prediction and target.
public protocol SurpriseScorer {
    /// Frames of context before the first predicted frame.
    var contextFrames: Int { get }
    var stride: Int { get }
    /// Steps ahead of its context each scored frame is predicted (1 = the next frame).
    var horizon: Int { get }
    /// The frame each window's surprise is attributed to (its first predicted frame), for clips
    /// of `length` frames; empty when a clip is too short for one window.
    func scoredFrames(length: Int) -> [Int]
    /// Per-window surprise [B, W] of `clips` [B, T, C, H, W] with values in [0, 1].
    func surprise(_ clips: Tensor) throws -> Tensor
}

/// Frames a next-frame model's default scoring context starts from: enough to read a velocity and
/// its change, few enough that events early in a clip are scored.
public let defaultMinimumContext = 4

/// Steps ahead a next-frame model's surprise is predicted by default, open loop: far enough that a
/// change of motion (a ball that stops, turns back or passes through another) has moved the frame
/// away from the prediction made before it (EXPERIMENTS.md §10: chosen on validation pairs).
public let defaultSurpriseHorizon = 6

/// Shrinkage of the calibrated energy's covariance towards a multiple of the identity, by default.
/// Ledoit–Wolf's estimate (δ ≈ 0.002 on 11,200 errors of 128 dimensions) suits the covariance, but
/// whitening by it scales down the directions that carry the balls' motion (their errors are large
/// on every ordinary frame six steps ahead), so a ball that stops or turns back weighs little; a
/// fixed δ keeps part of the model's own L2 weighting (EXPERIMENTS.md §13: chosen on validation pairs).
public let defaultCalibrationShrinkage = CovarianceShrinkage.fixed(0.1)

/// The surprise scorer of a trained world model: `MaskedSurpriseScorer` for a video JEPA,
/// `NextFrameSurpriseScorer` for a next-frame model. `contextFrames` nil = the default of each: half
/// the clip for a video JEPA; for a next-frame model a context growing from
/// `defaultMinimumContext` frames to the predictor's window (every frame from there on is scored,
/// each from all the history the predictor reads). `horizon` nil = 1 for a video JEPA (it predicts
/// every frame after its context at once), `defaultSurpriseHorizon` for a next-frame model.
public func makeSurpriseScorer(for model: any WorldModel, contextFrames: Int?, stride: Int = 1,
                               horizon: Int? = nil) throws -> any SurpriseScorer {
    switch model {
    case let video as VideoJEPA:
        if let horizon, horizon != 1 {
            throw EvaluationError("a surprise horizon of \(horizon) needs a next-frame model; a video JEPA predicts every frame after its context at once")
        }
        let c = video.config
        return try MaskedSurpriseScorer(model: video, contextFrames: contextFrames ?? max(c.tubelet, c.frames / 2 / c.tubelet * c.tubelet),
                                        stride: stride)
    case let frameModel as ActionConditionedJEPA:
        let window = frameModel.predictor.window
        return try NextFrameSurpriseScorer(model: frameModel, contextFrames: contextFrames ?? window, stride: stride,
                                           horizon: horizon ?? defaultSurpriseHorizon,
                                           minimumContext: contextFrames == nil ? min(defaultMinimumContext, window) : nil)
    default:
        throw EvaluationError("surprise scoring needs a video JEPA or a next-frame model")
    }
}

/// Surprise under a video JEPA, as the intuitive-physics evaluation of V-JEPA measures it: a
/// window of `model.config.frames` frames slides over each clip by `stride`; in each window the
/// first `contextFrames` frames are context and the predictor predicts the target encoder's
/// features of the rest (a future-frame mask), averaged over the predicted tokens.
///
/// With `calibration` set, a window's energy is the calibrated (whitened) energy of its prediction
/// error pooled over space: the mean error over each predicted frame's tokens, one vector per
/// predicted temporal position, concatenated (a Gaussian over every token's error would need a
/// covariance of (tokens × width)², and its calibration as many windows).
public struct MaskedSurpriseScorer: SurpriseScorer {
    public let model: VideoJEPA
    /// Frames given as context in each window (a multiple of the tubelet, fewer than the window).
    public let contextFrames: Int
    public let stride: Int
    public var horizon: Int { 1 }
    public var calibration: CalibratedEnergy?

    public init(model: VideoJEPA, contextFrames: Int, stride: Int = 1) throws {
        let c = model.config
        guard contextFrames >= c.tubelet, contextFrames < c.frames, contextFrames % c.tubelet == 0 else {
            throw EvaluationError("context frames must be a multiple of the tubelet (\(c.tubelet)) below the window of \(c.frames) frames, got \(contextFrames)")
        }
        guard stride >= 1 else { throw EvaluationError("the stride must be at least 1, got \(stride)") }
        (self.model, self.contextFrames, self.stride) = (model, contextFrames, stride)
    }

    /// Window starts for clips of `length` frames (empty when a clip is shorter than a window).
    public func windowStarts(length: Int) -> [Int] {
        Array(Swift.stride(from: 0, through: length - model.config.frames, by: stride))
    }

    /// The frame each window's surprise is attributed to: its first predicted frame.
    public func scoredFrames(length: Int) -> [Int] { windowStarts(length: length).map { $0 + contextFrames } }

    /// Per-window surprise [B, W] of `clips` [B, T, C, H, W] with values in [0, 1].
    public func surprise(_ clips: Tensor) throws -> Tensor {
        let b = clips.shape[0]
        return try noGrad {
            try windows(clips) { predicted, target in
                guard let calibration else { return energyPerClip(predicted: predicted, target: target, distance: model.config.distance) }
                return calibration.energy(residuals: pooledResiduals(predicted: predicted, target: target))
            }
            .reshaped([b, -1])
        }
    }

    /// The spatially pooled prediction error of every window, [B · W, P · D] clip-major (P predicted
    /// temporal positions, D the feature width): what `calibration` is a Gaussian of.
    public func residuals(_ clips: Tensor) throws -> Tensor {
        try noGrad { try windows(clips) { pooledResiduals(predicted: $0, target: $1) } }
    }

    /// `score(predicted, target)` ([B, N, D] each → [B, …]) of every window, rows clip-major.
    private func windows(_ clips: Tensor, _ score: (Tensor, Tensor) -> Tensor) throws -> Tensor {
        let c = model.config
        try checkClips(clips, channels: c.channels, size: c.imageSize)
        let (b, t) = (clips.shape[0], clips.shape[1])
        let starts = windowStarts(length: t)
        guard !starts.isEmpty else {
            throw EvaluationError("clips of \(t) frames are shorter than the model's window of \(c.frames) frames")
        }
        let g = model.contextEncoder.patchEmbed.grid
        let grid = TokenGrid(frames: g[0], height: g[1], width: g[2])
        var unused = RandomGenerator(seed: 0)
        let mask = FutureFrameMask(contextFrames: contextFrames / c.tubelet).masks(batch: b, grid: grid, rng: &unused)
        // Clips are independent: their shards run on the worker threads.
        return DataParallel.map(batch: b) { rows in
            let (contextIndices, targetIndices) = (Array(mask.context[rows]), Array(mask.target[rows]))
            let scores = starts.map { s -> Tensor in
                let window = clips.slice(axis: 0, rows).slice(axis: 1, s..<(s + c.frames)).permuted([0, 2, 1, 3, 4])   // [B, C, F, H, W]
                let target = model.targetFeatures(window).gather(batchIndices: targetIndices)
                let context = model.contextEncoder(window, tokenIndices: contextIndices)
                let predicted = model.predictor(context, contextIndices: contextIndices, targetIndices: targetIndices)
                return score(predicted, target)
            }
            let perWindow = stack(scores, axis: 1)                                            // [B, W, …]
            return perWindow.reshaped([rows.count * starts.count] + Array(perWindow.shape.dropFirst(2)))
        }
    }

    /// [B, N, D] prediction and target of a future-frame mask (tokens time-major) → the error
    /// averaged over each predicted frame's spatial tokens, [B, P · D].
    private func pooledResiduals(predicted: Tensor, target: Tensor) -> Tensor {
        let g = model.contextEncoder.patchEmbed.grid
        let (b, n, d) = (predicted.shape[0], predicted.shape[1], predicted.shape[2])
        let spatial = g[1] * g[2]
        return (predicted - target).reshaped([b, n / spatial, spatial, d]).mean(axes: [2]).reshaped([b, n / spatial * d])
    }

    /// This scorer with its energy calibrated (`CalibratedEnergy`) on the pooled prediction errors
    /// of every window of the first `clips` clips of `path` — ordinary physics, e.g. the training data.
    public func calibrated(on path: String, clips count: Int = 400, batch: Int = 16, shrinkage: CovarianceShrinkage = defaultCalibrationShrinkage,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> MaskedSurpriseScorer {
        let c = model.config
        let file = try calibrationClips(path, count: count, batch: batch, channels: c.channels, size: c.imageSize)
        guard file.length >= c.frames else {
            throw EvaluationError("\(path): calibration clips of \(file.length) frames are shorter than the model's window of \(c.frames) frames")
        }
        var parts: [Tensor] = []
        try forEachBatch(of: file, count: count, batch: batch, progress: progress) { parts.append(try residuals($0)) }
        var scorer = self
        scorer.calibration = try CalibratedEnergy(residuals: concat(parts, axis: 0), shrinkage: shrinkage)
        return scorer
    }
}

/// Surprise under a next-frame model (`kind: next_frame`): every frame is encoded once by the
/// target encoder; frame t's surprise is the energy between its latent and the predictor's
/// open-loop prediction of it from the latents of the `contextFrames` frames ending at t − `horizon`
/// (horizon 1: the next-frame prediction from the frames just before t). A longer horizon lets the
/// error of a prediction made before an event accumulate over the frames after it, as V-JEPA's
/// intuitive-physics protocol predicts several frames from one context. Scored frames run from
/// `contextFrames + horizon − 1` to the end of the clip in steps of `stride`; all windows of a
/// batch go through the predictor together.
///
/// With `minimumContext` m, the context grows instead: every frame from m on is scored, each
/// predicted `horizon` steps ahead from all the frames before that (up to `contextFrames`) — or,
/// for the frames m…m + horizon − 2 that come sooner, from the first m frames, fewer steps ahead —
/// so an early event is scored and a late one is predicted from the whole history the predictor
/// can read.
public struct NextFrameSurpriseScorer: SurpriseScorer {
    public let model: ActionConditionedJEPA
    public let contextFrames: Int
    public let stride: Int
    public let horizon: Int
    /// Fewest context frames of a growing context (nil: every frame has `contextFrames`).
    public let minimumContext: Int?
    /// When set, a frame's energy is the calibrated (whitened) energy of its prediction error
    /// instead of the model's distance: one fit per number of steps ahead (errors grow with it).
    public var calibration: [Int: CalibratedEnergy]?

    public init(model: ActionConditionedJEPA, contextFrames: Int, stride: Int = 1, horizon: Int = 1, minimumContext: Int? = nil) throws {
        guard model.config.actionDim == 0 else {
            throw EvaluationError("surprise of plain clips needs a model without actions (kind: next_frame); this one takes \(model.config.actionDim) actions per frame")
        }
        guard (1...model.predictor.window).contains(contextFrames) else {
            throw EvaluationError("context frames must lie in 1…\(model.predictor.window) (the predictor's window), got \(contextFrames)")
        }
        guard stride >= 1 else { throw EvaluationError("the stride must be at least 1, got \(stride)") }
        guard horizon >= 1 else { throw EvaluationError("the surprise horizon must be at least 1, got \(horizon)") }
        if let m = minimumContext, !(1...contextFrames).contains(m) {
            throw EvaluationError("the minimum context must lie in 1…\(contextFrames) (the most context frames), got \(m)")
        }
        (self.model, self.contextFrames, self.stride, self.horizon) = (model, contextFrames, stride, horizon)
        self.minimumContext = minimumContext
    }

    /// Steps ahead frame t is predicted: `horizon`, fewer for the early frames of a growing context.
    public func horizon(scoring t: Int) -> Int { minimumContext.map { min(horizon, t - $0 + 1) } ?? horizon }

    /// Context frames of the window that scores frame t.
    func context(scoring t: Int) -> Int { minimumContext == nil ? contextFrames : min(contextFrames, t - horizon(scoring: t) + 1) }

    public func scoredFrames(length: Int) -> [Int] {
        let first = minimumContext ?? (contextFrames + horizon - 1)
        return length > first ? Array(Swift.stride(from: first, to: length, by: stride)) : []
    }

    public func surprise(_ clips: Tensor) throws -> Tensor {
        let b = clips.shape[0]
        let groups = try residualsByHorizon(clips)
        let energies = try noGrad {
            try groups.map { group -> Tensor in
                guard let calibration else {
                    return energyPerClip(predicted: group.predicted, target: group.target, distance: model.config.distance)
                }
                guard let fit = calibration[group.horizon] else {
                    throw EvaluationError("the calibrated energy has no fit for predictions \(group.horizon) step\(group.horizon == 1 ? "" : "s") ahead (it has \(calibration.keys.sorted()))")
                }
                return fit.energy(residuals: group.residuals)
            }
        }
        let all = concat(energies, axis: 0)
        return all.reshaped([all.shape[0] / b, b]).permuted([1, 0])
    }

    /// The prediction errors (predicted − target latent) of every scored frame, flattened to
    /// [W · B, D] window-major (D = latent tokens × latent width), grouped by the steps ahead they
    /// were predicted (consecutive windows; in order).
    public func residualsByHorizon(_ clips: Tensor) throws -> [(horizon: Int, residuals: Tensor, predicted: Tensor, target: Tensor)] {
        let (predicted, target) = try predictionsAndTargets(clips)
        let b = clips.shape[0]
        let horizons = scoredFrames(length: clips.shape[1]).map(horizon(scoring:))
        var groups: [(horizon: Int, residuals: Tensor, predicted: Tensor, target: Tensor)] = []
        var first = 0
        while first < horizons.count {
            var end = first
            while end < horizons.count && horizons[end] == horizons[first] { end += 1 }
            let rows = (first * b)..<(end * b)
            let (p, t) = (predicted.slice(axis: 0, rows), target.slice(axis: 0, rows))
            groups.append((horizons[first], noGrad { (p - t).reshaped([rows.count, -1]) }, p, t))
            first = end
        }
        return groups
    }

    /// The prediction and the target latent of every scored frame, [W · B, 1, N, D] each, windows
    /// stacked along the batch axis, window-major.
    func predictionsAndTargets(_ clips: Tensor) throws -> (Tensor, Tensor) {
        let c = model.config
        try checkClips(clips, channels: c.channels, size: c.imageSize)
        let t = clips.shape[1]
        let scored = scoredFrames(length: t)
        guard !scored.isEmpty else {
            throw EvaluationError("clips of \(t) frames leave nothing to predict \(horizon) step\(horizon == 1 ? "" : "s") after \(minimumContext ?? contextFrames) context frames")
        }
        // Clips, then windows, are independent: their shards run on the worker threads. Windows
        // with the same context length and horizon go through the predictor together.
        return noGrad {
            let b = clips.shape[0]
            let latents = DataParallel.map(batch: b) { model.encode(clips.slice(axis: 0, $0)) }   // [B, T, N, D]
            var predictions = [Tensor?](repeating: nil, count: scored.count)
            struct Shape: Hashable, Comparable {
                let context: Int, horizon: Int
                static func < (a: Shape, b: Shape) -> Bool { (a.context, a.horizon) < (b.context, b.horizon) }
            }
            let shapes = scored.map { Shape(context: context(scoring: $0), horizon: horizon(scoring: $0)) }
            for shape in Set(shapes).sorted() {
                let windows = scored.indices.filter { shapes[$0] == shape }
                let (length, steps) = (shape.context, shape.horizon)
                let known = concat(windows.map { latents.slice(axis: 1, (scored[$0] - steps + 1 - length)..<(scored[$0] - steps + 1)) }, axis: 0)
                let predicted = DataParallel.map(batch: known.shape[0]) { rows in
                    model.rollout(latents: known.slice(axis: 0, rows), actions: Tensor.zeros([rows.count, length - 1 + steps, 0]))
                }.slice(axis: 1, (steps - 1)..<steps)
                for (i, w) in windows.enumerated() { predictions[w] = predicted.slice(axis: 0, (i * b)..<((i + 1) * b)) }
            }
            let target = concat(scored.map { latents.slice(axis: 1, $0..<($0 + 1)) }, axis: 0)
            return (concat(predictions.map { $0! }, axis: 0), target)
        }
    }

    /// The numbers of steps ahead frames are predicted at, for clips long enough to reach `horizon`.
    public var horizons: [Int] { minimumContext == nil ? [horizon] : Array(1...horizon) }

    /// This scorer with its energy calibrated (`CalibratedEnergy`, one fit per number of steps
    /// ahead) on the prediction errors of the first `clips` clips of `path` — ordinary physics,
    /// e.g. the training data.
    public func calibrated(on path: String, clips count: Int = 400, batch: Int = 16, shrinkage: CovarianceShrinkage = defaultCalibrationShrinkage,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> NextFrameSurpriseScorer {
        let c = model.config
        let file = try calibrationClips(path, count: count, batch: batch, channels: c.channels, size: c.imageSize)
        guard Set(scoredFrames(length: file.length).map(horizon(scoring:))) == Set(horizons) else {
            throw EvaluationError("\(path): calibration clips of \(file.length) frames are too short for \(minimumContext ?? contextFrames) context frames and a horizon of \(horizon)")
        }
        var parts: [Int: [Tensor]] = [:]
        try forEachBatch(of: file, count: count, batch: batch, progress: progress) { clips in
            for group in try residualsByHorizon(clips) { parts[group.horizon, default: []].append(group.residuals) }
        }
        var scorer = self
        scorer.calibration = try parts.mapValues { try CalibratedEnergy(residuals: concat($0, axis: 0), shrinkage: shrinkage) }
        return scorer
    }
}

/// The clip file a calibration is fitted on, checked against the model's frames.
func calibrationClips(_ path: String, count: Int, batch: Int, channels: Int, size: Int) throws -> ClipFile {
    guard count >= 1, batch >= 1 else { throw EvaluationError("calibration needs at least one clip and a batch of at least one") }
    let file = try ClipFile(path: path)
    guard [file.channels, file.height, file.width] == [channels, size, size] else {
        throw EvaluationError("\(path): calibration frames are \(file.channels)×\(file.height)×\(file.width) (C×H×W); the model takes \(channels)×\(size)×\(size)")
    }
    return file
}

/// `body` of the first `count` clips of `file`, `batch` at a time, reporting progress (done, total).
func forEachBatch(of file: ClipFile, count: Int, batch: Int, progress: (Int, Int) -> Void, _ body: (Tensor) throws -> Void) throws {
    let rows = min(count, file.count)
    for first in Swift.stride(from: 0, to: rows, by: batch) {
        let range = first..<min(first + batch, rows)
        try body(file.read(range))
        progress(range.upperBound, rows)
    }
}

/// Throws unless `clips` is [B, T, channels, size, size].
func checkClips(_ clips: Tensor, channels: Int, size: Int) throws {
    guard clips.rank == 5, Array(clips.shape[2...]) == [channels, size, size] else {
        throw EvaluationError("clips must be [B, T, \(channels), \(size), \(size)], got \(clips.shape)")
    }
}
