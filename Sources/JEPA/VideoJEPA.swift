import Config
import NN
import Tensors

/// Sizes of a video JEPA: a ViT context encoder over spatio-temporal tubelets, its EMA target
/// encoder, and a narrower predictor.
public struct VideoJEPAConfig: Codable, Sendable, Equatable {
    public var frames = 4, imageSize = 64, channels = 1, patch = 8, tubelet = 1
    public var encoderDim = 192, encoderDepth = 6, encoderHeads = 3
    public var predictorDim = 96, predictorDepth = 4, predictorHeads = 3
    public var mlpRatio: Float = 4
    public var distance = EnergyDistance.l1
    enum CodingKeys: String, CodingKey {
        case frames, imageSize = "image_size", channels, patch, tubelet, encoderDim = "encoder_dim",
             encoderDepth = "encoder_depth", encoderHeads = "encoder_heads", predictorDim = "predictor_dim",
             predictorDepth = "predictor_depth", predictorHeads = "predictor_heads", mlpRatio = "mlp_ratio", distance
    }
    public init() {}
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self), d = Self()
        frames = try c.decode(.frames, default: d.frames)
        imageSize = try c.decode(.imageSize, default: d.imageSize)
        channels = try c.decode(.channels, default: d.channels)
        patch = try c.decode(.patch, default: d.patch)
        tubelet = try c.decode(.tubelet, default: d.tubelet)
        encoderDim = try c.decode(.encoderDim, default: d.encoderDim)
        encoderDepth = try c.decode(.encoderDepth, default: d.encoderDepth)
        encoderHeads = try c.decode(.encoderHeads, default: d.encoderHeads)
        predictorDim = try c.decode(.predictorDim, default: d.predictorDim)
        predictorDepth = try c.decode(.predictorDepth, default: d.predictorDepth)
        predictorHeads = try c.decode(.predictorHeads, default: d.predictorHeads)
        mlpRatio = try c.decode(.mlpRatio, default: d.mlpRatio)
        distance = try c.decode(.distance, default: d.distance)
    }
}

/// Weights of the loss terms. Zero switches a term off.
public struct JEPALossWeights: Codable, Sendable, Equatable {
    public var prediction: Float = 1
    public var variance: Float = 0
    public var covariance: Float = 0
    /// SIGReg isotropic-Gaussian term on the context encoder's output (`SIGReg.loss`).
    public var sigreg: Float = 0
    /// Action-conditioned models: energy of the autoregressive rollout (`model.rollout_steps`).
    public var rollout: Float = 0
    /// Action-conditioned models: MSE of the inverse-dynamics head's actions.
    public var inverseDynamics: Float = 0
    /// Action-conditioned models with `model.proprio`: the distance of the predicted
    /// proprioception to the true one (teacher-forced; in the rollout × `rollout` too).
    public var proprio: Float = 1
    enum CodingKeys: String, CodingKey {
        case prediction, variance, covariance, sigreg, rollout, inverseDynamics = "inverse_dynamics", proprio
    }
    public init(prediction: Float = 1, variance: Float = 0, covariance: Float = 0, sigreg: Float = 0,
                rollout: Float = 0, inverseDynamics: Float = 0, proprio: Float = 1) {
        (self.prediction, self.variance, self.covariance, self.sigreg) = (prediction, variance, covariance, sigreg)
        (self.rollout, self.inverseDynamics, self.proprio) = (rollout, inverseDynamics, proprio)
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self), d = Self()
        prediction = try c.decode(.prediction, default: d.prediction)
        variance = try c.decode(.variance, default: d.variance)
        covariance = try c.decode(.covariance, default: d.covariance)
        sigreg = try c.decode(.sigreg, default: d.sigreg)
        rollout = try c.decode(.rollout, default: d.rollout)
        inverseDynamics = try c.decode(.inverseDynamics, default: d.inverseDynamics)
        proprio = try c.decode(.proprio, default: d.proprio)
    }
}

/// The loss of one batch and its parts (plain numbers, for logging).
public struct JEPALoss {
    /// The logged values of the terms besides the prediction energy (0 or nil when off).
    public struct Parts: Sendable {
        public var variance: Float = 0, covariance: Float = 0, sigreg: Float = 0
        public var rollout: Float?, inverseDynamics: Float?
        /// Energy of predicting "nothing changes" (each frame's target latent for the next frame):
        /// the baseline an action-conditioned predictor must beat.
        public var copyBaseline: Float?
        /// With proprioception: the teacher-forced distance of the predicted proprio part, and that
        /// of "the proprioception does not change".
        public var proprio: Float?, proprioCopyBaseline: Float?
    }
    public let total: Tensor
    public let prediction: Float
    public let parts: Parts
    /// The batch's target features [..., D] (no graph), for diagnostics.
    public let targets: Tensor
    public var variance: Float { parts.variance }
    public var covariance: Float { parts.covariance }
    public var sigreg: Float { parts.sigreg }
    /// Collapse diagnostics of the target features, computed when asked (not every step needs them).
    public var targetStats: CollapseStats { CollapseStats(targets) }
}

