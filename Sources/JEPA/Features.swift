import Tensors

/// Which encoder `encoderFeatures` reads.
public enum EncoderChoice: String, Sendable, CaseIterable {
    /// The EMA target encoder: the representation probes and other tools usually take.
    case target
    case context
}

/// Frozen encoder features of clips [B, T, C, H, W], [B, tokens, D], no graph: the encoder's own
/// output (after its final norm, before any loss normalisation).
/// - Video JEPA: each complete window of `model.frames` frames (0..<F, F..<2F, …) gives its
///   tubelet tokens; windows follow one another along the token axis. Clips shorter than one
///   window are an error.
/// - Action-conditioned and next-frame models: every frame's tokens (one per frame for a pooled
///   latent), frame after frame.
public func encoderFeatures(_ model: any WorldModel, clips: Tensor, which: EncoderChoice) throws -> Tensor {
    precondition(clips.rank == 5, "encoderFeatures: clips must be [B, T, C, H, W], got \(clips.shape)")
    return try noGrad {
        switch model {
        case let video as VideoJEPA:
            let window = video.config.frames, t = clips.shape[1]
            guard t >= window else {
                throw FeatureError("clips have \(t) frames; the video model encodes windows of \(window)")
            }
            let encoder = which == .target ? video.targetEncoder : video.contextEncoder
            // Clips are independent: their shards run on the worker threads.
            return DataParallel.map(batch: clips.shape[0]) { rows in
                let windows = (0..<(t / window)).map { w in
                    encoder(clips.slice(axis: 0, rows).slice(axis: 1, (w * window)..<((w + 1) * window)).permuted([0, 2, 1, 3, 4]))
                }
                return windows.count == 1 ? windows[0] : concat(windows, axis: 1)
            }
        case let action as ActionConditionedJEPA:
            let encoder = which == .target ? action.targetEncoder : action.contextEncoder
            let latents = DataParallel.map(batch: clips.shape[0]) { action.rawLatents(clips.slice(axis: 0, $0), encoder: encoder) }
            return latents.reshaped([latents.shape[0], latents.shape[1] * latents.shape[2], latents.shape[3]])
        default:
            throw FeatureError("no encoder features for \(type(of: model))")
        }
    }
}

public struct FeatureError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
