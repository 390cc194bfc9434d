import Tensors

/// VICReg-style anti-collapse terms on a set of embeddings `x` of shape [..., D], treating every
/// leading position as a sample (eb_jepa applies them to encoder outputs across batch and tokens).
public enum VarianceCovariance {
    /// mean over dimensions of relu(γ − √(Var + ε)): pushes every dimension's spread up to γ.
    public static func varianceLoss(_ x: Tensor, gamma: Float = 1, eps: Float = 1e-4) -> Tensor {
        let flat = x.reshaped([-1, x.shape[x.rank - 1]])
        let centred = flat - flat.mean(axes: [0], keepDims: true)
        let std = (centred.squared().mean(axes: [0]) + eps).sqrt()
        return (gamma - std).relu().mean()
    }

    /// Σ of squared off-diagonal covariances / D: decorrelates the dimensions.
    public static func covarianceLoss(_ x: Tensor) -> Tensor {
        let d = x.shape[x.rank - 1]
        let flat = x.reshaped([-1, d])
        let n = flat.shape[0]
        precondition(n > 1, "covarianceLoss: needs at least 2 samples, got shape \(x.shape)")
        let centred = flat - flat.mean(axes: [0], keepDims: true)
        let cov = centred.matmul(centred, transposeSelf: true) / Float(n - 1)          // [D, D]
        let diagonal = centred.squared().sum(axes: [0]) / Float(n - 1)                   // [D]
        return (cov.squared().sum() - diagonal.squared().sum()) / Float(d)
    }
}

/// Collapse diagnostics of embeddings [..., D] (samples = leading positions).
public struct CollapseStats: Sendable, Equatable, Codable {
    /// Mean over dimensions of the standard deviation across samples (0 = collapsed).
    public var meanStd: Float
    /// Smallest per-dimension standard deviation.
    public var minStd: Float
    /// Fraction of dimensions whose std is below `deadThreshold`.
    public var deadFraction: Float

    public static let deadThreshold: Float = 1e-3

    public init(_ x: Tensor) {
        let std = noGrad { () -> Tensor in
            let flat = x.reshaped([-1, x.shape[x.rank - 1]])
            let centred = flat - flat.mean(axes: [0], keepDims: true)
            return centred.squared().mean(axes: [0]).sqrt()
        }
        let s = std.scalars
        meanStd = s.reduce(0, +) / Float(max(s.count, 1))
        minStd = s.min() ?? 0
        deadFraction = Float(s.filter { $0 < Self.deadThreshold }.count) / Float(max(s.count, 1))
    }
}
