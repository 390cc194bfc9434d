import Foundation
import NN
import Tensors

/// Maps images to tokens: [B, C, H, W] → [B, N, D]. The frame encoders of the action-conditioned
/// world model (an image ViT, or the convolutional encoder's final feature map as tokens).
public protocol FrameEncoder: Module {
    func tokens(_ images: Tensor) -> Tensor
}

extension VisionTransformer: FrameEncoder {
    public func tokens(_ images: Tensor) -> Tensor { self(images) }
}

extension ConvEncoder: FrameEncoder {
    public func tokens(_ images: Tensor) -> Tensor { self(images) }
}

/// The compact latent of a frame: the backbone's tokens, flattened and linearly projected to one
/// vector ([B, 1, D]). A learned pooling: unlike a mean over tokens it keeps where things are, which
/// mostly blank frames otherwise average away.
public final class ProjectedPoolEncoder: Module, FrameEncoder {
    public let backbone: any FrameEncoder
    public let pool: Linear

    public init(backbone: any FrameEncoder, tokens: Int, tokenDim: Int, latentDim: Int, rng: inout RandomGenerator) {
        self.backbone = backbone
        pool = Linear(tokens * tokenDim, latentDim, rng: &rng)
    }

    public func tokens(_ images: Tensor) -> Tensor {
        let t = backbone.tokens(images)
        return pool(t.reshaped([t.shape[0], 1, -1]))
    }
}

/// A predictor of the next frame's latent from the latents of frames ≤ t and the actions taken at
/// frames ≤ t. `latents`: [B, T, N, D], `actions`: [B, T, A]; the output at t is the prediction
/// of frame t+1's latent, [B, T, N, D]. Causal: output t never depends on inputs after t.
public protocol ActionPredictor: Module {
    /// How many past frames the prediction reads (1 = Markov in the latent).
    var window: Int { get }
    func callAsFunction(latents: Tensor, actions: Tensor) -> Tensor
    /// The prediction with a per-clip latent variable `z` [B, k] (nil: none); only the
    /// `RecurrentPredictor` takes one.
    func callAsFunction(latents: Tensor, actions: Tensor, z: Tensor?) -> Tensor
}

extension ActionPredictor {
    public func callAsFunction(latents: Tensor, actions: Tensor, z: Tensor?) -> Tensor {
        precondition(z == nil, "\(type(of: self)) takes no latent variable z")
        return self(latents: latents, actions: actions)
    }
}

/// V-JEPA 2-AC style: per frame one action token followed by the frame's N latent tokens,
/// projected to the predictor width and tagged with fixed sin-cos positions (time for the action
/// token; time, row, column for the latent tokens); a transformer with block-causal attention
/// (every token sees all tokens of its own and earlier frames); the latent tokens' outputs,
/// projected back, are added to the frame's latent (the predictor learns the change).
public final class ActionTransformerPredictor: Module, ActionPredictor {
    /// None without actions: the frame's first token then carries only its time position.
    public let actionEmbed: Linear?
    public let latentEmbed: Linear
    public let blocks: [TransformerBlock]
    public let norm: LayerNorm
    public let proj: Linear
    /// [frames, N, P] and [frames, P]; not parameters.
    let latentPositions: Constant
    let actionPositions: Constant
    let maskCache = MaskCache()

    public let window: Int

