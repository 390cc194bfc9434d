import NN

/// Everything a video JEPA training run needs, as in `experiments/*.yaml`.
public struct TrainingConfig: Codable, Sendable, Equatable {
    public var name = "balls-vjepa"
    public var seed: UInt64 = 0
    /// HDF5 dataset of clips (see the README's Datasets section).
    public var dataPath = "datasets/balls-default.h5"
    public var batchSize = 16
    public var model = VideoJEPAConfig()
    /// `multiblock` (V-JEPA tube blocks) or `future` (predict the last frames from the first).
    public var maskKind = "multiblock"
    public var multiblock = MultiBlockTubeMask()
    public var futureContextFrames = 2
    public var loss = JEPALossWeights(prediction: 1, variance: 1, covariance: 0.04)
    public var steps = 1000
    public var learningRate: Float = 1e-3
    public var minLearningRate: Float = 1e-5
    public var warmupSteps = 50
    public var weightDecay: Float = 0.04
    /// Gradient clipping by global norm; 0 turns it off.
    public var gradClip: Float = 1
    public var emaStart: Float = 0.996
    public var emaEnd: Float = 1
    public var logEvery = 10
    public var checkpointEvery = 200
    public var keepLast = 3
    /// Mean target-feature std below which a collapse warning is raised.
    public var collapseFloor: Float = 0.05

    public init() {}

    /// The mask strategy the config names.
    public func maskStrategy() throws -> any MaskStrategy {
        switch maskKind {
        case "multiblock": return multiblock
        case "future": return FutureFrameMask(contextFrames: futureContextFrames)
        default: throw TrainingError.invalidConfig("mask_kind", "must be multiblock or future, got \(maskKind)")
        }
    }
}

public enum TrainingError: Error, CustomStringConvertible {
    case invalidConfig(String, String)
    case nonFiniteLoss(step: Int, value: Float, lastCheckpoint: String?)
    case mismatchedData(String)

    public var description: String {
        switch self {
        case let .invalidConfig(key, message): return "\(key): \(message)"
        case let .nonFiniteLoss(step, value, last):
            return "loss became \(value) at step \(step); training stopped. "
                + (last.map { "The last good checkpoint is \($0)." } ?? "No checkpoint was written yet.")
        case let .mismatchedData(message): return message
        }
    }
}
