import Tensors

/// Multi-head self-attention as timm's `Attention`: one fused `qkv` projection (dim → 3·dim,
/// laid out (3, heads, headDim)), scaled dot-product attention per head, then `proj`.
public final class MultiHeadAttention: Module {
    public let qkv: Linear
    public let proj: Linear
    public let heads: Int

    public init(_ dim: Int, heads: Int, qkvBias: Bool = true,
                initialization: WeightInit = .pytorch, rng: inout RandomGenerator) {
        precondition(heads > 0 && dim % heads == 0, "MultiHeadAttention: dim \(dim) is not divisible by heads \(heads)")
        qkv = Linear(dim, 3 * dim, bias: qkvBias, initialization: initialization, rng: &rng)
        proj = Linear(dim, dim, initialization: initialization, rng: &rng)
        self.heads = heads
    }

    /// `x`: [B, N, dim]. `mask`: [N, N] or [B, N, N], 1 where query i may attend to key j.
    /// `residual` ([B, N, dim]) is added to the output inside the `proj` product.
    public func callAsFunction(_ x: Tensor, mask: Tensor? = nil, residual: Tensor? = nil) -> Tensor {
        proj(selfAttention(qkv: qkv(x), heads: heads, mask: mask), residual: residual)
    }

    /// Block-causal mask over frames of `tokensPerFrame` tokens each (frame-major order):
    /// token i may attend to token j iff frame(j) ≤ frame(i). Shape [N, N], N = frames·tokensPerFrame.
    public static func blockCausalMask(frames: Int, tokensPerFrame: Int) -> Tensor {
        precondition(frames > 0 && tokensPerFrame > 0, "blockCausalMask: frames and tokensPerFrame must be positive")
        var frameOf: [Int] = []
        frameOf.reserveCapacity(frames * tokensPerFrame)
        for f in 0..<frames { frameOf += Array(repeating: f, count: tokensPerFrame) }
        return blockCausalMask(frameIndices: frameOf)
    }

    /// Block-causal mask over frames with `extraTokensPerFrame` additional tokens (e.g. action or
    /// proprioception tokens) per frame, laid out frame-major: [frame 0: patches and extras |
    /// frame 1: … | …]. Tokens of one frame all see each other, so their order inside the frame
    /// does not matter. N = frames·(tokensPerFrame + extraTokensPerFrame). For other layouts
    /// (e.g. all action tokens at the end) use `blockCausalMask(frameIndices:)`.
    public static func blockCausalMask(frames: Int, tokensPerFrame: Int, extraTokensPerFrame: Int) -> Tensor {
        precondition(extraTokensPerFrame >= 0, "blockCausalMask: extraTokensPerFrame must be ≥ 0")
        return blockCausalMask(frames: frames, tokensPerFrame: tokensPerFrame + extraTokensPerFrame)
    }

    /// General block-causal mask: `frameIndices[i]` is token i's frame (any token order);
    /// token i may attend to token j iff frameIndices[j] ≤ frameIndices[i]. Shape [N, N].
    public static func blockCausalMask(frameIndices: [Int]) -> Tensor {
        let n = frameIndices.count
        precondition(n > 0, "blockCausalMask: no tokens")
        var m = [Float](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n where frameIndices[j] <= frameIndices[i] { m[i * n + j] = 1 }
        }
        return Tensor(m, shape: [n, n])
    }
}