/// A world model the trainer can optimise: trainable parameters, the modules a checkpoint holds,
/// and an EMA target to move after each step.
public protocol WorldModel: AnyObject {
    var trainableParameters: [NamedParameter] { get }
    var checkpointModules: [String: Module] { get }
    func updateTarget(momentum: Float)
}

/// V-JEPA on video clips: the context encoder sees only the context tokens, the target encoder
/// (an EMA copy, never trained by gradients) sees the whole clip, and the predictor regresses the
/// layer-normalised target features at the target positions.
public final class VideoJEPA: WorldModel {
    public let config: VideoJEPAConfig
    public let contextEncoder: VisionTransformer
    public let targetEncoder: VisionTransformer
    public let predictor: Predictor
    let ema: EMA

    public init(config: VideoJEPAConfig, rng: inout RandomGenerator) throws {
        self.config = config
        func encoder(_ rng: inout RandomGenerator) -> VisionTransformer {
            VisionTransformer(frames: config.frames, tubelet: config.tubelet, imageSize: config.imageSize,
                              patch: config.patch, channels: config.channels, dim: config.encoderDim,
                              depth: config.encoderDepth, heads: config.encoderHeads, mlpRatio: config.mlpRatio,
                              rng: &rng)
        }
        contextEncoder = encoder(&rng)
        targetEncoder = encoder(&rng)
        try targetEncoder.copyParameters(from: contextEncoder)
        ema = EMA(target: targetEncoder.namedParameters())
        predictor = Predictor(encoderDim: config.encoderDim, dim: config.predictorDim, depth: config.predictorDepth,
                              heads: config.predictorHeads, grid: contextEncoder.patchEmbed.grid,
                              mlpRatio: config.mlpRatio, rng: &rng)
    }

    /// Tokens per clip.
    public var tokenCount: Int { contextEncoder.tokenCount }

    public var checkpointModules: [String: Module] {
        ["context_encoder": contextEncoder, "target_encoder": targetEncoder, "predictor": predictor]
    }

    /// Parameters trained by gradients: context encoder and predictor, with checkpoint-style names.
    public var trainableParameters: [NamedParameter] {
        contextEncoder.namedParameters().map { (name: "context_encoder.\($0.name)", tensor: $0.tensor) }
            + predictor.namedParameters().map { (name: "predictor.\($0.name)", tensor: $0.tensor) }
    }

    /// Target features of whole clips, layer-normalised without affine: [B, N, D]. No graph.
    /// `clips`: [B, C, T, H, W].
    public func targetFeatures(_ clips: Tensor) -> Tensor {
        noGrad { targetEncoder(clips).layerNorm(weight: nil, bias: nil, eps: 1e-6) }
    }

    /// The loss of a batch: energy between predictions and target features at the target tokens,
    /// plus optional variance/covariance and SIGReg terms on the context encoder's tokens
    /// (SIGReg's random directions come from `sigregSeed`, so a step is reproducible).
    public func loss(clips: Tensor, contextIndices: [[Int]], targetIndices: [[Int]],
                     weights: JEPALossWeights = JEPALossWeights(), sigregSeed: UInt64 = 0) -> JEPALoss {
        let targets = targetFeatures(clips)
        let targetAtMask = noGrad { targets.gather(batchIndices: targetIndices) }
        let context = contextEncoder(clips, tokenIndices: contextIndices)
        let predicted = predictor(context, contextIndices: contextIndices, targetIndices: targetIndices)
        let prediction = energy(predicted: predicted, target: targetAtMask, distance: config.distance)
        var total = prediction * weights.prediction
        let regularized = Regularization.apply(to: context, weights: weights, seed: sigregSeed)
        if let extra = regularized.total { total = total + extra }
        let parts = JEPALoss.Parts(variance: regularized.variance, covariance: regularized.covariance,
                                   sigreg: regularized.sigreg)
        return JEPALoss(total: total, prediction: prediction.item, parts: parts, targets: targets)
    }

    /// Moves the target encoder toward the context encoder: target ← m·target + (1−m)·context.
    public func updateTarget(momentum: Float) {
        ema.update(from: contextEncoder.namedParameters(), momentum: momentum)
    }
}
