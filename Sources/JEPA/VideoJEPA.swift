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
    /// What weight files cannot tell by shape, for loading other tools' weights; the defaults are
    /// timm's / I-JEPA's (LayerNorm eps 1e-6, exact erf GELU, a bias on qkv).
    public var layerNormEps: Float = 1e-6
    public var activation = ActivationName.gelu
    public var qkvBias = true
    /// Deep self-supervision (V-JEPA 2.1): also predict the target encoder's hidden states after
    /// these many blocks (1..<encoder_depth, increasing), each layer-normalised, with one predictor
    /// head per level; weights in `loss.deep`. Empty: off.
    public var deepLevels: [Int] = []
    /// Latent-variable energy: the size of a latent `z` fed to the predictor to carry what the
    /// context cannot determine (0: off). Training picks, per clip, the best of `latent_samples`
    /// candidates (z = 0 and draws from N(0, I)), minimising energy + `latent_penalty`·|z|²; so z
    /// carries at most log2(latent_samples) bits per clip.
    public var latentDim = 0
    public var latentSamples = 8
    public var latentPenalty: Float = 0
    enum CodingKeys: String, CodingKey {
        case frames, imageSize = "image_size", channels, patch, tubelet, encoderDim = "encoder_dim",
             encoderDepth = "encoder_depth", encoderHeads = "encoder_heads", predictorDim = "predictor_dim",
             predictorDepth = "predictor_depth", predictorHeads = "predictor_heads", mlpRatio = "mlp_ratio", distance,
             layerNormEps = "layer_norm_eps", activation, qkvBias = "qkv_bias", deepLevels = "deep_levels",
             latentDim = "latent_dim", latentSamples = "latent_samples", latentPenalty = "latent_penalty"
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
        layerNormEps = try c.decode(.layerNormEps, default: d.layerNormEps)
        activation = try c.decode(.activation, default: d.activation)
        qkvBias = try c.decode(.qkvBias, default: d.qkvBias)
        deepLevels = try c.decode(.deepLevels, default: d.deepLevels)
        latentDim = try c.decode(.latentDim, default: d.latentDim)
        latentSamples = try c.decode(.latentSamples, default: d.latentSamples)
        latentPenalty = try c.decode(.latentPenalty, default: d.latentPenalty)
    }
}

/// The transformer MLP nonlinearity as configs name it.
public enum ActivationName: String, Codable, Sendable, CaseIterable {
    /// Exact (erf) GELU: PyTorch's `nn.GELU()`, timm's default.
    case gelu
    /// tanh-approximated GELU (`nn.GELU(approximate="tanh")`).
    case geluTanh = "gelu_tanh"
    case silu, relu

    public var activation: Activation {
        switch self {
        case .gelu: .gelu
        case .geluTanh: .geluTanh
        case .silu: .silu
        case .relu: .relu
        }
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
    /// V-JEPA 2.1's dense predictive loss: the predictor's outputs at the visible (context) tokens
    /// also regress the target features there, with this weight (`gru` action models with
    /// `model.dense_head`: the GRU state regresses the stepped-from frame's target latent).
    public var dense: Float = 0
    /// How context tokens are weighted in the dense loss: `distance` (V-JEPA 2.1: 1/√d, d the grid
    /// distance to the nearest masked token) or `uniform`.
    public var denseWeighting = DenseWeighting.distance
    /// Models with `model.deep_levels`: one weight per intermediate level.
    public var deep: [Float] = []
    /// Action-conditioned models with `model.proprio`: the distance of the predicted
    /// proprioception to the true one (teacher-forced; in the rollout × `rollout` too).
    public var proprio: Float = 1
    enum CodingKeys: String, CodingKey {
        case prediction, variance, covariance, sigreg, rollout, inverseDynamics = "inverse_dynamics", dense,
             denseWeighting = "dense_weighting", deep, proprio
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
        dense = try c.decode(.dense, default: d.dense)
        denseWeighting = try c.decode(.denseWeighting, default: d.denseWeighting)
        deep = try c.decode(.deep, default: d.deep)
        proprio = try c.decode(.proprio, default: d.proprio)
    }
}

public enum DenseWeighting: String, Codable, Sendable, CaseIterable { case distance, uniform }

/// The loss of one batch and its parts (plain numbers, for logging).
public struct JEPALoss {
    /// The logged values of the terms besides the prediction energy (0 or nil when off).
    public struct Parts: Sendable {
        public var variance: Float = 0, covariance: Float = 0, sigreg: Float = 0
        public var rollout: Float?, inverseDynamics: Float?
        /// Energy of predicting "nothing changes" (each frame's target latent for the next frame):
        /// the baseline an action-conditioned predictor must beat.
        public var copyBaseline: Float?
        /// V-JEPA 2.1 objectives: the dense energy and the energy at each deep level.
        public var dense: Float?, deep: [Float]?
        /// With proprioception: the teacher-forced distance of the predicted proprio part, and that
        /// of "the proprioception does not change".
        public var proprio: Float?, proprioCopyBaseline: Float?
    }
    public let total: Tensor
    public let prediction: Float
    public let parts: Parts
    /// The target features of each shard of the batch (one tensor when it was not split).
    let targetShards: [Tensor]
    /// The batch's target features [..., D] (no graph), for diagnostics; the shards' are joined
    /// only when asked (logging steps), not on every step.
    public var targets: Tensor { targetShards.count == 1 ? targetShards[0] : noGrad { concat(targetShards, axis: 0) } }

