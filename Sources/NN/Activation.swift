import Tensors

/// Pointwise nonlinearities used by the layers.
public enum Activation: String, Sendable, CaseIterable {
    /// Exact (erf) GELU, PyTorch's `nn.GELU()` default.
    case gelu
    /// tanh-approximated GELU (`nn.GELU(approximate="tanh")`).
    case geluTanh
    case silu
    case relu
    case tanh

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .gelu: return x.gelu()
        case .geluTanh: return x.gelu(approximate: true)
        case .silu: return x.silu()
        case .relu: return x.relu()
        case .tanh: return x.tanh()
        }
    }
}
