import Config
import Foundation
import NN
import Tensors

/// Sizes of the action-conditioned world model (`kind: action_conditioned`): a frame encoder,
/// its EMA target, and a predictor of the next frame's latent from past latents and actions.
public struct ActionJEPAConfig: Codable, Sendable, Equatable {
    public enum EncoderKind: String, Codable, Sendable, CaseIterable { case vit, conv }
    public enum PredictorKind: String, Codable, Sendable, CaseIterable { case transformer, gru, recurrent }

    /// Clip length T: teacher forcing predicts frames 1..<T from frames 0..<T−1.
    public var frames = 8
    public var imageSize = 64, channels = 1, actionDim = 3
    /// Frames the encoder sees at once: frame t together with the k − 1 frames before it, stacked
    /// as channels (the first frame repeated), so a latent can say how things move, not only where.
    public var frameStack = 1
    public var encoder = EncoderKind.vit
    /// ViT encoder: patch size, width, depth, heads.
    public var patch = 8, encoderDim = 128, encoderDepth = 4, encoderHeads = 4
    /// Conv encoder: one stride-2 stage per width; the latent is the last feature map as tokens.
    public var convWidths = [32, 64, 128]
    /// `transformer` (block-causal over frames and action tokens, on all tokens of a frame),
    /// `gru` (compact: one vector per frame, the encoder's tokens projected to `pooled_dim`; one
    /// GRU step per action, Markov in the latent) or `recurrent` (the same compact latent, a GRU
    /// carried across the frames of the window, so motion can be read from the history).
    public var predictor = PredictorKind.transformer
    public var predictorDim = 128, predictorDepth = 4, predictorHeads = 4
    public var gruHidden = 256
    /// Stacked GRU layers of the `recurrent` predictor (as `torch.nn.GRU`'s `num_layers`): each
    /// layer reads the one below's state, so a step of the dynamics is more than one nonlinearity.
    public var gruLayers = 1
    /// Width of the compact latent of the `gru` and `recurrent` predictors.
    public var pooledDim = 128
    /// Frames c + 1 … c + rollout_steps − 1 (c = `rolloutContext`) are also predicted
    /// autoregressively from frames 0 … c − 1 (feeding back the model's own predictions from frame c
    /// on); `loss.rollout` weighs their energy.
    public var rolloutSteps = 2
    /// Known frames before the rollout of the loss: 1 (frame 0 alone, so the rollout cannot know the
    /// velocity), or more, so it trains the open-loop prediction a rollout from a context makes.
    public var rolloutContext = 1
    /// Hidden width of the inverse-dynamics head (used when `loss.inverse_dynamics` > 0).
    public var inverseDynamicsHidden = 256
    public var mlpRatio: Float = 4
    public var distance = EnergyDistance.l1
    /// Proprioception (DINO-WM, V-JEPA 2-AC): the world-model state is the visual latent with the
    /// first `proprio_scale.count` entries of the dataset's `states` (the grasp world's gripper x,
    /// y, opening) appended, each mapped to 2·s/scale − 1 (about [−1, 1], so its changes weigh
    /// about as much as the unit-variance latent's); the predictor reads and predicts both parts.
    /// `gru` predictor only.
    public var proprio = false
    /// What each proprioceptive entry is divided by (then ×2 − 1): the grasp world's width, height
    /// and largest finger opening.
    public var proprioScale: [Float] = [64, 64, 16]
    /// Latent-variable energy (keys as for `kind: video`): the size k of a per-clip latent `z` fed
    /// to the `recurrent` or `gru` predictor at every step, to carry what the context cannot
    /// determine (from one frame, how the balls move). 0: off. Training picks, per clip, the best of
    /// `latent_samples` candidates (z = 0 and draws from N(0, I)) by teacher-forced energy +
    /// `latent_penalty`·|z|², so z carries at most log2(latent_samples) bits per clip.
    public var zDim = 0
    public var zSamples = 8
    public var zPenalty: Float = 0
    /// V-JEPA 2.1's deep self-supervision for the compact `gru` model with a ViT encoder: the
    /// next frame's target encoder hidden states after these block counts (in [1, encoder_depth − 1]),
    /// read out by the target encoder's own pooling and layer-normalised, are predicted from the
    /// GRU's hidden state by one head per level; weights in `loss.deep`. Empty: off.
    public var deepLevels: [Int] = []
    /// V-JEPA 2.1's dense loss for the `gru` model (weight `loss.dense`): a frame predictor's
    /// "context" is the frame it steps from, so a head also regresses that frame's target latent
    /// from the GRU's new hidden state, which must then keep what it read, not only the change.
    public var denseHead = false

