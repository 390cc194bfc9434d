import Tensors

/// `y = x·Wᵀ + b` over the last axis. `weight` is [out, in] (PyTorch layout), `bias` [out].
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// - Parameter initialization: `.pytorch` (default, as `nn.Linear`: weight and bias
    ///   U(−1/√in, 1/√in)) or `.vit` / `.truncatedNormal(std:)` (timm: trunc-normal weight, zero bias).
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true,
                initialization: WeightInit = .pytorch, rng: inout RandomGenerator) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear: sizes must be positive, got \(inFeatures) → \(outFeatures)")
        weight = initialization.weight([outFeatures, inFeatures], rng: &rng)
        self.bias = bias ? initialization.bias(outFeatures, fanIn: inFeatures, rng: &rng) : nil
    }

    /// `residual` (the output's shape) is added in the same pass, as a skip connection.
    public func callAsFunction(_ x: Tensor, residual: Tensor? = nil) -> Tensor {
        x.linear(weight: weight, bias: bias, residual: residual)
    }
}
