import Tensors

/// 2-D convolution (cross-correlation, as PyTorch `nn.Conv2d`): `weight` [out, in, k, k], `bias` [out].
/// Default init as PyTorch: weight and bias U(−1/√fanIn, 1/√fanIn), fanIn = in·k·k.
public final class Conv2d: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, initialization: WeightInit = .pytorch, rng: inout RandomGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0, "Conv2d: sizes must be positive")
        weight = initialization.weight([outChannels, inChannels, kernel, kernel], rng: &rng)
        self.bias = bias ? initialization.bias(outChannels, fanIn: inChannels * kernel * kernel, rng: &rng) : nil
        self.stride = stride
        self.padding = padding
    }

    /// `x`: [B, in, H, W] → [B, out, H', W'].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv2d(weight: weight, bias: bias, stride: stride, padding: padding)
    }
}

/// The parameters of a PyTorch `nn.Conv3d` whose stride equals its kernel and has no padding
/// (a tubelet patchifier): `weight` [out, in, kt, k, k], `bias` [out]. Only that case is
/// supported; see `PatchEmbed3D`.
public final class Conv3dPatchify: Module {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, temporalKernel: Int, bias: Bool = true,
                initialization: WeightInit = .pytorch, rng: inout RandomGenerator) {
        weight = initialization.weight([outChannels, inChannels, temporalKernel, kernel, kernel], rng: &rng)
        self.bias = bias ? initialization.bias(outChannels, fanIn: inChannels * temporalKernel * kernel * kernel, rng: &rng) : nil
    }
}

extension Tensor {
    /// Cuts [B, C, H, W] into non-overlapping p×p patches: [B, (H/p)·(W/p), C·p·p], patches in
    /// row-major order, each flattened (c, i, j) as a PyTorch conv weight [O, C, p, p] is.
    public func patchified(patch p: Int) -> Tensor {
        precondition(rank == 4, "patchified: input must be [B, C, H, W], got \(shape)")
        let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        precondition(h % p == 0 && w % p == 0, "patchified: image \(h)×\(w) is not divisible by patch \(p)")
        return reshaped([b, c, h / p, p, w / p, p])
            .permuted([0, 2, 4, 1, 3, 5])
            .reshaped([b, (h / p) * (w / p), c * p * p])
    }

    /// Cuts [B, C, T, H, W] into non-overlapping tubelets of `tubelet`×p×p:
    /// [B, (T/tubelet)·(H/p)·(W/p), C·tubelet·p·p], ordered t, then row-major h, w; each tubelet
    /// flattened (c, dt, i, j) as a PyTorch Conv3d weight [O, C, kt, p, p] is.
    public func patchified(patch p: Int, tubelet tt: Int) -> Tensor {
        precondition(rank == 5, "patchified: video input must be [B, C, T, H, W], got \(shape)")
        let (b, c, t, h, w) = (shape[0], shape[1], shape[2], shape[3], shape[4])
        precondition(t % tt == 0 && h % p == 0 && w % p == 0,
                     "patchified: video \(t)×\(h)×\(w) is not divisible by tubelet \(tt) × patch \(p)×\(p)")
        return reshaped([b, c, t / tt, tt, h / p, p, w / p, p])
            .permuted([0, 2, 4, 6, 1, 3, 5, 7])
            .reshaped([b, (t / tt) * (h / p) * (w / p), c * tt * p * p])
    }
}
