// In-memory checkpoint content and the errors of the Checkpoints module.
// The on-disk layout is described in docs/checkpoint-format.md; reading and writing live in
// CheckpointIO.swift, keep-last-K / best / latest bookkeeping in CheckpointRotation.swift.
import NN
import Tensors

/// One small piece of extra training state stored under the file's `state/` group
/// (RNG seeds, data-loader position, schedule position, best metric, …).
public enum CheckpointValue: Equatable, Sendable {
    case int(Int)
    case double(Double)
    case string(String)
    case ints([Int64])
    case doubles([Double])
}

/// Everything one checkpoint file holds. Tensors are shared, not copied, when writing;
/// `CheckpointIO.read` returns fresh tensors.
public struct Checkpoint {
    /// Training step the checkpoint was taken after.
    public var step: Int
    /// YAML text of the resolved run config.
    public var config: String
    /// Module group name (`context_encoder`, `target_encoder`, `predictor`, …) → its parameters.
    /// Writing keeps each list's order; reading returns each list sorted by name (HDF5 link order).
    public var modules: [String: [NamedParameter]]
    /// Optimiser state with the optimiser's own names (`exp_avg.<param>`, …).
    public var optimizer: [NamedParameter]
    /// The optimiser's completed step count (restored with `Optimizer.loadState`).
    public var optimizerStep: Int
    /// Extra state, keys without "/".
    public var state: [String: CheckpointValue]
    /// Validation metric at this step, if any (used by `CheckpointRotation` to keep the best file).
    public var metric: Double?
    /// ISO-8601 creation time; `nil` when writing means "now". Filled in by `read`.
    public var created: String?
    /// `Toolkit.version` of the writer; filled in by `read` (writing always records the current one).
    public var toolVersion: String?

    public init(step: Int, config: String = "", modules: [String: [NamedParameter]] = [:],
                optimizer: [NamedParameter] = [], optimizerStep: Int = 0,
                state: [String: CheckpointValue] = [:], metric: Double? = nil) {
        self.step = step
        self.config = config
        self.modules = modules
        self.optimizer = optimizer
        self.optimizerStep = optimizerStep
        self.state = state
        self.metric = metric
    }

    /// A checkpoint of live modules and optimiser (tensors are referenced, not copied: write it
    /// before the next training step changes them).
    public init(step: Int, config: String = "", modules: [String: Module], optimizer: Optimizer?,
                state: [String: CheckpointValue] = [:], metric: Double? = nil) {
        self.init(step: step, config: config,
                  modules: modules.mapValues { $0.namedParameters() },
                  optimizer: optimizer?.namedState() ?? [], optimizerStep: optimizer?.stepCount ?? 0,
                  state: state, metric: metric)
    }
}

/// Why a checkpoint could not be written, read or restored. `description` names the file and,
/// where relevant, the group and key.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The file does not exist.
        case missingFile
        /// Not an HDF5 file at all (text, empty, another format).
        case notHDF5
        /// An HDF5 signature but unreadable: truncated or damaged.
        case corrupt
        /// A readable HDF5 file without the jepa-swift checkpoint markers.
        case notCheckpoint
        /// `format_version` newer (or otherwise unknown) than this tool supports.
        case unsupportedVersion
        /// A required group is absent (restore).
        case missingGroup
        /// Names or shapes do not match the modules / optimiser being restored.
        case mismatch
        /// Invalid content given to `write` (bad names, duplicates).
        case invalidContent
        /// A weight holds NaN or Inf.
        case nonFinite
        /// A foreign file whose layout or element type this tool cannot map.
        case unsupported
        /// Writing, syncing, renaming or deleting failed.
        case io
    }

    public let kind: Kind
    /// The checkpoint file (or directory, for rotation errors).
    public let path: String
    public let description: String

    public init(_ kind: Kind, path: String, _ description: String) {
        self.kind = kind
        self.path = path
        self.description = description
    }
}