    init(total: Tensor, prediction: Float, parts: Parts, targets: Tensor) {
        self.init(total: total, prediction: prediction, parts: parts, targetShards: [targets])
    }

    init(total: Tensor, prediction: Float, parts: Parts, targetShards: [Tensor]) {
        (self.total, self.prediction, self.parts, self.targetShards) = (total, prediction, parts, targetShards)
    }
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
                              eps: config.layerNormEps, qkvBias: config.qkvBias, activation: config.activation.activation,
                              rng: &rng)
        }
        contextEncoder = encoder(&rng)
        targetEncoder = encoder(&rng)
        try targetEncoder.copyParameters(from: contextEncoder)
        ema = EMA(target: targetEncoder.namedParameters())
        predictor = Predictor(encoderDim: config.encoderDim, dim: config.predictorDim, depth: config.predictorDepth,
                              heads: config.predictorHeads, grid: contextEncoder.patchEmbed.grid,
                              mlpRatio: config.mlpRatio, eps: config.layerNormEps, activation: config.activation.activation,
                              qkvBias: config.qkvBias, levelHeads: config.deepLevels.count, latentDim: config.latentDim, rng: &rng)
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

    /// Target features and, for each of `config.deepLevels`, the target encoder's hidden states
    /// after that many blocks; all layer-normalised without affine, [B, N, D] each. No graph.
    public func multiLevelTargetFeatures(_ clips: Tensor) -> (final: Tensor, levels: [Tensor]) {
        noGrad {
            let (output, levels) = targetEncoder.encode(targetEncoder.embed(clips), levels: config.deepLevels)
            let normalized = { (x: Tensor) in x.layerNorm(weight: nil, bias: nil, eps: 1e-6) }
            return (normalized(output), levels.map(normalized))
        }
    }

    /// The loss of a batch: energy between predictions and target features at the target tokens,
    /// plus optional variance/covariance and SIGReg terms on the context encoder's tokens
    /// (SIGReg's random directions come from `sigregSeed`, so a step is reproducible).
    public func loss(clips: Tensor, contextIndices: [[Int]], targetIndices: [[Int]],
                     weights: JEPALossWeights = JEPALossWeights(), sigregSeed: UInt64 = 0) -> JEPALoss {
        let (targets, levelTargets) = multiLevelTargetFeatures(clips)
        let targetAtMask = noGrad { targets.gather(batchIndices: targetIndices) }
        let context = contextEncoder(clips, tokenIndices: contextIndices)
        let latent = config.latentDim > 0
            ? bestLatents(context: noGrad { context.detached() }, targetAtMask: targetAtMask, contextIndices: contextIndices,
                          targetIndices: targetIndices, inference: .sampled(count: config.latentSamples, seed: sigregSeed))
            : nil
        let z = predictor.hidden(context, contextIndices: contextIndices, targetIndices: targetIndices, latent: latent)
        let nc = context.shape[1]
        let atTargets = z.slice(axis: 1, nc..<z.shape[1])
        let prediction = energy(predicted: predictor.predictorProj(atTargets), target: targetAtMask, distance: config.distance)
        var total = prediction * weights.prediction
        let regularized = Regularization.apply(to: context, weights: weights, seed: sigregSeed)
        if let extra = regularized.total { total = total + extra }
        var parts = JEPALoss.Parts(variance: regularized.variance, covariance: regularized.covariance,
                                   sigreg: regularized.sigreg)
        if weights.dense > 0 {
            let dense = denseEnergy(predicted: predictor.predictorProj(z.slice(axis: 1, 0..<nc)), targets: targets,
                                    contextIndices: contextIndices, targetIndices: targetIndices, weighting: weights.denseWeighting)
            total = total + dense * weights.dense
            parts.dense = dense.item
        }
        var deep: [Float] = []
        for (level, (head, target)) in zip(predictor.levelHeads, levelTargets).enumerated()
        where level < weights.deep.count && weights.deep[level] > 0 {
            let e = energy(predicted: head(atTargets), target: noGrad { target.gather(batchIndices: targetIndices) },
                           distance: config.distance)
            total = total + e * weights.deep[level]
            deep.append(e.item)
        }
        if !deep.isEmpty { parts.deep = deep }
        return JEPALoss(total: total, prediction: prediction.item, parts: parts, targets: targets)
    }

    /// Per-clip energy [B] of predicting the target tokens with latents `latent` [B, k] (nil: none).
    /// Differentiable in `latent` and the predictor.
    public func predictionEnergy(context: Tensor, targetAtMask: Tensor, contextIndices: [[Int]], targetIndices: [[Int]],
                                 latent: Tensor?) -> Tensor {
        let z = predictor.hidden(context, contextIndices: contextIndices, targetIndices: targetIndices, latent: latent)
        let predicted = predictor.predictorProj(z.slice(axis: 1, context.shape[1]..<z.shape[1]))
        return energyPerClip(predicted: predicted, target: targetAtMask, distance: config.distance)
    }

    /// The latent [B, k] each clip's energy (+ `latent_penalty`·|z|²) is lowest with, under
    /// `inference`. No graph is kept.
    func bestLatents(context: Tensor, targetAtMask: Tensor, contextIndices: [[Int]], targetIndices: [[Int]],
                     inference: LatentInference) -> Tensor {
        minimizingLatent(batch: context.shape[0], size: config.latentDim, penalty: config.latentPenalty,
                         inference: inference, model: predictor) { z in
            predictionEnergy(context: context, targetAtMask: targetAtMask, contextIndices: contextIndices,
                             targetIndices: targetIndices, latent: z)
        }
    }

    /// Energy of each clip's target tokens given its context, minimised over the latent
    /// (`inference`), and the latent found: ([B], [B, k]). Without a latent (`latent_dim: 0`) the
    /// plain prediction energy.
    public func latentEnergy(clips: Tensor, contextIndices: [[Int]], targetIndices: [[Int]],
                             inference: LatentInference) -> (energy: Tensor, latent: Tensor?) {
        let targetAtMask = noGrad { targetFeatures(clips).gather(batchIndices: targetIndices) }
        let context = noGrad { contextEncoder(clips, tokenIndices: contextIndices) }
        let latent = config.latentDim > 0
            ? bestLatents(context: context, targetAtMask: targetAtMask, contextIndices: contextIndices,
                          targetIndices: targetIndices, inference: inference)
            : nil
        let e = noGrad { predictionEnergy(context: context, targetAtMask: targetAtMask, contextIndices: contextIndices,
                                          targetIndices: targetIndices, latent: latent) }
        return (e, latent)
    }

    /// V-JEPA 2.1's context loss: the energy of the predictor's outputs at the context tokens
    /// against the target features there, each token weighted (`.distance`: 1/√d with d the
    /// grid distance, over time, rows and columns, to the nearest target token).
    func denseEnergy(predicted: Tensor, targets: Tensor, contextIndices: [[Int]], targetIndices: [[Int]],
                     weighting: DenseWeighting) -> Tensor {
        let target = noGrad { targets.gather(batchIndices: contextIndices) }
        let diff = predicted - target
        let perToken = (config.distance == .l1 ? diff.abs() : diff.squared()).mean(axes: [2])   // [B, Nc]
        guard weighting == .distance else { return perToken.mean() }
        let grid = contextEncoder.patchEmbed.grid
        let (h, w) = grid.count == 3 ? (grid[1], grid[2]) : (grid[0], grid[1])
        func position(_ i: Int) -> (Float, Float, Float) { (Float(i / (h * w)), Float(i / w % h), Float(i % w)) }
        var factors: [Float] = []
        for (context, masked) in zip(contextIndices, targetIndices) {
            let targetsAt = masked.map(position)
            for i in context {
                let (t, r, c) = position(i)
                var nearest: Float = .infinity   // squared grid distance
                for (tt, rr, cc) in targetsAt {
                    let (dt, dr, dc) = (tt - t, rr - r, cc - c)
                    nearest = min(nearest, dt * dt + dr * dr + dc * dc)
                }
                let distance = max(nearest, 1).squareRoot()
                factors.append(1 / distance.squareRoot())
            }
        }
        return (perToken * Tensor(factors, shape: perToken.shape)).mean()
    }

    /// Moves the target encoder toward the context encoder: target ← m·target + (1−m)·context.
    public func updateTarget(momentum: Float) {
        ema.update(from: contextEncoder.namedParameters(), momentum: momentum)
    }
}