    enum CodingKeys: String, CodingKey {
        case frames, imageSize = "image_size", channels, frameStack = "frame_stack", actionDim = "action_dim", encoder, patch,
             encoderDim = "encoder_dim", encoderDepth = "encoder_depth", encoderHeads = "encoder_heads",
             convWidths = "conv_widths", predictor, predictorDim = "predictor_dim", predictorDepth = "predictor_depth",
             predictorHeads = "predictor_heads", gruHidden = "gru_hidden", gruLayers = "gru_layers", pooledDim = "pooled_dim", rolloutSteps = "rollout_steps", rolloutContext = "rollout_context",
             inverseDynamicsHidden = "inverse_dynamics_hidden", mlpRatio = "mlp_ratio", distance,
             proprio, proprioScale = "proprio_scale",
             zDim = "latent_dim", zSamples = "latent_samples", zPenalty = "latent_penalty",
             deepLevels = "deep_levels", denseHead = "dense_head"
    }
    public init() {}

    /// The defaults of `kind: next_frame`: no actions, a recurrent predictor.
    public static var passive: Self {
        var c = Self()
        c.actionDim = 0
        c.predictor = .recurrent
        return c
    }

    public init(from decoder: Decoder) throws {
        try self.init(from: decoder, defaults: Self())
    }

    init(from decoder: Decoder, defaults d: Self) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        frames = try c.decode(.frames, default: d.frames)
        imageSize = try c.decode(.imageSize, default: d.imageSize)
        channels = try c.decode(.channels, default: d.channels)
        frameStack = try c.decode(.frameStack, default: d.frameStack)
        actionDim = try c.decode(.actionDim, default: d.actionDim)
        encoder = try c.decode(.encoder, default: d.encoder)
        patch = try c.decode(.patch, default: d.patch)
        encoderDim = try c.decode(.encoderDim, default: d.encoderDim)
        encoderDepth = try c.decode(.encoderDepth, default: d.encoderDepth)
        encoderHeads = try c.decode(.encoderHeads, default: d.encoderHeads)
        convWidths = try c.decode(.convWidths, default: d.convWidths)
        predictor = try c.decode(.predictor, default: d.predictor)
        predictorDim = try c.decode(.predictorDim, default: d.predictorDim)
        predictorDepth = try c.decode(.predictorDepth, default: d.predictorDepth)
        predictorHeads = try c.decode(.predictorHeads, default: d.predictorHeads)
        gruHidden = try c.decode(.gruHidden, default: d.gruHidden)
        gruLayers = try c.decode(.gruLayers, default: d.gruLayers)
        pooledDim = try c.decode(.pooledDim, default: d.pooledDim)
        rolloutSteps = try c.decode(.rolloutSteps, default: d.rolloutSteps)
        rolloutContext = try c.decode(.rolloutContext, default: d.rolloutContext)
        inverseDynamicsHidden = try c.decode(.inverseDynamicsHidden, default: d.inverseDynamicsHidden)
        mlpRatio = try c.decode(.mlpRatio, default: d.mlpRatio)
        distance = try c.decode(.distance, default: d.distance)
        proprio = try c.decode(.proprio, default: d.proprio)
        proprioScale = try c.decode(.proprioScale, default: d.proprioScale)
        zDim = try c.decode(.zDim, default: d.zDim)
        zSamples = try c.decode(.zSamples, default: d.zSamples)
        zPenalty = try c.decode(.zPenalty, default: d.zPenalty)
        deepLevels = try c.decode(.deepLevels, default: d.deepLevels)
        denseHead = try c.decode(.denseHead, default: d.denseHead)
    }

    /// The encoder's token grid [h, w].
    public var grid: [Int] {
        switch encoder {
        case .vit: return [imageSize / patch, imageSize / patch]
        case .conv:
            var s = imageSize
            for _ in convWidths { s = (s + 1) / 2 }
            return [s, s]
        }
    }

    /// Channels of the encoder's input: a frame's channels times the frames stacked.
    public var encoderChannels: Int { channels * frameStack }

    /// Width of the backbone's tokens.
    public var tokenDim: Int { encoder == .vit ? encoderDim : convWidths.last ?? 0 }

    /// Whether a frame's latent is one pooled vector (the `gru` and `recurrent` predictors).
    public var isPooled: Bool { predictor != .transformer }

    /// Width D of a latent token.
    public var latentDim: Int { isPooled ? pooledDim : tokenDim }

    /// Tokens N of a frame's latent: the grid, or 1 for the pooled latent.
    public var latentTokens: Int { isPooled ? 1 : grid[0] * grid[1] }

    /// Width P of the proprioceptive part of the state (0 without proprioception).
    public var proprioDim: Int { proprio ? proprioScale.count : 0 }

    /// Width of the world-model state the predictor maps: the visual latent, then the proprioception.
    public var stateDim: Int { latentDim + proprioDim }
}

