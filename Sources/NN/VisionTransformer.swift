import Tensors

/// A ViT encoder as timm / I-JEPA / V-JEPA build it (keys `patch_embed`, `pos_embed`,
/// `blocks.i`, `norm`); no class token, no head.
///
/// Forward: patch tokens + position embedding → optional token selection (I-JEPA's context
/// encoder keeps only the context patches) → blocks → final LayerNorm.
///
/// Initialisation (timm / I-JEPA `_init_weights`): every Linear trunc-normal(0.02) with zero
/// bias; LayerNorm ones/zeros; the patch-embedding conv trunc-normal(0.02) with zero bias (as
/// I-JEPA, whose `_init_weights` also covers `nn.Conv2d`); a learned `pos_embed` trunc-normal(0.02).
/// Then, by default (`rescaleResidualWeights`), I-JEPA's `fix_init_weight`: block l's
/// `attn.proj.weight` and `mlp.fc2.weight` are divided by √(2·(l+1)).
public final class VisionTransformer: Module {
    public enum PositionEmbedding: Sendable, Equatable {
        /// A trained `pos_embed` parameter [1, N, dim].
        case learned
        /// The fixed sin-cos table (2-D MAE/I-JEPA convention for images, 3-D V-JEPA for videos);
        /// not a parameter.
        case sincos
    }

    public let patchEmbed: any PatchEmbedding
    /// Learned position embedding [1, N, dim]; nil with `.sincos`.
    public let posEmbed: Tensor?
    public let blocks: [TransformerBlock]
    public let norm: LayerNorm
    /// Fixed sin-cos table [1, N, dim]; nil with `.learned`.
    public let fixedPosEmbed: Constant?

    public var dim: Int { patchEmbed.dim }
    /// Number of patch tokens N.
    public var tokenCount: Int { patchEmbed.tokenCount }

    /// The designated initialiser: any patch embedding (2-D or 3-D).
    public init(patchEmbed: any PatchEmbedding, depth: Int, heads: Int, mlpRatio: Float = 4,
                posEmbed: PositionEmbedding = .learned, eps: Float = 1e-6, qkvBias: Bool = true,
                activation: Activation = .gelu, initStd: Float = 0.02, rescaleResidualWeights: Bool = true,
                rng: inout RandomGenerator) {
        let dim = patchEmbed.dim, n = patchEmbed.tokenCount
        self.patchEmbed = patchEmbed
        switch posEmbed {
        case .learned:
            self.posEmbed = Init.truncatedNormal([1, n, dim], std: initStd, rng: &rng)
            fixedPosEmbed = nil
        case .sincos:
            self.posEmbed = nil
            let g = patchEmbed.grid
            let table = g.count == 3
                ? SinCosPositionEmbedding.table3D(dim: dim, frames: g[0], gridHeight: g[1], gridWidth: g[2])
                : SinCosPositionEmbedding.table2D(dim: dim, gridHeight: g[0], gridWidth: g[1])
            fixedPosEmbed = Constant(table.reshaped([1, n, dim]))
        }
        var blocks: [TransformerBlock] = []
        for l in 0..<depth {
            let block = TransformerBlock(dim, heads: heads, mlpRatio: mlpRatio, qkvBias: qkvBias, eps: eps,
                                         activation: activation, initialization: .truncatedNormal(std: initStd),
                                         rng: &rng)
            if rescaleResidualWeights {
                let s = 1 / (2 * Float(l + 1)).squareRoot()
                Init.scale(block.attn.proj.weight, by: s)
                Init.scale(block.mlp.fc2.weight, by: s)
            }
            blocks.append(block)
        }
        self.blocks = blocks
        norm = LayerNorm(dim, eps: eps)
    }

