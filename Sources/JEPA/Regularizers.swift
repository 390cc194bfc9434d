import Foundation
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

extension VarianceCovariance {
    /// `varianceLoss` with the statistics taken across samples separately at every position:
    /// `x` is [S, P, D] (S samples of P tokens). Spread that comes only from tokens differing by
    /// position (position embeddings) does not count, so content must vary.
    public static func positionwiseVarianceLoss(_ x: Tensor, gamma: Float = 1, eps: Float = 1e-4) -> Tensor {
        precondition(x.rank == 3, "positionwiseVarianceLoss: x must be [S, P, D], got \(x.shape)")
        let centred = x - x.mean(axes: [0], keepDims: true)
        let std = (centred.squared().mean(axes: [0]) + eps).sqrt()                        // [P, D]
        return (gamma - std).relu().mean()
    }

    /// `covarianceLoss` per position, averaged over positions: `x` is [S, P, D].
    public static func positionwiseCovarianceLoss(_ x: Tensor) -> Tensor {
        precondition(x.rank == 3 && x.shape[0] > 1, "positionwiseCovarianceLoss: x must be [S > 1, P, D], got \(x.shape)")
        let (n, d) = (x.shape[0], x.shape[2])
        let centred = (x - x.mean(axes: [0], keepDims: true)).transposed(0, 1)           // [P, S, D]
        let cov = centred.matmul(centred, transposeSelf: true) / Float(n - 1)             // [P, D, D]
        let diagonal = centred.squared().sum(axes: [1]) / Float(n - 1)                    // [P, D]
        return (cov.squared().sum() - diagonal.squared().sum()) / Float(d * x.shape[1])
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

/// SIGReg (LeJEPA, Balestriero & LeCun 2025): pushes embeddings toward an isotropic standard
/// Gaussian by testing random 1-D projections. For each of `directions` unit directions a, the
/// projections z = x·a are compared with N(0, 1) through the Epps–Pulley statistic
/// ∫ |φ̂(t) − e^{−t²/2}|² e^{−t²/2} dt, with φ̂ the empirical characteristic function
/// (mean cos(tz), mean sin(tz)), by the trapezoid rule on `knots` points of [0, tMax] (the integrand
/// is even in t). Returns the mean over directions, scaled by the sample count as in the paper.
public enum SIGReg {
    public static func loss(_ x: Tensor, directions: Int = 64, knots: Int = 17, tMax: Float = 3,
                            rng: inout RandomGenerator) -> Tensor {
        let d = x.shape[x.rank - 1]
        let flat = x.reshaped([-1, d])
        let n = flat.shape[0]
        let raw = Tensor.randn([d, directions], using: &rng)
        let norms = raw.squared().sum(axes: [0], keepDims: true).sqrt()
        let projections = flat.matmul(raw / norms)                                  // [N, M]
        var total: Tensor?
        let step = tMax / Float(knots - 1)
        for k in 0..<knots {
            let t = Float(k) * step
            let window = Foundation.exp(-0.5 * t * t)
            let weight = (k == 0 || k == knots - 1 ? 0.5 : 1) * step * 2 * window   // ×2: both signs of t
            let tz = projections * t
            let real = tz.cos().mean(axes: [0]) - window
            let imaginary = tz.sin().mean(axes: [0])
            let term = (real.squared() + imaginary.squared()) * weight
            total = total.map { $0 + term } ?? term
        }
        return total!.mean() * Float(n)
    }
}

/// The optional anti-collapse terms of a loss, applied to encoder outputs `x` [..., D].
enum Regularization {
    /// The weighted sum of the enabled terms (nil when all are off) and each term's value. With
    /// `positionwise`, `x` is [S, P, D] and variance/covariance are taken per position. The
    /// statistics are the whole batch's, also when its shards run on several threads.
    static func apply(to x: Tensor, weights: JEPALossWeights, seed: UInt64, positionwise: Bool = false)
        -> (total: Tensor?, variance: Float, covariance: Float, sigreg: Float) {
        let (total, values) = DataParallel.batchStatistic(x) { x in
            terms(of: x, weights: weights, seed: seed, positionwise: positionwise)
        }
        return (total, values.variance, values.covariance, values.sigreg)
    }

    private static func terms(of x: Tensor, weights: JEPALossWeights, seed: UInt64, positionwise: Bool)
        -> (loss: Tensor?, info: (variance: Float, covariance: Float, sigreg: Float)) {
        var total: Tensor?
        func add(_ term: Tensor, _ weight: Float) { total = total.map { $0 + term * weight } ?? term * weight }
        var variance: Float = 0, covariance: Float = 0, sigreg: Float = 0
        if weights.variance > 0 {
            let v = positionwise ? VarianceCovariance.positionwiseVarianceLoss(x) : VarianceCovariance.varianceLoss(x)
            variance = v.item
            add(v, weights.variance)
        }
        if weights.covariance > 0 {
            let c = positionwise ? VarianceCovariance.positionwiseCovarianceLoss(x) : VarianceCovariance.covarianceLoss(x)
            covariance = c.item
            add(c, weights.covariance)
        }
        if weights.sigreg > 0 {
            var rng = RandomGenerator(seed: seed)
            let g = SIGReg.loss(x, rng: &rng)
            sigreg = g.item
            add(g, weights.sigreg)
        }
        return (total, (variance, covariance, sigreg))
    }
}