/// The action-conditioned JEPA world model. A frame's latent is the context encoder's tokens
/// (projected to one vector for the GRU predictor), layer-normalised without affine — the same
/// normalisation as the targets, so predictions can be fed back in a rollout. Targets are the
/// EMA target encoder's latents of the next frames (no gradient).
public final class ActionConditionedJEPA: WorldModel {
    public let config: ActionJEPAConfig
    public let contextEncoder: any FrameEncoder
    public let targetEncoder: any FrameEncoder
    public let predictor: any ActionPredictor
    /// Inverse dynamics: an MLP on each token of frames t and t+1 side by side, averaged over
    /// tokens, predicts the action a_t (trained only when its loss weight is positive, but always
    /// present so checkpoints have one layout). None without actions (`action_dim` 0).
    public let inverseDynamics: MLP?
    let ema: EMA

    public init(config: ActionJEPAConfig, rng: inout RandomGenerator) throws {
        self.config = config
        func encoder(_ rng: inout RandomGenerator) -> any FrameEncoder {
            let backbone: any FrameEncoder
            switch config.encoder {
            case .vit:
                backbone = VisionTransformer(imageSize: config.imageSize, patch: config.patch, channels: config.encoderChannels,
                                             dim: config.encoderDim, depth: config.encoderDepth, heads: config.encoderHeads,
                                             mlpRatio: config.mlpRatio, posEmbed: .sincos, rng: &rng)
            case .conv:
                backbone = ConvEncoder(channels: config.encoderChannels, widths: config.convWidths, pooled: false, rng: &rng)
            }
            guard config.isPooled else { return backbone }
            return ProjectedPoolEncoder(backbone: backbone, tokens: config.grid[0] * config.grid[1],
                                        tokenDim: config.tokenDim, latentDim: config.pooledDim, rng: &rng)
        }
        contextEncoder = encoder(&rng)
        targetEncoder = encoder(&rng)
        try targetEncoder.copyParameters(from: contextEncoder)
        ema = EMA(target: targetEncoder.namedParameters())
        let d = config.latentDim
        switch config.predictor {
        case .transformer:
            predictor = ActionTransformerPredictor(latentDim: d, actionDim: config.actionDim, dim: config.predictorDim,
                                                   depth: config.predictorDepth, heads: config.predictorHeads,
                                                   grid: config.grid, frames: config.frames - 1,
                                                   mlpRatio: config.mlpRatio, rng: &rng)
        case .gru:
            predictor = ActionGRUPredictor(latentDim: d, actionDim: config.actionDim, hidden: config.gruHidden,
                                           proprioDim: config.proprioDim, zDim: config.zDim,
                                           levelHeads: config.deepLevels.count, denseHead: config.denseHead, rng: &rng)
        case .recurrent:
            predictor = RecurrentPredictor(latentDim: d, actionDim: config.actionDim, hidden: config.gruHidden,
                                           layers: config.gruLayers, window: config.frames - 1, zDim: config.zDim, rng: &rng)
        }
        inverseDynamics = config.actionDim > 0
            ? MLP(2 * d, hidden: config.inverseDynamicsHidden, out: config.actionDim, rng: &rng) : nil
        precondition(config.proprioDim == 0 || config.predictor == .gru,
                     "ActionConditionedJEPA: proprioception needs the gru predictor, got \(config.predictor)")
        precondition((config.deepLevels.isEmpty && !config.denseHead) || (config.predictor == .gru && config.encoder == .vit),
                     "ActionConditionedJEPA: deep and dense heads need the gru predictor and a vit encoder")
        precondition(config.zDim == 0 || config.predictor != .transformer,
                     "ActionConditionedJEPA: a latent variable needs the gru or recurrent predictor, got \(config.predictor)")
    }