    /// - Parameters:
    ///   - grid: the encoder's token grid [h, w] (N = h·w).
    ///   - frames: the longest input sequence (the sliding window of a rollout).
    public init(latentDim: Int, actionDim: Int, dim: Int, depth: Int, heads: Int, grid: [Int], frames: Int,
                mlpRatio: Float = 4, initStd: Float = 0.02, rng: inout RandomGenerator) {
        actionEmbed = actionDim > 0 ? Linear(actionDim, dim, initialization: .truncatedNormal(std: initStd), rng: &rng) : nil
        latentEmbed = Linear(latentDim, dim, initialization: .truncatedNormal(std: initStd), rng: &rng)
        blocks = (0..<depth).map { l in
            let block = TransformerBlock(dim, heads: heads, mlpRatio: mlpRatio,
                                         initialization: .truncatedNormal(std: initStd), rng: &rng)
            let s = 1 / (2 * Float(l + 1)).squareRoot()
            Init.scale(block.attn.proj.weight, by: s)
            Init.scale(block.mlp.fc2.weight, by: s)
            return block
        }
        norm = LayerNorm(dim)
        // Zero-initialised so that an untrained predictor predicts "nothing changes" exactly.
        proj = Linear(dim, latentDim, initialization: .truncatedNormal(std: initStd), rng: &rng)
        Init.scale(proj.weight, by: 0)
        latentPositions = Constant(SinCosPositionEmbedding.table3D(dim: dim, frames: frames, gridHeight: grid[0],
                                                                   gridWidth: grid[1]).reshaped([frames, grid[0] * grid[1], dim]))
        actionPositions = Constant(SinCosPositionEmbedding.table1D(dim: dim, length: frames))
        window = frames
        super.init()
    }

    public func callAsFunction(latents z: Tensor, actions a: Tensor) -> Tensor {
        let (b, t, n) = (z.shape[0], z.shape[1], z.shape[2])
        precondition(z.rank == 4 && a.rank == 3 && a.shape[0] == b && a.shape[1] == t,
                     "ActionTransformerPredictor: latents \(z.shape) and actions \(a.shape) do not match")
        precondition(t <= window, "ActionTransformerPredictor: \(t) frames exceed the predictor's \(window)")
        let p = latentEmbed.weight.shape[0]
        let x = latentEmbed(z) + latentPositions.value.slice(axis: 0, 0..<t)
        let positions = actionPositions.value.slice(axis: 0, 0..<t)
        let u = (actionEmbed.map { $0(a) + positions } ?? positions.expanded(to: [b, t, p])).reshaped([b, t, 1, p])
        var h = concat([u, x], axis: 2).reshaped([b, t * (n + 1), p])
        let mask = maskCache.mask(frames: t, tokensPerFrame: n + 1)
        for block in blocks { h = block(h, mask: mask) }
        h = norm(h).reshaped([b, t, n + 1, p]).slice(axis: 2, 1..<(n + 1))
        return z + proj(h)
    }
}

/// Block-causal masks by frame count, built once (locked: data-parallel shards share the model).
final class MaskCache {
    private var masks: [Int: Tensor] = [:]
    private let lock = NSLock()
    func mask(frames: Int, tokensPerFrame: Int) -> Tensor {
        lock.lock()
        defer { lock.unlock() }
        if let m = masks[frames] { return m }
        let m = MultiHeadAttention.blockCausalMask(frames: frames, tokensPerFrame: tokensPerFrame)
        masks[frames] = m
        return m
    }
}

/// The compact predictor: a GRU step per frame on a pooled latent (N = 1, `ProjectedPoolEncoder`). The latent, projected,
/// is the hidden state; the embedded action is the input; the new hidden state, projected back, is
/// added to the latent. Markov in the latent, so it is cheap to roll out (planning).
///
/// With proprioception (`proprioDim` P > 0) the state is [latent ‖ proprio], [B, T, 1, D + P]: the
/// proprio is embedded into the hidden state next to the latent (`proprio_embed`, so `in_proj`
/// keeps its shape) and a second head predicts its change (`proprio_head`).
public final class ActionGRUPredictor: Module, ActionPredictor {
    public let actionEmbed: Linear
    public let inProj: Linear
    public let cell: GRUCell
    public let outProj: Linear
    /// None without proprioception (made after the other layers, so the random stream of a model
    /// without it is unchanged).
    public let proprioEmbed: Linear?
    public let proprioHead: Linear?
    /// Embeds the latent variable z [B, k] into the GRU's hidden input (no bias: z = 0 is the model
    /// without one); none when `zDim` is 0. Made last, so the random stream of a model without it is unchanged.
    public let zEmbed: Linear?
    /// V-JEPA 2.1 objectives: deep self-supervision's heads, one per intermediate target level, from
    /// the new hidden state to the level's pooled target (`level_heads.i`); and the dense loss's
    /// head, from the new hidden state back to the context frame's own target latent (`dense_head`).
    public let levelHeads: [Linear]
    public let denseHead: Linear?
    let latentDim: Int, proprioDim: Int

