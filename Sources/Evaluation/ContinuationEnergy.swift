import HDF5
import JEPA
import Tensors

/// Mean energy of the next `horizon` frames predicted open loop from `contextFrames` known
/// frames: with z = 0, and minimised over the latent variable (nil for a model without one).
public struct ContinuationEnergy: Codable, Sendable, Equatable {
    public var contextFrames: Int
    public var atZero: Double
    public var minOverZ: Double?
}

/// Continuation energies of a passive next-frame model on episodes `episodes` of a dataset, for
/// each context length in `contexts`, the predicted frames being `clipStart + 1 … clipStart +
/// horizon` in every case (so only what the model knows of the past changes). From one frame the
/// motion is ambiguous; from several it is not. The latent variable is chosen per clip as in
/// training: the best of the model's `latent_samples` candidates (`seed`), scored without the penalty.
public func continuationEnergies(of model: ActionConditionedJEPA, datasetPath: String, episodes: Range<Int>,
                                 contexts: [Int], clipStart: Int = 8, horizon: Int = 3, batch: Int = 32,
                                 seed: UInt64 = 0) throws -> [ContinuationEnergy] {
    guard model.config.actionDim == 0 else { throw EvaluationError("continuation energies need a model without actions (kind: next_frame)") }
    let file = try HDF5File(path: datasetPath, mode: .readOnly)
    let shape = try file.shape(of: "frames")
    guard shape.count == 4 else { throw EvaluationError("\(datasetPath): needs one-channel frames [N, T, H, W], got \(shape)") }
    let (count, length, h, w) = (shape[0], shape[1], shape[2], shape[3])
    let longest = contexts.max() ?? 0
    guard contexts.allSatisfy({ (1...model.predictor.window).contains($0) }), horizon >= 1, batch >= 1,
          clipStart + 1 >= longest, clipStart + horizon < length, episodes.upperBound <= count, !episodes.isEmpty else {
        throw EvaluationError("\(datasetPath): \(count) episodes of \(length) frames do not hold contexts \(contexts) (window \(model.predictor.window)) up to frame \(clipStart) and \(horizon) steps after it")
    }
    let first = clipStart - longest + 1, span = longest + horizon
    var sums = [(zero: Double, best: Double)](repeating: (0, 0), count: contexts.count)
    for start in stride(from: episodes.lowerBound, to: episodes.upperBound, by: batch) {
        let rows = start..<min(start + batch, episodes.upperBound)
        let frames = try file.readUInt8("frames", rows: rows).values
        var images: [Float] = []
        for e in 0..<rows.count {
            let base = (e * length + first) * h * w
            images += frames[base..<(base + span * h * w)].map { Float($0) / 255 }
        }
        let clips = Tensor(images, shape: [rows.count, span, 1, h, w])
        let latents = DataParallel.map(batch: rows.count) { model.encode(clips.slice(axis: 0, $0)) }
        for (i, c) in contexts.enumerated() {
            let clip = latents.slice(axis: 1, (longest - c)..<span)
            let actions = Tensor.zeros([rows.count, c - 1 + horizon, 0])
            let zero = model.continuationEnergy(latents: clip, actions: actions, contextFrames: c, horizon: horizon)
            sums[i].zero += Double(zero.energy.scalars.reduce(0, +))
            if model.config.zDim > 0 {
                let best = model.continuationEnergy(latents: clip, actions: actions, contextFrames: c, horizon: horizon,
                                                    inference: .sampled(count: model.config.zSamples, seed: seed &+ UInt64(start)))
                sums[i].best += Double(best.energy.scalars.reduce(0, +))
            }
        }
    }
    let n = Double(episodes.count)
    return contexts.indices.map { i in
        ContinuationEnergy(contextFrames: contexts[i], atZero: sums[i].zero / n, minOverZ: model.config.zDim > 0 ? sums[i].best / n : nil)
    }
}
