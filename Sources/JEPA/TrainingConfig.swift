import Config
import NN

/// Everything a video JEPA training run needs: the YAML of `experiments/*.yaml`. Keys are snake_case;
/// every key has a default, so a file states only what it changes. Unknown keys, wrong types and
/// out-of-range values are errors naming the key and the file (see `ConfigLoader`).
public struct TrainingConfig: Codable, Sendable, Equatable, ValidatableConfig {
    /// What is trained: `video` (V-JEPA with masked prediction on passive clips; `model` is a
    /// `VideoJEPAConfig`), `action_conditioned` (next-frame prediction from latents and actions;
    /// `model` is an `ActionJEPAConfig`, and `mask` does not apply) or `next_frame` (the same
    /// frame encoder and causal predictor with no actions, for passive video; `model.action_dim`
    /// is 0).
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case video
        case actionConditioned = "action_conditioned"
        case nextFrame = "next_frame"

        /// Whether `model` is an `ActionJEPAConfig` (a frame encoder and a causal predictor).
        public var isFrameModel: Bool { self != .video }
    }

    public var name = "balls-vjepa"
    public var seed: UInt64 = 0
    public var kind = Kind.video
    public var data = DataSection()
    /// The `model` section when `kind` is `video`.
    public var model = VideoJEPAConfig()
    /// The `model` section when `kind` is `action_conditioned` or `next_frame`.
    public var actionModel = ActionJEPAConfig()
    public var mask = MaskSection()
    public var loss = JEPALossWeights(prediction: 1, variance: 1, covariance: 0.04)
    public var optim = OptimSection()
    public var ema = EMASection()
    public var train = TrainSection()

    public struct DataSection: Codable, Sendable, Equatable {
        /// HDF5 dataset of clips (README, Datasets). The embedded default generates it when missing.
        public var path = "datasets/balls-default.h5"
        public var batchSize = 16
        enum CodingKeys: String, CodingKey { case path, batchSize = "batch_size" }
        public init() {}
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self), d = Self()
            path = try c.decode(.path, default: d.path)
            batchSize = try c.decode(.batchSize, default: d.batchSize)
        }
    }

    public struct MaskSection: Codable, Sendable, Equatable {
        /// `multiblock` (V-JEPA tube blocks), `future` (predict the last frames from the first) or
        /// `mixed` (each batch one of the two, `future` with probability `future_fraction`).
        public var kind = "multiblock"
        public var blocks = 8
        public var spatialScale = [0.15, 0.15]
        public var aspectRatio = [0.75, 1.5]
        public var temporalScale = [1.0, 1.0]
        /// When set, every clip masks exactly this fraction of spatial positions (the peer's 0.5).
        public var maskedSpatialFraction: Double?
        public var futureContextFrames = 2
        public var futureFraction = 0.5
        enum CodingKeys: String, CodingKey {
            case kind, blocks, spatialScale = "spatial_scale", aspectRatio = "aspect_ratio",
                 temporalScale = "temporal_scale", maskedSpatialFraction = "masked_spatial_fraction",
                 futureContextFrames = "future_context_frames", futureFraction = "future_fraction"
        }
        public init() {}
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self), d = Self()
            kind = try c.decode(.kind, default: d.kind)
            blocks = try c.decode(.blocks, default: d.blocks)
            spatialScale = try c.decode(.spatialScale, default: d.spatialScale)
            aspectRatio = try c.decode(.aspectRatio, default: d.aspectRatio)
            temporalScale = try c.decode(.temporalScale, default: d.temporalScale)
            maskedSpatialFraction = try c.decodeIfPresent(Double.self, forKey: .maskedSpatialFraction)
            futureContextFrames = try c.decode(.futureContextFrames, default: d.futureContextFrames)
            futureFraction = try c.decode(.futureFraction, default: d.futureFraction)
        }

        /// The strategy this section describes.
        public func strategy() -> any MaskStrategy {
            let future = FutureFrameMask(contextFrames: futureContextFrames)
            let tubes = MultiBlockTubeMask(blocks: blocks, spatialScale: spatialScale[0]...spatialScale[1],
                                           aspectRatio: aspectRatio[0]...aspectRatio[1],
                                           temporalScale: temporalScale[0]...temporalScale[1],
                                           maskedSpatialFraction: maskedSpatialFraction)
            switch kind {
            case "future": return future
            case "mixed": return MixedMask([(tubes, 1 - futureFraction), (future, futureFraction)])
            default: return tubes
            }
        }
    }

    public struct OptimSection: Codable, Sendable, Equatable {
        public var lr: Float = 1e-3
        public var minLr: Float = 1e-5
        public var warmupSteps = 50
        public var weightDecay: Float = 0.04
        /// Gradient clipping by global norm; 0 turns it off.
        public var gradClip: Float = 1
        enum CodingKeys: String, CodingKey {
            case lr, minLr = "min_lr", warmupSteps = "warmup_steps", weightDecay = "weight_decay", gradClip = "grad_clip"
        }
        public init() {}
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self), d = Self()
            lr = try c.decode(.lr, default: d.lr)
            minLr = try c.decode(.minLr, default: d.minLr)
            warmupSteps = try c.decode(.warmupSteps, default: d.warmupSteps)
            weightDecay = try c.decode(.weightDecay, default: d.weightDecay)
            gradClip = try c.decode(.gradClip, default: d.gradClip)
        }
    }

    /// EMA momentum of the target encoder: cosine from `start` to `end` over the run.
    public struct EMASection: Codable, Sendable, Equatable {
        public var start: Float = 0.996
        public var end: Float = 1
        public init() {}
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self), d = Self()
            start = try c.decode(.start, default: d.start)
            end = try c.decode(.end, default: d.end)
        }
    }

    public struct TrainSection: Codable, Sendable, Equatable {
        public var steps = 1000
        public var logEvery = 10
        public var checkpointEvery = 200
        public var keepLast = 3
        /// Mean target-feature std below which a collapse warning is raised.
        public var collapseFloor: Float = 0.05
        /// next_frame runs: training clips whose prediction errors calibrate the surprise energy
        /// when training ends (stored in the last checkpoint; 0 = none).
        public var calibrationClips = 400
        enum CodingKeys: String, CodingKey {
            case steps, logEvery = "log_every", checkpointEvery = "checkpoint_every", keepLast = "keep_last",
                 collapseFloor = "collapse_floor", calibrationClips = "calibration_clips"
        }
        public init() {}
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self), d = Self()
            steps = try c.decode(.steps, default: d.steps)
            logEvery = try c.decode(.logEvery, default: d.logEvery)
            checkpointEvery = try c.decode(.checkpointEvery, default: d.checkpointEvery)
            keepLast = try c.decode(.keepLast, default: d.keepLast)
            collapseFloor = try c.decode(.collapseFloor, default: d.collapseFloor)
            calibrationClips = try c.decode(.calibrationClips, default: d.calibrationClips)
        }
    }

    public init() {}

    /// Where the embedded default's data live; `jepa train` generates them when missing.
    public static let embeddedDefaultDataPath = "datasets/balls-default.h5"

    /// The config `jepa train` uses without `--config`: a next-frame world model of the balls that
    /// trains in five to six minutes on 2 cores — `experiments/balls-next-frame-f16.yaml` (the
    /// dynamics reference) with fewer steps on fewer episodes (EXPERIMENTS.md §10).
    public static let embeddedDefaultYAML = """
        name: balls-small
        seed: 0
        kind: next_frame
        data: {path: \(embeddedDefaultDataPath), batch_size: 16}
        model: {frames: 16, image_size: 64, encoder: vit, patch: 16, encoder_dim: 128, encoder_depth: 4, encoder_heads: 4,
                predictor: recurrent, pooled_dim: 128, gru_hidden: 256, gru_layers: 3, rollout_steps: 12, rollout_context: 4,
                distance: l2}
        loss: {prediction: 1, rollout: 1, variance: 1, covariance: 0.04}
        optim: {lr: 1.0e-3, min_lr: 1.0e-5, warmup_steps: 100, weight_decay: 0.04, grad_clip: 1}
        ema: {start: 0, end: 0}
        train: {steps: 900, log_every: 25, checkpoint_every: 300, keep_last: 2}
        """

    /// Episodes `jepa train` generates for the embedded default when its data are missing.
    public static let embeddedDefaultEpisodes = 2000

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self), d = Self()
        name = try c.decode(.name, default: d.name)
        seed = try c.decode(.seed, default: d.seed)
        kind = try c.decode(.kind, default: d.kind)
        data = try c.decode(.data, default: d.data)
        switch kind {
        case .video:
            model = try c.decode(.model, default: d.model)
            mask = try c.decode(.mask, default: d.mask)
        case .actionConditioned: actionModel = try c.decode(.model, default: d.actionModel)
        case .nextFrame: actionModel = try c.decode(.model, default: PassiveModelSection()).config
        }
        loss = try c.decode(.loss, default: d.loss)
        optim = try c.decode(.optim, default: d.optim)
        ema = try c.decode(.ema, default: d.ema)
        train = try c.decode(.train, default: d.train)
    }

    enum CodingKeys: String, CodingKey { case name, seed, kind, data, model, mask, loss, optim, ema, train }

    /// Writes only the `model` section of the config's kind (and no `mask` for action-conditioned runs).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(seed, forKey: .seed)
        try c.encode(kind, forKey: .kind)
        try c.encode(data, forKey: .data)
        switch kind {
        case .video:
            try c.encode(model, forKey: .model)
            try c.encode(mask, forKey: .mask)
        case .actionConditioned, .nextFrame:
            try c.encode(actionModel, forKey: .model)
        }
        try c.encode(loss, forKey: .loss)
        try c.encode(optim, forKey: .optim)
        try c.encode(ema, forKey: .ema)
        try c.encode(train, forKey: .train)
    }

    /// The model's frame shape [C, H, W].
    public var frameShape: [Int] {
        kind.isFrameModel ? [actionModel.channels, actionModel.imageSize, actionModel.imageSize]
            : [model.channels, model.imageSize, model.imageSize]
    }

    /// Frames per training clip.
    public var clipLength: Int { kind.isFrameModel ? actionModel.frames : model.frames }

    public func validate() throws {
        try check(!name.isEmpty && !name.contains("/"), key: "name", "must be a non-empty name without '/', got \"\(name)\"")
        try check(data.batchSize >= 1, key: "data.batch_size", "must be at least 1, got \(data.batchSize)")
        switch kind {
        case .video: try validateVideo()
        case .actionConditioned, .nextFrame: try validateFrameModel()
        }
        try check(optim.lr > 0 && optim.lr.isFinite, key: "optim.lr", "must be positive, got \(optim.lr)")
        try check(optim.minLr >= 0 && optim.minLr <= optim.lr, key: "optim.min_lr", "must lie in [0, optim.lr], got \(optim.minLr)")
        try check(optim.warmupSteps >= 0 && optim.warmupSteps < train.steps, key: "optim.warmup_steps", "must lie in [0, train.steps), got \(optim.warmupSteps)")
        try check(optim.weightDecay >= 0, key: "optim.weight_decay", "must be non-negative, got \(optim.weightDecay)")
        try check(optim.gradClip >= 0, key: "optim.grad_clip", "must be non-negative (0 = off), got \(optim.gradClip)")
        try check((0...1).contains(ema.start) && (0...1).contains(ema.end), key: "ema", "start and end must lie in [0, 1], got \(ema.start), \(ema.end)")
        for (key, w) in [("loss.prediction", loss.prediction), ("loss.variance", loss.variance),
                         ("loss.covariance", loss.covariance), ("loss.sigreg", loss.sigreg), ("loss.rollout", loss.rollout),
                         ("loss.inverse_dynamics", loss.inverseDynamics), ("loss.dense", loss.dense), ("loss.proprio", loss.proprio)]
                         + loss.deep.map({ ("loss.deep", $0) }) {
            try check(w >= 0 && w.isFinite, key: key, "must be a non-negative weight, got \(w)")
        }
        try check(train.steps >= 1, key: "train.steps", "must be at least 1, got \(train.steps)")
        try check(train.logEvery >= 1, key: "train.log_every", "must be at least 1, got \(train.logEvery)")
        try check(train.checkpointEvery >= 1, key: "train.checkpoint_every", "must be at least 1, got \(train.checkpointEvery)")
        try check(train.keepLast >= 1, key: "train.keep_last", "must be at least 1, got \(train.keepLast)")
        try check(train.calibrationClips >= 0, key: "train.calibration_clips", "must be non-negative (0 = none), got \(train.calibrationClips)")
    }

    func validateVideo() throws {
        for (key, v) in [("model.frames", model.frames), ("model.image_size", model.imageSize), ("model.patch", model.patch),
                         ("model.tubelet", model.tubelet), ("model.encoder_dim", model.encoderDim),
                         ("model.encoder_depth", model.encoderDepth), ("model.encoder_heads", model.encoderHeads),
                         ("model.predictor_dim", model.predictorDim), ("model.predictor_depth", model.predictorDepth),
                         ("model.predictor_heads", model.predictorHeads), ("model.channels", model.channels)] {
            try check(v >= 1, key: key, "must be at least 1, got \(v)")
        }
        try check(model.imageSize % model.patch == 0, key: "model.patch", "must divide model.image_size (\(model.imageSize)), got \(model.patch)")
        try check(model.frames % model.tubelet == 0, key: "model.tubelet", "must divide model.frames (\(model.frames)), got \(model.tubelet)")
        try check(model.encoderDim % model.encoderHeads == 0, key: "model.encoder_heads", "must divide model.encoder_dim (\(model.encoderDim))")
        try check(model.predictorDim % model.predictorHeads == 0, key: "model.predictor_heads", "must divide model.predictor_dim (\(model.predictorDim))")
        try check(model.predictorDim % 8 == 0, key: "model.predictor_dim", "must be a multiple of 8 (sin-cos positions over time, rows and columns), got \(model.predictorDim)")
        try check(["multiblock", "future", "mixed"].contains(mask.kind), key: "mask.kind", "must be multiblock, future or mixed, got \(mask.kind)")
        try check(mask.futureFraction > 0 && mask.futureFraction < 1, key: "mask.future_fraction", "must lie in (0, 1), got \(mask.futureFraction)")
        for (key, r) in [("mask.spatial_scale", mask.spatialScale), ("mask.aspect_ratio", mask.aspectRatio),
                         ("mask.temporal_scale", mask.temporalScale)] {
            try check(r.count == 2 && r[0] > 0 && r[0] <= r[1], key: key, "must be [low, high] with 0 < low ≤ high, got \(r)")
        }
        try check(mask.blocks >= 1, key: "mask.blocks", "must be at least 1, got \(mask.blocks)")
        try check(loss.rollout == 0 && loss.inverseDynamics == 0, key: loss.rollout != 0 ? "loss.rollout" : "loss.inverse_dynamics",
                  "applies only to kind: action_conditioned or next_frame (this config trains kind: video)")
        let levels = model.deepLevels
        try check(zip(levels, levels.dropFirst()).allSatisfy { $0 < $1 } && levels.allSatisfy { (1..<model.encoderDepth).contains($0) },
                  key: "model.deep_levels", "must be increasing block counts in [1, encoder_depth − 1] = [1, \(model.encoderDepth - 1)], got \(levels)")
        try check(model.latentDim >= 0, key: "model.latent_dim", "must be 0 (off) or positive, got \(model.latentDim)")
        try check(model.latentSamples >= 1, key: "model.latent_samples", "must be at least 1, got \(model.latentSamples)")
        try check(model.latentPenalty >= 0 && model.latentPenalty.isFinite, key: "model.latent_penalty", "must be non-negative, got \(model.latentPenalty)")
        try check(loss.deep.isEmpty || loss.deep.count == levels.count, key: "loss.deep",
                  "needs one weight per model.deep_levels entry (\(levels.count)), got \(loss.deep.count)")
    }

    func validateFrameModel() throws {
        let m = actionModel
        if kind == .nextFrame {
            try check(m.actionDim == 0, key: "model.action_dim", "must be 0 for kind: next_frame (no actions), got \(m.actionDim)")
            try check(loss.inverseDynamics == 0, key: "loss.inverse_dynamics", "needs actions (kind: action_conditioned); this config trains kind: next_frame")
            try check(m.predictor != .gru, key: "model.predictor",
                      "gru reads one frame's latent, which does not say where things are moving; kind: next_frame needs recurrent or transformer")
        } else {
            try check(m.actionDim >= 1, key: "model.action_dim", "must be at least 1, got \(m.actionDim)")
        }
        let levels = m.deepLevels
        if !levels.isEmpty || m.denseHead {
            try check(m.predictor == .gru && m.encoder == .vit, key: levels.isEmpty ? "model.dense_head" : "model.deep_levels",
                      "needs predictor: gru and encoder: vit (heads on the GRU state, targets read out of the ViT), got \(m.predictor.rawValue) and \(m.encoder.rawValue)")
        }
        try check(zip(levels, levels.dropFirst()).allSatisfy { $0 < $1 } && levels.allSatisfy { (1..<m.encoderDepth).contains($0) },
                  key: "model.deep_levels", "must be increasing block counts in [1, encoder_depth − 1] = [1, \(m.encoderDepth - 1)], got \(levels)")
        try check(loss.deep.isEmpty || loss.deep.count == levels.count, key: "loss.deep",
                  "needs one weight per model.deep_levels entry (\(levels.count)), got \(loss.deep.count)")
        try check(loss.dense == 0 || m.denseHead, key: "loss.dense",
                  "needs model.dense_head: true (the head that regresses the stepped-from frame's target) for kind: \(kind.rawValue)")
        for (key, v) in [("model.frames", m.frames), ("model.image_size", m.imageSize), ("model.channels", m.channels),
                         ("model.frame_stack", m.frameStack),
                         ("model.patch", m.patch), ("model.encoder_dim", m.encoderDim),
                         ("model.encoder_depth", m.encoderDepth), ("model.encoder_heads", m.encoderHeads),
                         ("model.predictor_dim", m.predictorDim), ("model.predictor_depth", m.predictorDepth),
                         ("model.predictor_heads", m.predictorHeads), ("model.gru_hidden", m.gruHidden),
                         ("model.gru_layers", m.gruLayers),
                         ("model.inverse_dynamics_hidden", m.inverseDynamicsHidden)] {
            try check(v >= 1, key: key, "must be at least 1, got \(v)")
        }
        try check(m.gruLayers == 1 || m.predictor == .recurrent, key: "model.gru_layers",
                  "stacks the recurrent predictor's GRU; predictor \(m.predictor.rawValue) has one, got \(m.gruLayers)")
        try check(m.frames >= 2, key: "model.frames", "must be at least 2 (a frame and its successor), got \(m.frames)")
        try check(m.rolloutSteps >= 2 && m.rolloutSteps < m.frames, key: "model.rollout_steps",
                  "must lie in [2, model.frames − 1] = [2, \(m.frames - 1)], got \(m.rolloutSteps)")
        try check(m.rolloutContext >= 1 && m.rolloutContext + m.rolloutSteps <= m.frames, key: "model.rollout_context",
                  "must lie in [1, model.frames − model.rollout_steps] = [1, \(m.frames - m.rolloutSteps)], got \(m.rolloutContext)")
        if m.encoder == .vit {
            try check(m.imageSize % m.patch == 0, key: "model.patch", "must divide model.image_size (\(m.imageSize)), got \(m.patch)")
            try check(m.encoderDim % m.encoderHeads == 0, key: "model.encoder_heads", "must divide model.encoder_dim (\(m.encoderDim))")
            try check(m.encoderDim % 4 == 0, key: "model.encoder_dim", "must be a multiple of 4 (2-D sin-cos positions), got \(m.encoderDim)")
        } else {
            try check(!m.convWidths.isEmpty && m.convWidths.allSatisfy { $0 >= 1 }, key: "model.conv_widths",
                      "must be a non-empty list of positive widths, got \(m.convWidths)")
        }
        if m.proprio {
            try check(kind == .actionConditioned, key: "model.proprio", "needs actions and states (kind: action_conditioned); this config trains kind: \(kind.rawValue)")
            try check(m.predictor == .gru, key: "model.proprio", "needs predictor: gru (the compact latent the proprioception is appended to), got \(m.predictor.rawValue)")
            try check(!m.proprioScale.isEmpty && m.proprioScale.allSatisfy { $0 > 0 && $0.isFinite }, key: "model.proprio_scale",
                      "must be a non-empty list of positive scales (one per proprioceptive state entry), got \(m.proprioScale)")
        }
        try check(m.zDim >= 0, key: "model.latent_dim", "must be non-negative (0: no latent variable), got \(m.zDim)")
        if m.zDim > 0 {
            try check(m.predictor != .transformer, key: "model.latent_dim", "needs predictor: recurrent or gru (the latent variable enters the GRU), got \(m.predictor.rawValue)")
            try check(m.zSamples >= 1, key: "model.latent_samples", "must be at least 1, got \(m.zSamples)")
            try check(m.zPenalty >= 0 && m.zPenalty.isFinite, key: "model.latent_penalty", "must be non-negative, got \(m.zPenalty)")
        }
        if m.predictor == .transformer {
            try check(m.predictorDim % m.predictorHeads == 0, key: "model.predictor_heads", "must divide model.predictor_dim (\(m.predictorDim))")
            try check(m.predictorDim % 8 == 0, key: "model.predictor_dim", "must be a multiple of 8 (sin-cos positions over time, rows and columns), got \(m.predictorDim)")
        }
    }
}

/// The `model` section of `kind: next_frame`: an `ActionJEPAConfig` whose omitted keys take the
/// passive defaults (no actions, recurrent predictor).
struct PassiveModelSection: Decodable {
    var config = ActionJEPAConfig.passive
    init() {}
    init(from decoder: Decoder) throws { config = try ActionJEPAConfig(from: decoder, defaults: .passive) }
}

public enum TrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(step: Int, value: Float, lastCheckpoint: String?)
    case mismatchedData(String)
    case io(String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(step, value, last):
            return "loss became \(value) at step \(step); training stopped. "
                + (last.map { "The last good checkpoint is \($0)." } ?? "No checkpoint was written yet.")
        case let .mismatchedData(message), let .io(message): return message
        }
    }
}