    public var window: Int { 1 }

    public init(latentDim: Int, actionDim: Int, hidden: Int, proprioDim: Int = 0, zDim: Int = 0,
                levelHeads: Int = 0, denseHead: Bool = false, rng: inout RandomGenerator) {
        actionEmbed = Linear(actionDim, hidden, rng: &rng)
        inProj = Linear(latentDim, hidden, rng: &rng)
        cell = GRUCell(hidden, hidden, rng: &rng)
        outProj = Linear(hidden, latentDim, initialization: .truncatedNormal(std: 0.02), rng: &rng)
        Init.scale(outProj.weight, by: 0)   // an untrained predictor predicts "nothing changes"
        if proprioDim > 0 {
            proprioEmbed = Linear(proprioDim, hidden, rng: &rng)
            let head = Linear(hidden, proprioDim, initialization: .truncatedNormal(std: 0.02), rng: &rng)
            Init.scale(head.weight, by: 0)
            proprioHead = head
        } else {
            (proprioEmbed, proprioHead) = (nil, nil)
        }
        zEmbed = zDim > 0 ? Linear(zDim, hidden, bias: false, rng: &rng) : nil
        // From a generator derived without advancing `rng`: every other parameter of the model,
        // those made after the predictor too, starts from the same numbers with or without the heads.
        var ahead = rng
        var headRNG = RandomGenerator(seed: ahead.next() ^ 0xD1B5_4A32_D192_ED03)
        self.levelHeads = (0..<levelHeads).map { _ in Linear(hidden, latentDim, rng: &headRNG) }
        self.denseHead = denseHead ? Linear(hidden, latentDim, rng: &headRNG) : nil
        (self.latentDim, self.proprioDim) = (latentDim, proprioDim)
    }

    public func callAsFunction(latents z: Tensor, actions a: Tensor) -> Tensor {
        self(latents: z, actions: a, z: nil)
    }

    public func callAsFunction(latents z: Tensor, actions a: Tensor, z latent: Tensor?) -> Tensor {
        outputs(latents: z, actions: a, z: latent).prediction
    }

    /// The prediction and the GRU's new hidden state [B, T, 1, H] it is read from (which the
    /// deep and dense heads read too).
    public func outputs(latents z: Tensor, actions a: Tensor, z latent: Tensor?) -> (prediction: Tensor, hidden: Tensor) {
        let (b, t) = (z.shape[0], z.shape[1])
        precondition(z.rank == 4 && z.shape[2] == 1 && z.shape[3] == latentDim + proprioDim && a.rank == 3 && a.shape[0] == b && a.shape[1] == t,
                     "ActionGRUPredictor: states \(z.shape) (expected [B, T, 1, \(latentDim + proprioDim)]) and actions \(a.shape) do not match")
        let action = actionEmbed(a).reshaped([b, t, 1, -1])
        let visual = proprioDim > 0 ? z.slice(axis: 3, 0..<latentDim) : z
        let proprio = proprioDim > 0 ? z.slice(axis: 3, latentDim..<(latentDim + proprioDim)) : nil
        var hidden = inProj(visual)                                                      // [B, T, 1, H]
        if let proprioEmbed, let proprio { hidden = hidden + proprioEmbed(proprio) }
        if let latent { hidden = hidden + embedded(latent, batch: b).expanded(to: hidden.shape) }
        let h = cell(action, hidden)
        guard let proprioHead, let proprio else { return (z + outProj(h), h) }
        return (concat([visual + outProj(h), proprio + proprioHead(h)], axis: 3), h)
    }

    /// z [B, k] embedded as [B, 1, 1, H].
    func embedded(_ latent: Tensor, batch b: Int) -> Tensor {
        guard let zEmbed else { preconditionFailure("ActionGRUPredictor: built without a latent variable; got z \(latent.shape)") }
        precondition(latent.shape == [b, zEmbed.inFeatures], "ActionGRUPredictor: z must be [\(b), \(zEmbed.inFeatures)], got \(latent.shape)")
        return zEmbed(latent).reshaped([b, 1, 1, -1])
    }
}

