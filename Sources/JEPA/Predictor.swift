import NN
import Tensors

/// The JEPA predictor (I-JEPA/V-JEPA): a narrow transformer that reads the context encoder's
/// tokens and a learned mask token at every target position, each tagged with its fixed sin-cos
/// position, and predicts the target encoder's features there.
/// Parameter names follow I-JEPA (`predictor_embed`, `mask_token`, `predictor_blocks.N.…`,
/// `predictor_norm`, `predictor_proj`).
public final class Predictor: Module {
    public let predictorEmbed: Linear
    public let maskToken: Tensor
    public let predictorBlocks: [TransformerBlock]
    public let predictorNorm: LayerNorm
    public let predictorProj: Linear
    /// Deep self-supervision (V-JEPA 2.1): one head per intermediate target level, from the
    /// predictor's output tokens to the encoder width (`level_heads.i`); empty without it.
    public let levelHeads: [Linear]
    /// Latent-variable energy: embeds a latent `z` [B, k] that is added to every target query
    /// (`latent_embed`); nil without one.
    public let latentEmbed: Linear?
    /// Sin-cos positions of every token of the grid, [N, predictorDim] (not a parameter).
    let positions: Constant

    /// - Parameters:
    ///   - grid: token grid as the encoder's patch embedding reports it ([T, H, W] or [H, W]).
    public init(encoderDim: Int, dim: Int, depth: Int, heads: Int, grid: [Int], mlpRatio: Float = 4,
                eps: Float = 1e-6, activation: Activation = .gelu, qkvBias: Bool = true, initStd: Float = 0.02,
                levelHeads: Int = 0, latentDim: Int = 0, rng: inout RandomGenerator) {
        predictorEmbed = Linear(encoderDim, dim, initialization: .truncatedNormal(std: initStd), rng: &rng)
        maskToken = Init.truncatedNormal([1, 1, dim], std: initStd, rng: &rng)
        predictorBlocks = (0..<depth).map { l in
            let block = TransformerBlock(dim, heads: heads, mlpRatio: mlpRatio, qkvBias: qkvBias, eps: eps,
                                         activation: activation, initialization: .truncatedNormal(std: initStd), rng: &rng)
            let s = 1 / (2 * Float(l + 1)).squareRoot()   // I-JEPA's residual rescaling
            for w in [block.attn.proj.weight, block.mlp.fc2.weight] { w.assign(w.scaled(by: s)) }
            return block
        }
        predictorNorm = LayerNorm(dim, eps: eps)
        predictorProj = Linear(dim, encoderDim, initialization: .truncatedNormal(std: initStd), rng: &rng)
        self.levelHeads = (0..<levelHeads).map { _ in Linear(dim, encoderDim, initialization: .truncatedNormal(std: initStd), rng: &rng) }
        latentEmbed = latentDim > 0 ? Linear(latentDim, dim, initialization: .truncatedNormal(std: initStd), rng: &rng) : nil
        let table = grid.count == 3
            ? SinCosPositionEmbedding.table3D(dim: dim, frames: grid[0], gridHeight: grid[1], gridWidth: grid[2])
            : SinCosPositionEmbedding.table2D(dim: dim, gridHeight: grid[0], gridWidth: grid[1])
        positions = Constant(table.reshaped([-1, dim]))
        super.init()
    }

    /// Predicts target-position features.
    /// - Parameters:
    ///   - context: context-encoder tokens [B, Nc, encoderDim], in the order of `contextIndices`.
    ///   - contextIndices / targetIndices: grid positions per clip (equal counts across the batch).
    /// - Returns: [B, Nt, encoderDim].
    public func callAsFunction(_ context: Tensor, contextIndices: [[Int]], targetIndices: [[Int]]) -> Tensor {
        let z = hidden(context, contextIndices: contextIndices, targetIndices: targetIndices)
        let nc = context.shape[1]
        return predictorProj(z.slice(axis: 1, nc..<z.shape[1]))
    }

    /// The predictor's normalised output tokens [B, Nc + Nt, predictorDim]: the context tokens
    /// first, then one per target position. `predictor_proj` (or a level head) maps them to
    /// encoder features.
    public func hidden(_ context: Tensor, contextIndices: [[Int]], targetIndices: [[Int]], latent: Tensor? = nil) -> Tensor {
        let b = context.shape[0], nc = context.shape[1]
        precondition(contextIndices.count == b && targetIndices.count == b,
                     "Predictor: \(contextIndices.count) context and \(targetIndices.count) target index lists for batch \(b)")
        precondition(contextIndices.allSatisfy { $0.count == nc },
                     "Predictor: context has \(nc) tokens but an index list has a different length")
        let nt = targetIndices[0].count
        let dim = maskToken.shape[2]
        let table = positions.value.reshaped([1, -1, dim]).expanded(to: [b, positions.value.shape[0], dim])
        let x = predictorEmbed(context) + table.gather(batchIndices: contextIndices)
        var m = maskToken.expanded(to: [b, nt, dim]) + table.gather(batchIndices: targetIndices)
        if let latent, let latentEmbed {
            precondition(latent.shape == [b, latentEmbed.weight.shape[1]], "Predictor: latent must be [\(b), \(latentEmbed.weight.shape[1])], got \(latent.shape)")
            m = m + latentEmbed(latent).reshaped([b, 1, dim]).expanded(to: [b, nt, dim])
        }
        var z = concat([x, m], axis: 1)
        for block in predictorBlocks { z = block(z) }
        return predictorNorm(z)
    }
}

extension Predictor: FixedTensors {
    /// I-JEPA stores this table as the frozen parameter `predictor_pos_embed` [1, N, dim].
    public var fixedTensors: [String: Tensor] {
        ["predictor_pos_embed": positions.value.reshaped([1] + positions.value.shape)]
    }
}