    public var checkpointModules: [String: Module] {
        var modules: [String: Module] = ["context_encoder": contextEncoder, "target_encoder": targetEncoder, "predictor": predictor]
        modules["inverse_dynamics"] = inverseDynamics
        return modules
    }

    public var trainableParameters: [NamedParameter] {
        checkpointModules.filter { $0.key != "target_encoder" }
            .sorted { $0.key < $1.key }
            .flatMap { prefix, module in module.namedParameters().map { (name: "\(prefix).\($0.name)", tensor: $0.tensor) } }
    }

    /// Encoder output per frame before normalisation: [B, T, N, D] (N = 1 for the compact latent).
    /// `frames`: [B, T, C, H, W].
    func rawLatents(_ frames: Tensor, encoder: any FrameEncoder) -> Tensor {
        let (b, t) = (frames.shape[0], frames.shape[1])
        precondition(frames.rank == 5, "ActionConditionedJEPA: frames must be [B, T, C, H, W], got \(frames.shape)")
        let input = Self.stacked(frames, count: config.frameStack)
        let tokens = encoder.tokens(input.reshaped([b * t] + Array(input.shape[2...])))   // [B·T, N, D]
        return tokens.reshaped([b, t, tokens.shape[1], tokens.shape[2]])
    }

    /// Frames [B, T, C, H, W] → [B, T, k·C, H, W]: frame t's channels after those of frames
    /// t − k + 1 … t − 1 (oldest first; frames before the clip are its first frame).
    static func stacked(_ frames: Tensor, count k: Int) -> Tensor {
        guard k > 1 else { return frames }
        let t = frames.shape[1]
        let first = frames.slice(axis: 1, 0..<1)
        let lagged = (1..<k).reversed().map { lag in
            lag >= t ? concat(Array(repeating: first, count: t), axis: 1)
                : concat(Array(repeating: first, count: lag) + [frames.slice(axis: 1, 0..<(t - lag))], axis: 1)
        }
        return concat(lagged + [frames], axis: 2)
    }

    static func normalized(_ x: Tensor) -> Tensor { x.layerNorm(weight: nil, bias: nil, eps: 1e-6) }

    /// Latents of frames [B, T, C, H, W] by the target encoder, the space goals and predictions
    /// live in: [B, T, N, D]. No graph.
    public func encode(_ frames: Tensor) -> Tensor {
        noGrad { Self.normalized(rawLatents(frames, encoder: targetEncoder)) }
    }

    /// Target latents [B, T, 1, D] (as `encode`) and, for each of `config.deepLevels`, the target
    /// encoder's hidden tokens after that many blocks read out by its pooling layer and
    /// layer-normalised, [B, T, 1, D] each: one pass of the target encoder. No graph.
    public func multiLevelTargets(_ frames: Tensor) -> (final: Tensor, levels: [Tensor]) {
        guard !config.deepLevels.isEmpty else { return (encode(frames), []) }
        guard let pooled = targetEncoder as? ProjectedPoolEncoder, let vit = pooled.backbone as? VisionTransformer else {
            preconditionFailure("multiLevelTargets: deep levels need a vit backbone under the pooled latent")
        }
        return noGrad {
            let (b, t) = (frames.shape[0], frames.shape[1])
            let input = Self.stacked(frames, count: config.frameStack)
            let (output, levels) = vit.encode(vit.embed(input.reshaped([b * t] + Array(input.shape[2...]))), levels: config.deepLevels)
            let readOut = { (tokens: Tensor) in
                Self.normalized(pooled.pool(tokens.reshaped([b * t, 1, -1])).reshaped([b, t, 1, self.config.latentDim]))
            }
            return (readOut(output), levels.map(readOut))
        }
    }