/// The compact latent with memory: a GRU carried across the frames of the window reads each
/// frame's latent (and the action taken there) and its state, projected back, is added to the
/// frame's latent. Unlike `ActionGRUPredictor` it can read motion from the history, which a
/// passive world (no actions) needs: one frame does not say where a ball is going.
public final class RecurrentPredictor: Module, ActionPredictor {
    public let inProj: Linear
    /// None without actions.
    public let actionEmbed: Linear?
    /// Embeds the latent variable z [B, k] into the GRU's input at every step (no bias, so z = 0
    /// is the model without one); none when `zDim` is 0.
    public let zEmbed: Linear?
    public let cell: GRUCell
    /// Layers 2… of a stacked GRU, each reading the state of the layer below (keys `upper_cells.i`).
    public let upperCells: [GRUCell]
    public let outProj: Linear
    public let window: Int

    public init(latentDim: Int, actionDim: Int, hidden: Int, layers: Int = 1, window: Int, zDim: Int = 0,
                rng: inout RandomGenerator) {
        precondition(layers >= 1, "RecurrentPredictor: needs at least one GRU layer, got \(layers)")
        inProj = Linear(latentDim, hidden, rng: &rng)
        actionEmbed = actionDim > 0 ? Linear(actionDim, hidden, rng: &rng) : nil
        zEmbed = zDim > 0 ? Linear(zDim, hidden, bias: false, rng: &rng) : nil
        cell = GRUCell(hidden, hidden, rng: &rng)
        upperCells = (1..<layers).map { _ in GRUCell(hidden, hidden, rng: &rng) }
        outProj = Linear(hidden, latentDim, initialization: .truncatedNormal(std: 0.02), rng: &rng)
        Init.scale(outProj.weight, by: 0)   // an untrained predictor predicts "nothing changes"
        self.window = window
    }

    public func callAsFunction(latents z: Tensor, actions a: Tensor) -> Tensor {
        self(latents: z, actions: a, z: nil)
    }

    public func callAsFunction(latents: Tensor, actions a: Tensor, z latent: Tensor?) -> Tensor {
        run(latents: latents, actions: a, z: latent, from: nil).prediction
    }

    /// The predictions for every frame of `latents` [B, T, 1, D] and the GRU state after the last
    /// frame [B, layers, H], carried on from `hidden` (nil: the start of the window). `run` on frames
    /// one at a time, each from the state the previous call returned, computes what one `run` over
    /// all of them does.
    public func run(latents: Tensor, actions a: Tensor, z latent: Tensor?, from hidden: Tensor?) -> (prediction: Tensor, hidden: Tensor) {
        let (b, t) = (latents.shape[0], latents.shape[1])
        precondition(latents.rank == 4 && latents.shape[2] == 1 && t >= 1 && a.rank == 3 && a.shape[0] == b && a.shape[1] == t,
                     "RecurrentPredictor: latents \(latents.shape) (expected [B, T, 1, D]) and actions \(a.shape) do not match")
        var x = inProj(latents.reshaped([b, t, -1]))                             // [B, T, H]
        if let actionEmbed { x = x + actionEmbed(a) }
        if let latent {
            guard let zEmbed else { preconditionFailure("RecurrentPredictor: built without a latent variable; got z \(latent.shape)") }
            precondition(latent.shape == [b, zEmbed.weight.shape[1]],
                         "RecurrentPredictor: z must be [\(b), \(zEmbed.weight.shape[1])], got \(latent.shape)")
            x = x + zEmbed(latent).reshaped([b, 1, -1]).expanded(to: x.shape)
        }
        let cells = [cell] + upperCells
        var h: [Tensor?] = cells.indices.map { layer in hidden?.slice(axis: 1, layer..<(layer + 1)) }
        var states: [Tensor] = []
        for step in 0..<t {
            var input = x.slice(axis: 1, step..<(step + 1))                        // [B, 1, H]
            for (layer, layerCell) in cells.enumerated() {
                input = layerCell(input, h[layer])
                h[layer] = input
            }
            states.append(input)
        }
        let last = cells.count == 1 ? h[0]! : concat(h.map { $0! }, axis: 1)
        return (latents + outProj(concat(states, axis: 1)).reshaped(latents.shape), last)
    }
}
