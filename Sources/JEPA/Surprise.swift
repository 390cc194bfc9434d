import Tensors

/// Energy-based surprise of video clips under a video JEPA, as the intuitive-physics evaluation
/// measures it: a window of `model.config.frames` frames slides over each clip by `stride`; in each
/// window the first `contextFrames` frames are context and the predictor predicts the target
/// encoder's features of the rest; the window's surprise is the energy (the model's distance)
/// between prediction and target, averaged over the predicted tokens.
public struct SurpriseScorer {
    public let model: VideoJEPA
    /// Frames given as context in each window (a multiple of the tubelet, fewer than the window).
    public let contextFrames: Int
    public let stride: Int

    public init(model: VideoJEPA, contextFrames: Int, stride: Int = 1) throws {
        let c = model.config
        guard contextFrames >= c.tubelet, contextFrames < c.frames, contextFrames % c.tubelet == 0 else {
            throw ProbeError("context frames must be a multiple of the tubelet (\(c.tubelet)) below the window of \(c.frames) frames, got \(contextFrames)")
        }
        guard stride >= 1 else { throw ProbeError("the stride must be at least 1, got \(stride)") }
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
        let (b, t) = (clips.shape[0], clips.shape[1])
        let c = model.config
        guard clips.rank == 5, Array(clips.shape[2...]) == [c.channels, c.imageSize, c.imageSize] else {
            throw ProbeError("clips must be [B, T, \(c.channels), \(c.imageSize), \(c.imageSize)], got \(clips.shape)")
        }
        let starts = windowStarts(length: t)
        guard !starts.isEmpty else {
            throw ProbeError("clips of \(t) frames are shorter than the model's window of \(c.frames) frames")
        }
        let g = model.contextEncoder.patchEmbed.grid
        let grid = TokenGrid(frames: g[0], height: g[1], width: g[2])
        var unused = RandomGenerator(seed: 0)
        let mask = FutureFrameMask(contextFrames: contextFrames / c.tubelet).masks(batch: b, grid: grid, rng: &unused)
        return noGrad {
            let scores = starts.map { s -> Tensor in
                let window = clips.slice(axis: 1, s..<(s + c.frames)).permuted([0, 2, 1, 3, 4])      // [B, C, F, H, W]
                let target = model.targetFeatures(window).gather(batchIndices: mask.target)
                let context = model.contextEncoder(window, tokenIndices: mask.context)
                let predicted = model.predictor(context, contextIndices: mask.context, targetIndices: mask.target)
                return energyPerClip(predicted: predicted, target: target, distance: c.distance)        // [B]
            }
            return stack(scores, axis: 1)
        }
    }
}