    /// Proprioception [B, T, S] (S ≥ P raw state entries, e.g. the dataset's `states`) → the
    /// state's proprio part [B, T, 1, P]: 2·s/scale − 1.
    public func proprioState(_ raw: Tensor) -> Tensor {
        let p = config.proprioDim
        precondition(p > 0 && raw.rank == 3 && raw.shape[2] >= p,
                     "proprioState: \(raw.shape) does not hold the model's \(p) proprioceptive entries per frame")
        let scale = Tensor(config.proprioScale.map { 2 / $0 }, shape: [p])
        return (raw.slice(axis: 2, 0..<p) * scale - 1).reshaped([raw.shape[0], raw.shape[1], 1, p])
    }

    /// The world-model state of frames: their latents [B, T, N, D], with proprioception [B, T, S]
    /// appended when the model has it ([B, T, 1, D + P]); without, the latents themselves.
    public func state(latents: Tensor, proprio: Tensor?) -> Tensor {
        guard config.proprioDim > 0 else { return latents }
        guard let proprio else { preconditionFailure("ActionConditionedJEPA.state: the model reads proprioception; none given") }
        return concat([latents, proprioState(proprio)], axis: 3)
    }

    /// The visual latent [.., D] and the proprioceptive part [.., P] of states [.., D + P].
    public func visualPart(_ state: Tensor) -> Tensor {
        config.proprioDim == 0 ? state : state.slice(axis: 3, 0..<config.latentDim)
    }
    public func proprioPart(_ state: Tensor) -> Tensor { state.slice(axis: 3, config.latentDim..<config.stateDim) }

    /// Autoregressive prediction. `latents`: [B, K, N, D] (K ≥ 1 known frames; with proprioception
    /// the states [B, K, 1, D + P] of `state(latents:proprio:)`, and so are the predictions); `actions`:
    /// [B, K − 1 + H, A], the actions taken at every known frame but the last, then the H actions
    /// to roll out. Returns the predicted latents of the next H frames, [B, H, N, D]. The
    /// predictor reads at most its window of most recent frames.
    /// With a latent variable (`latent_dim` > 0), `z` [B, k] is the clips' latent (nil: z = 0).
    public func rollout(latents: Tensor, actions: Tensor, z: Tensor? = nil) -> Tensor {
        let k = latents.shape[1], horizon = actions.shape[1] - (k - 1)
        precondition(horizon >= 1, "rollout: \(actions.shape[1]) actions for \(k) known frames leave nothing to predict")
        if let recurrent = predictor as? RecurrentPredictor, k + horizon - 1 <= recurrent.window {
            // Within the window the GRU's state after a frame is all the next step needs: carry it
            // on, one frame per step, instead of re-reading the window every step (linear, not
            // quadratic, in the horizon; the same values).
            var (out, hidden) = recurrent.run(latents: latents, actions: actions.slice(axis: 1, 0..<k), z: z, from: nil)
            var last = out.slice(axis: 1, (k - 1)..<k)
            var predicted = [last]
            for step in 1..<horizon {
                (out, hidden) = recurrent.run(latents: last, actions: actions.slice(axis: 1, (k - 1 + step)..<(k + step)), z: z, from: hidden)
                last = out
                predicted.append(last)
            }
            return concat(predicted, axis: 1)
        }
        var sequence = (0..<k).map { latents.slice(axis: 1, $0..<($0 + 1)) }
        var predicted: [Tensor] = []
        for step in 0..<horizon {
            let end = k + step, start = max(0, end - predictor.window)
            let next = predictor(latents: concat(Array(sequence[start..<end]), axis: 1),
                                 actions: actions.slice(axis: 1, start..<end), z: z)
            let last = next.slice(axis: 1, (end - start - 1)..<(end - start))
            sequence.append(last)
            predicted.append(last)
        }
        return concat(predicted, axis: 1)
    }