    /// Image ViT: [B, channels, imageSize, imageSize] → [B, (imageSize/patch)², dim].
    public convenience init(imageSize: Int, patch: Int, channels: Int, dim: Int, depth: Int, heads: Int,
                            mlpRatio: Float = 4, posEmbed: PositionEmbedding = .learned, eps: Float = 1e-6,
                            qkvBias: Bool = true, activation: Activation = .gelu, initStd: Float = 0.02,
                            rescaleResidualWeights: Bool = true, rng: inout RandomGenerator) {
        let pe = PatchEmbed(channels: channels, dim: dim, patch: patch, imageSize: imageSize,
                            initialization: .truncatedNormal(std: initStd), rng: &rng)
        self.init(patchEmbed: pe, depth: depth, heads: heads, mlpRatio: mlpRatio, posEmbed: posEmbed, eps: eps,
                  qkvBias: qkvBias, activation: activation, initStd: initStd,
                  rescaleResidualWeights: rescaleResidualWeights, rng: &rng)
    }

    /// Video ViT (V-JEPA): [B, channels, frames, imageSize, imageSize] →
    /// [B, (frames/tubelet)·(imageSize/patch)², dim].
    public convenience init(frames: Int, tubelet: Int, imageSize: Int, patch: Int, channels: Int, dim: Int,
                            depth: Int, heads: Int, mlpRatio: Float = 4, posEmbed: PositionEmbedding = .sincos,
                            eps: Float = 1e-6, qkvBias: Bool = true, activation: Activation = .gelu,
                            initStd: Float = 0.02, rescaleResidualWeights: Bool = true,
                            rng: inout RandomGenerator) {
        let pe = PatchEmbed3D(channels: channels, dim: dim, patch: patch, tubelet: tubelet, frames: frames,
                              imageSize: imageSize, initialization: .truncatedNormal(std: initStd), rng: &rng)
        self.init(patchEmbed: pe, depth: depth, heads: heads, mlpRatio: mlpRatio, posEmbed: posEmbed, eps: eps,
                  qkvBias: qkvBias, activation: activation, initStd: initStd,
                  rescaleResidualWeights: rescaleResidualWeights, rng: &rng)
    }

    /// The position embedding added to the patch tokens, [1, N, dim] (learned or fixed).
    public var positionEmbedding: Tensor { posEmbed ?? fixedPosEmbed!.value }

    /// Patch tokens plus position embedding, [B, N, dim], before any selection or block.
    public func embed(_ x: Tensor) -> Tensor {
        patchEmbed(x) + positionEmbedding
    }

    /// Runs the blocks and the final norm on tokens [B, K, dim].
    public func encode(_ tokens: Tensor, mask: Tensor? = nil) -> Tensor {
        var h = tokens
        for block in blocks { h = block(h, mask: mask) }
        return norm(h)
    }

    /// `encode` that also returns the hidden states after `levels` blocks (counts in 1..<depth,
    /// increasing), before any norm: the intermediate targets of deep self-supervision.
    public func encode(_ tokens: Tensor, mask: Tensor? = nil, levels: [Int]) -> (output: Tensor, levels: [Tensor]) {
        var h = tokens
        var taken: [Tensor] = []
        for (i, block) in blocks.enumerated() {
            h = block(h, mask: mask)
            if levels.contains(i + 1) { taken.append(h) }
        }
        return (norm(h), taken)
    }

    /// `x`: images [B, C, H, W] (or videos [B, C, T, H, W]) → [B, K, dim].
    /// - Parameters:
    ///   - tokenIndices: per batch element, the patch indices to keep (all lists the same length),
    ///     applied after adding position embeddings and before the blocks; nil keeps all N tokens.
    ///   - mask: attention mask over the kept tokens, [K, K] or [B, K, K] (1 = may attend).
    public func callAsFunction(_ x: Tensor, tokenIndices: [[Int]]? = nil, mask: Tensor? = nil) -> Tensor {
        var tokens = embed(x)
        if let tokenIndices { tokens = tokens.gather(batchIndices: tokenIndices) }
        return encode(tokens, mask: mask)
    }
}
