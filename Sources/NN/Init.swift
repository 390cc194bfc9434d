import Tensors

/// Parameter initialisers. Every result is a fresh leaf with `requiresGrad = true`.
public enum Init {
    /// PyTorch's fan-in of a weight: `shape[1]` times the receptive field (kernel elements).
    /// `[out, in]` → in; `[out, in, kh, kw]` → in·kh·kw.
    public static func fanIn(_ shape: [Int]) -> Int {
        precondition(shape.count >= 2, "Init.fanIn: weight shape \(shape) needs rank ≥ 2")
        return shape[1...].reduce(1, *)
    }

    /// U(−bound, bound).
    public static func uniform(_ shape: [Int], bound: Float, rng: inout RandomGenerator) -> Tensor {
        Tensor.uniform(shape, low: -bound, high: bound, using: &rng, requiresGrad: true)
    }

    /// PyTorch's default for `nn.Linear` / `nn.Conv*` weights: `kaiming_uniform_(a=√5)`, which
    /// works out to U(−1/√fanIn, 1/√fanIn).
    public static func pytorchDefault(_ shape: [Int], rng: inout RandomGenerator) -> Tensor {
        uniform(shape, bound: 1 / Float(fanIn(shape)).squareRoot(), rng: &rng)
    }

    /// PyTorch's default bias of `nn.Linear` / `nn.Conv*`: U(−1/√fanIn, 1/√fanIn) with the weight's fan-in.
    public static func pytorchDefaultBias(_ count: Int, fanIn: Int, rng: inout RandomGenerator) -> Tensor {
        uniform([count], bound: 1 / Float(fanIn).squareRoot(), rng: &rng)
    }

    /// Normal(0, std) truncated at ±2·std (timm's `trunc_normal_(std=…)` in practice).
    public static func truncatedNormal(_ shape: [Int], std: Float, rng: inout RandomGenerator) -> Tensor {
        Tensor.truncatedNormal(shape, std: std, using: &rng, requiresGrad: true)
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor.zeros(shape, requiresGrad: true) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor.ones(shape, requiresGrad: true) }

    /// Multiplies a tensor's values in place (no autodiff), e.g. I-JEPA's `fix_init_weight`.
    public static func scale(_ t: Tensor, by s: Float) {
        t.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] *= s } }
    }
}

/// How a linear or convolution layer initialises its weight and bias.
public enum WeightInit: Sendable, Equatable {
    /// PyTorch's default: weight and bias U(−1/√fanIn, 1/√fanIn).
    case pytorch
    /// timm / I-JEPA `_init_weights`: weight trunc-normal(std), bias zero.
    case truncatedNormal(std: Float)

    /// The ViT default: trunc-normal(0.02) weights, zero bias.
    public static let vit = WeightInit.truncatedNormal(std: 0.02)

    func weight(_ shape: [Int], rng: inout RandomGenerator) -> Tensor {
        switch self {
        case .pytorch: return Init.pytorchDefault(shape, rng: &rng)
        case .truncatedNormal(let std): return Init.truncatedNormal(shape, std: std, rng: &rng)
        }
    }

    func bias(_ count: Int, fanIn: Int, rng: inout RandomGenerator) -> Tensor {
        switch self {
        case .pytorch: return Init.pytorchDefaultBias(count, fanIn: fanIn, rng: &rng)
        case .truncatedNormal: return Init.zeros([count])
        }
    }
}
