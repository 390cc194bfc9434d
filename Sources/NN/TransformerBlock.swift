import Tensors

/// Pre-norm transformer block as timm's `Block` (keys `norm1`, `attn`, `norm2`, `mlp`):
/// `x = x + attn(norm1(x), mask)`, then `x = x + mlp(norm2(x))`.
public final class TransformerBlock: Module {
    public let norm1: LayerNorm
    public let attn: MultiHeadAttention
    public let norm2: LayerNorm
    public let mlp: MLP

    /// The MLP hidden width is `Int(Float(dim) · mlpRatio)`, as timm.
    public init(_ dim: Int, heads: Int, mlpRatio: Float = 4, qkvBias: Bool = true, eps: Float = 1e-6,
                activation: Activation = .gelu, initialization: WeightInit = .pytorch,
                rng: inout RandomGenerator) {
        norm1 = LayerNorm(dim, eps: eps)
        attn = MultiHeadAttention(dim, heads: heads, qkvBias: qkvBias, initialization: initialization, rng: &rng)
        norm2 = LayerNorm(dim, eps: eps)
        mlp = MLP(dim, hidden: Int(Float(dim) * mlpRatio), activation: activation,
                  initialization: initialization, rng: &rng)
    }

    /// `x`: [B, N, dim]; `mask` as `MultiHeadAttention`.
    public func callAsFunction(_ x: Tensor, mask: Tensor? = nil) -> Tensor {
        let h = attn(norm1(x), mask: mask, residual: x)
        return mlp(norm2(h), residual: h)
    }
}
