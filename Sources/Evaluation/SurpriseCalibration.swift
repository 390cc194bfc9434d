// The calibrated energy a next-frame model is scored with by default: fitted when training ends,
// on ordinary clips, and stored in the final checkpoint together with the scoring settings it was
// fitted for — a fit describes the errors of one context and horizon, and applies to no other.
import Checkpoints
import Foundation
import JEPA
import Tensors

public struct SurpriseCalibration {
    /// One fit per number of steps ahead the scorer predicts at (1…horizon for a growing context).
    public var energies: [Int: CalibratedEnergy]
    /// The scorer settings whose prediction errors were fitted.
    public var contextFrames: Int
    public var minimumContext: Int?
    public var horizon: Int
    /// Clips fitted and the file they came from.
    public var clips: Int
    public var source: String

    /// Prediction errors fitted, over all the fits.
    public var samples: Int { CalibratedEnergy.samples(of: energies) }
    /// The fit of the frames predicted the full horizon ahead (most of them).
    public var main: CalibratedEnergy { energies[horizon]! }

    /// Fits the Gaussians of `model`'s prediction errors under its default scoring (growing context,
    /// `defaultSurpriseHorizon` steps ahead; `makeSurpriseScorer`) on the first `count` clips of `path`.
    public static func fit(model: ActionConditionedJEPA, clips path: String, count: Int = 400, batch: Int = 16,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> SurpriseCalibration {
        guard let scorer = try makeSurpriseScorer(for: model, contextFrames: nil) as? NextFrameSurpriseScorer else {
            throw EvaluationError("only next-frame models have a calibrated surprise")
        }
        let fitted = try scorer.calibrated(on: path, clips: count, batch: batch, progress: progress)
        return SurpriseCalibration(energies: fitted.calibration!, contextFrames: scorer.contextFrames, minimumContext: scorer.minimumContext,
                                   horizon: scorer.horizon, clips: min(count, try ClipFile(path: path).count), source: path)
    }

    /// Whether this fit was made for `scorer`'s settings.
    public func fits(_ scorer: NextFrameSurpriseScorer) -> Bool {
        (scorer.contextFrames, scorer.minimumContext, scorer.horizon) == (contextFrames, minimumContext, horizon)
            && Set(energies.keys) == Set(scorer.horizons)
            && energies.values.allSatisfy { $0.dimension == scorer.model.config.latentDim * scorer.model.config.latentTokens }
    }

    /// `scorer` with this calibrated energy; nil when the fit is for other settings.
    public func applied(to scorer: NextFrameSurpriseScorer) -> NextFrameSurpriseScorer? {
        guard fits(scorer) else { return nil }
        var calibrated = scorer
        calibrated.calibration = energies
        return calibrated
    }

    /// What the settings were, for messages: "context 4…12, horizon 4".
    public var settings: String {
        "context \(minimumContext.map { "\($0)…" } ?? "")\(contextFrames), horizon \(horizon)"
    }

    // MARK: Storage in a checkpoint

    static let keys = (context: "calibration.context_frames", minimum: "calibration.minimum_context", horizon: "calibration.horizon",
                       clips: "calibration.clips", source: "calibration.source")
    /// Per fit: tensors `h<k>.mean` and `h<k>.whitening` in the group, state `calibration.h<k>.samples`
    /// and `calibration.h<k>.shrinkage` (k = steps ahead).
    static func stateKeys(_ k: Int) -> (samples: String, shrinkage: String) {
        ("calibration.h\(k).samples", "calibration.h\(k).shrinkage")
    }

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
        let incomplete = EvaluationError("\(path): the stored surprise calibration is incomplete (group \(CheckpointIO.calibrationGroup) "
                                         + "with h<k>.mean and h<k>.whitening, and state calibration.*; jepa calibrate refits it)")
        guard case let .int(context)? = state[keys.context], case let .int(minimum)? = state[keys.minimum],
              case let .int(horizon)? = state[keys.horizon], horizon >= 1, case let .int(clips)? = state[keys.clips],
              case let .string(source)? = state[keys.source] else { throw incomplete }
        var energies: [Int: CalibratedEnergy] = [:]
        for k in (minimum == 0 ? [horizon] : Array(1...horizon)) {
            guard let mean = tensors["h\(k).mean"], let whitening = tensors["h\(k).whitening"],
                  case let .int(samples)? = state[stateKeys(k).samples], case let .double(shrinkage)? = state[stateKeys(k).shrinkage] else {
                throw incomplete
            }
            do {
                energies[k] = try CalibratedEnergy(mean: mean, whitening: whitening, samples: samples, shrinkage: shrinkage)
            } catch let error as EvaluationError {
                throw EvaluationError("\(path): the stored surprise calibration is invalid: \(error.description)")
            }
        }
        return SurpriseCalibration(energies: energies, contextFrames: context, minimumContext: minimum == 0 ? nil : minimum,
                                   horizon: horizon, clips: clips, source: source)
    }

    /// Rewrites the checkpoint at `path` (atomically) with this calibration added, replacing any
    /// stored before; weights, optimiser and training state are kept as they are.
    public func store(in path: String) throws {
        var checkpoint = try CheckpointIO.read(path)
        checkpoint.modules[CheckpointIO.calibrationGroup] = energies.keys.sorted().flatMap { k in
            [("h\(k).mean", energies[k]!.mean), ("h\(k).whitening", energies[k]!.whitening)]
        }
        checkpoint.state = checkpoint.state.filter { !$0.key.hasPrefix("calibration.") }
        checkpoint.state[Self.keys.context] = .int(contextFrames)
        checkpoint.state[Self.keys.minimum] = .int(minimumContext ?? 0)
        checkpoint.state[Self.keys.horizon] = .int(horizon)
        checkpoint.state[Self.keys.clips] = .int(clips)
        checkpoint.state[Self.keys.source] = .string(source)
        for (k, energy) in energies {
            checkpoint.state[Self.stateKeys(k).samples] = .int(energy.samples)
            checkpoint.state[Self.stateKeys(k).shrinkage] = .double(energy.shrinkage)
        }
        try CheckpointIO.write(checkpoint, to: path)
    }
}