    /// The loss of a batch of clips `frames` [B, T, C, H, W] with `actions` [B, T, A] (action t
    /// leads from frame t to t+1): teacher forcing (every frame t+1 predicted from the context
    /// latents of frames ≤ t), the rollout energy of the rollout_steps − 1 frames after frame
    /// rollout_context predicted from the frames before it
    /// through the model's own predictions, inverse dynamics (MSE of the predicted actions), and the
    /// variance/covariance/SIGReg terms on the context encoder's (normalised) latents. With
    /// proprioception, `proprio` [B, T, S] is each frame's proprioceptive state (the clip loader's
    /// `states`); the predictor reads it with the latents, and the distance of its predicted
    /// proprio part to the true one (teacher-forced and in the rollout) is added × `weights.proprio`.
    public func loss(frames: Tensor, actions: Tensor, proprio: Tensor? = nil, weights: JEPALossWeights,
                     sigregSeed: UInt64 = 0) -> JEPALoss {
        let (b, t) = (frames.shape[0], frames.shape[1])
        precondition(t >= 2 && actions.shape == [b, t, config.actionDim],
                     "ActionConditionedJEPA.loss: frames \(frames.shape) and actions \(actions.shape) do not match")
        let z = Self.normalized(rawLatents(frames, encoder: contextEncoder))
        // With the target's weights equal to the context's (EMA momentum 0: the next-frame and grasp recipes),
        // its latents are the context pass's: encoding every frame a second time would cost a
        // third of the encoder's work for the same numbers.
        let (targets, levelTargets) = config.deepLevels.isEmpty && targetMatchesContext
            ? (z.detached(), []) : multiLevelTargets(frames)
        precondition(config.proprioDim == 0 || proprio != nil, "ActionConditionedJEPA.loss: the model reads proprioception; none given")
        let trueProprio = config.proprioDim > 0 ? proprio.map(proprioState) : nil
        let states = trueProprio.map { concat([z, $0], axis: 3) } ?? z
        /// The proprio part's distance of predicted states to the true states of frames `range`.
        func proprioError(_ predicted: Tensor, _ range: Range<Int>) -> Tensor? {
            trueProprio.map { energy(predicted: proprioPart(predicted), target: $0.slice(axis: 1, range), distance: config.distance) }
        }
        let inputs = states.slice(axis: 1, 0..<(t - 1)), taken = actions.slice(axis: 1, 0..<(t - 1))
        let next = noGrad { targets.slice(axis: 1, 1..<t) }
        // Each clip's latent variable: the best of the sampled candidates for its teacher-forced energy.
        let zClip = config.zDim == 0 ? nil
            : minimizingLatent(batch: b, size: config.zDim, penalty: config.zPenalty,
                               inference: .sampled(count: config.zSamples, seed: sigregSeed), model: predictor) { z in
                energyPerClip(predicted: visualPart(predictor(latents: inputs, actions: taken, z: z)), target: next, distance: config.distance)
            }
        let gru = predictor as? ActionGRUPredictor
        let stepped = gru?.outputs(latents: inputs, actions: taken, z: zClip)
        let teacherForced = stepped?.prediction ?? predictor(latents: inputs, actions: taken, z: zClip)
        let prediction = energy(predicted: visualPart(teacherForced), target: next, distance: config.distance)
        var total = prediction * weights.prediction
        var parts = JEPALoss.Parts()
        if let gru, let hidden = stepped?.hidden {
            // V-JEPA 2.1: the stepped-from frame's own target (dense) and the next frame's targets
            // at the intermediate levels (deep), from the hidden state the prediction is read from.
            if weights.dense > 0, let head = gru.denseHead {
                let value = energy(predicted: head(hidden), target: noGrad { targets.slice(axis: 1, 0..<(t - 1)) }, distance: config.distance)
                parts.dense = value.item
                total = total + value * weights.dense
            }
            var deep: [Float] = []
            for (level, (head, target)) in zip(gru.levelHeads, levelTargets).enumerated()
            where level < weights.deep.count && weights.deep[level] > 0 {
                let value = energy(predicted: head(hidden), target: noGrad { target.slice(axis: 1, 1..<t) }, distance: config.distance)
                deep.append(value.item)
                total = total + value * weights.deep[level]
            }
            if !deep.isEmpty { parts.deep = deep }
        }
        parts.copyBaseline = noGrad {
            energy(predicted: targets.slice(axis: 1, 0..<(t - 1)), target: next, distance: config.distance).item
        }
        if let value = proprioError(teacherForced, 1..<t), let trueProprio {
            parts.proprio = value.item
            parts.proprioCopyBaseline = energy(predicted: trueProprio.slice(axis: 1, 0..<(t - 1)),
                                               target: trueProprio.slice(axis: 1, 1..<t), distance: config.distance).item
            total = total + value * weights.proprio
        }
        let c = max(1, min(config.rolloutContext, t - 2)), r = min(config.rolloutSteps, t - c)
        if weights.rollout > 0, r >= 2 {
            // Frame c's prediction from frames 0…c−1 is the teacher-forced one (the predictor is causal).
            let first = teacherForced.slice(axis: 1, (c - 1)..<c)
            let rolled = rollout(latents: concat([states.slice(axis: 1, 0..<c), first], axis: 1),
                                 actions: actions.slice(axis: 1, 0..<(c + r - 1)), z: zClip)
            let value = energy(predicted: visualPart(rolled), target: noGrad { targets.slice(axis: 1, (c + 1)..<(c + r)) },
                               distance: config.distance)
            parts.rollout = value.item
            total = total + value * weights.rollout
            if let proprioValue = proprioError(rolled, (c + 1)..<(c + r)) {
                total = total + proprioValue * (weights.rollout * weights.proprio)
            }
        }
        if weights.inverseDynamics > 0, let inverseDynamics {
            let pairs = concat([z.slice(axis: 1, 0..<(t - 1)), z.slice(axis: 1, 1..<t)], axis: 3)   // [B, T−1, N, 2D]
            let predicted = inverseDynamics(pairs).mean(axes: [2])
            let value = (predicted - actions.slice(axis: 1, 0..<(t - 1))).squared().mean()
            parts.inverseDynamics = value.item
            total = total + value * weights.inverseDynamics
        }
        // On the normalised latents (the space the predictor reads and the targets live in), per
        // token position across the B·T frames: spread across positions alone would otherwise
        // satisfy the terms without the latents describing the frame's content.
        let regularized = Regularization.apply(to: z.reshaped([b * t, z.shape[2], z.shape[3]]), weights: weights,
                                               seed: sigregSeed, positionwise: true)
        if let extra = regularized.total { total = total + extra }
        parts.variance = regularized.variance
        parts.covariance = regularized.covariance
        parts.sigreg = regularized.sigreg
        return JEPALoss(total: total, prediction: prediction.item, parts: parts, targets: targets)
    }

