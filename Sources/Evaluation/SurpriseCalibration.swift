// The calibrated energy a next-frame model is scored with by default: fitted when training ends,
// on ordinary clips, and stored in the final checkpoint together with the scoring settings it was
// fitted for — a fit describes the errors of one context and horizon, and applies to no other.
import Checkpoints
import Foundation
import JEPA
import Tensors

public struct SurpriseCalibration {
    public var energy: CalibratedEnergy
    /// The scorer settings whose prediction errors were fitted.
    public var contextFrames: Int
    public var minimumContext: Int?
    public var horizon: Int
    /// Clips fitted and the file they came from.
    public var clips: Int
    public var source: String

    /// Fits the Gaussian of `model`'s prediction errors under its default scoring (growing context,
    /// one step ahead; `makeSurpriseScorer`) on the first `count` clips of `path`.
    public static func fit(model: ActionConditionedJEPA, clips path: String, count: Int = 400, batch: Int = 16,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> SurpriseCalibration {
        guard let scorer = try makeSurpriseScorer(for: model, contextFrames: nil) as? NextFrameSurpriseScorer else {
            throw EvaluationError("only next-frame models have a calibrated surprise")
        }
        let fitted = try scorer.calibrated(on: path, clips: count, batch: batch, progress: progress)
        return SurpriseCalibration(energy: fitted.calibration!, contextFrames: scorer.contextFrames, minimumContext: scorer.minimumContext,
                                   horizon: scorer.horizon, clips: min(count, try ClipFile(path: path).count), source: path)
    }

    /// Whether this fit was made for `scorer`'s settings.
    public func fits(_ scorer: NextFrameSurpriseScorer) -> Bool {
        (scorer.contextFrames, scorer.minimumContext, scorer.horizon) == (contextFrames, minimumContext, horizon)
            && scorer.model.config.latentDim * scorer.model.config.latentTokens == energy.dimension
    }

    /// `scorer` with this calibrated energy; nil when the fit is for other settings.
    public func applied(to scorer: NextFrameSurpriseScorer) -> NextFrameSurpriseScorer? {
        guard fits(scorer) else { return nil }
        var calibrated = scorer
        calibrated.calibration = energy
        return calibrated
    }

    /// What the settings were, for messages: "context 4…12, horizon 1".
    public var settings: String {
        "context \(minimumContext.map { "\($0)…" } ?? "")\(contextFrames), horizon \(horizon)"
    }

    // MARK: Storage in a checkpoint

    static let keys = (context: "calibration.context_frames", minimum: "calibration.minimum_context", horizon: "calibration.horizon",
                       samples: "calibration.samples", shrinkage: "calibration.shrinkage", clips: "calibration.clips",
                       source: "calibration.source")

    /// The calibration stored in the jepa-swift checkpoint at `path`; nil when it has none (or
    /// `path` is another tool's weight file).
    public static func stored(at path: String) throws -> SurpriseCalibration? {
        guard try WeightFile.format(of: path) == .jepa else { return nil }
        return try stored(in: CheckpointIO.read(path), path: path)
    }

    static func stored(in checkpoint: Checkpoint, path: String) throws -> SurpriseCalibration? {
        guard let group = checkpoint.modules[CheckpointIO.calibrationGroup] else { return nil }
        let tensors = Dictionary(group.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        let state = checkpoint.state
        guard let mean = tensors["mean"], let whitening = tensors["whitening"],
              case let .int(context)? = state[keys.context], case let .int(minimum)? = state[keys.minimum],
              case let .int(horizon)? = state[keys.horizon], case let .int(samples)? = state[keys.samples],
              case let .double(shrinkage)? = state[keys.shrinkage], case let .int(clips)? = state[keys.clips],
              case let .string(source)? = state[keys.source] else {
            throw EvaluationError("\(path): the stored surprise calibration is incomplete (group \(CheckpointIO.calibrationGroup) and state calibration.*)")
        }
        do {
            return SurpriseCalibration(energy: try CalibratedEnergy(mean: mean, whitening: whitening, samples: samples, shrinkage: shrinkage),
                                       contextFrames: context, minimumContext: minimum == 0 ? nil : minimum, horizon: horizon,
                                       clips: clips, source: source)
        } catch let error as EvaluationError {
            throw EvaluationError("\(path): the stored surprise calibration is invalid: \(error.description)")
        }
    }

    /// Rewrites the checkpoint at `path` (atomically) with this calibration added, replacing any
    /// stored before; weights, optimiser and training state are kept as they are.
    public func store(in path: String) throws {
        var checkpoint = try CheckpointIO.read(path)
        checkpoint.modules[CheckpointIO.calibrationGroup] = [("mean", energy.mean), ("whitening", energy.whitening)]
        checkpoint.state[Self.keys.context] = .int(contextFrames)
        checkpoint.state[Self.keys.minimum] = .int(minimumContext ?? 0)
        checkpoint.state[Self.keys.horizon] = .int(horizon)
        checkpoint.state[Self.keys.samples] = .int(energy.samples)
        checkpoint.state[Self.keys.shrinkage] = .double(energy.shrinkage)
        checkpoint.state[Self.keys.clips] = .int(clips)
        checkpoint.state[Self.keys.source] = .string(source)
        try CheckpointIO.write(checkpoint, to: path)
    }
}