    /// Per-clip energy [B] of frames `contextFrames ..< contextFrames + horizon` of `latents`
    /// [B, T, N, D] (target-encoder latents, or states) predicted open loop from the frames before,
    /// with `actions` [B, contextFrames − 1 + horizon, A]; the latent variable chosen per clip by
    /// `inference` (the energy is then the minimum over z, without the penalty), returned with it
    /// (nil for a model without one). No graph.
    public func continuationEnergy(latents: Tensor, actions: Tensor, contextFrames: Int, horizon: Int,
                                   inference: LatentInference = .zero) -> (energy: Tensor, z: Tensor?) {
        precondition(contextFrames >= 1 && horizon >= 1 && latents.shape[1] >= contextFrames + horizon
                     && actions.shape[1] == contextFrames - 1 + horizon,
                     "continuationEnergy: \(latents.shape[1]) frames and \(actions.shape[1]) actions for \(contextFrames) context frames and horizon \(horizon)")
        let context = latents.slice(axis: 1, 0..<contextFrames)
        let target = visualPart(latents.slice(axis: 1, contextFrames..<(contextFrames + horizon)))
        func energy(_ z: Tensor?) -> Tensor {
            energyPerClip(predicted: visualPart(rollout(latents: context, actions: actions, z: z)), target: target, distance: config.distance)
        }
        guard config.zDim > 0 else { return (noGrad { energy(nil) }, nil) }
        let z = minimizingLatent(batch: latents.shape[0], size: config.zDim, penalty: config.zPenalty,
                                 inference: inference, model: predictor) { energy($0) }
        return (noGrad { energy(z) }, z)
    }

    /// Moves the target encoder toward the context encoder: target ← m·target + (1−m)·context.
    public func updateTarget(momentum: Float) {
        ema.update(from: contextEncoder.namedParameters(), momentum: momentum)
    }

    /// Whether the target encoder's weights are bit for bit the context encoder's (after an update
    /// with momentum 0, or before the first update), so that both encode a frame identically.
    public var targetMatchesContext: Bool {
        zip(contextEncoder.namedParameters(), targetEncoder.namedParameters()).allSatisfy { c, t in
            c.tensor.count == t.tensor.count && memcmp(c.tensor.ptr, t.tensor.ptr, c.tensor.count * MemoryLayout<Float>.stride) == 0
        }
    }
}
