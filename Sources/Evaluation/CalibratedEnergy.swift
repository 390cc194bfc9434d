import Foundation
import Tensors

/// How far the calibration covariance is pulled towards a multiple of the identity.
public enum CovarianceShrinkage: Equatable, Sendable {
    /// Ledoit–Wolf's estimate of the intensity that minimises the expected error (as
    /// scikit-learn's `LedoitWolf`): more shrinkage when the errors are few for their dimension.
    case ledoitWolf
    /// A given intensity δ in [0, 1].
    case fixed(Double)

    /// As given on a command line: `auto` or the number.
    public var argument: String {
        switch self {
        case .ledoitWolf: return "auto"
        case let .fixed(delta): return String(delta)
        }
    }
}

/// Surprise measured against what a predictor usually gets wrong: a Gaussian fitted to its
/// prediction errors r = predicted − target on ordinary clips, and a frame's energy is the squared
/// Mahalanobis distance of its error, (r − μ)ᵀ Σ⁻¹ (r − μ) / D — the negative log-likelihood up to
/// constants, 1 on average over the fitted errors when unshrunk.
///
/// Why: the plain L2 energy weighs every latent direction by its raw size, so an error the model
/// makes all the time (where a ball goes after hitting another) hides one it almost never makes
/// (a ball not bouncing off a wall, a slow drift in a direction it always predicts to the pixel).
/// Whitening by the usual errors puts each direction on the scale of its own noise. The covariance
/// is shrunk, Σ = (1 − δ) S + δ · (tr S / D) · I, so that directions the latent hardly uses do not
/// divide by ~0.
public struct CalibratedEnergy {
    /// Size of one prediction error (latent tokens × latent width).
    public let dimension: Int
    /// Errors the Gaussian was fitted to.
    public let samples: Int
    /// The shrinkage intensity δ used.
    public let shrinkage: Double
    /// Mean prediction error μ, [D].
    public let mean: Tensor
    /// Lower-triangular W = L⁻¹ with Σ = L Lᵀ, so Σ⁻¹ = WᵀW; [D, D].
    public let whitening: Tensor

    /// A fit stored earlier (`mean` [D], `whitening` [D, D] lower-triangular, finite).
    public init(mean: Tensor, whitening: Tensor, samples: Int, shrinkage: Double) throws {
        let d = mean.count
        guard mean.rank == 1, d >= 1, whitening.shape == [d, d], samples >= 2, (0...1).contains(shrinkage) else {
            throw EvaluationError("a stored calibration needs a mean [D], a whitening [D, D], at least 2 samples and a shrinkage in [0, 1]; "
                                  + "got \(mean.shape), \(whitening.shape), \(samples), \(shrinkage)")
        }
        let w = whitening.scalars
        guard mean.scalars.allSatisfy(\.isFinite), w.allSatisfy(\.isFinite),
              (0..<d).allSatisfy({ i in w[i * d + i] > 0 && ((i + 1)..<d).allSatisfy { w[i * d + $0] == 0 } }) else {
            throw EvaluationError("a stored calibration's whitening must be finite and lower-triangular with a positive diagonal")
        }
        (self.mean, self.whitening, dimension, self.samples, self.shrinkage) = (mean, whitening, d, samples, shrinkage)
    }

    /// Fits the Gaussian to `residuals` [M, D] (one prediction error per row, M ≥ 2).
    public init(residuals: Tensor, shrinkage: CovarianceShrinkage = .ledoitWolf) throws {
        guard residuals.rank == 2, residuals.shape[0] >= 2, residuals.shape[1] >= 1 else {
            throw EvaluationError("calibration needs at least 2 prediction errors as rows of a [M, D] matrix, got shape \(residuals.shape)")
        }
        if case let .fixed(delta) = shrinkage, !(delta >= 0 && delta <= 1) {
            throw EvaluationError("the calibration shrinkage must lie in [0, 1], got \(delta)")
        }
        let (m, d) = (residuals.shape[0], residuals.shape[1])
        guard residuals.scalars.allSatisfy(\.isFinite) else {
            throw EvaluationError("calibration: the model's prediction errors are not all finite")
        }
        mean = residuals.mean(axes: [0])
        let centred = residuals - mean
        let gram = centred.matmul(centred, transposeSelf: true).scalars.map(Double.init)
        var covariance = gram.map { $0 / Double(m) }
        let meanVariance = (0..<d).reduce(0.0) { $0 + covariance[$1 * d + $1] } / Double(d)
        let delta: Double
        switch shrinkage {
        case .fixed(let given): delta = given
        case .ledoitWolf: delta = ledoitWolfShrinkage(centred: centred.scalars, gram: gram, m, d)
        }
        for i in 0..<(d * d) { covariance[i] *= 1 - delta }
        for i in 0..<d { covariance[i * d + i] += delta * meanVariance }
        guard let lower = choleskyFactor(covariance, d) else {
            throw EvaluationError("calibration: the prediction errors of the \(m) calibration frames span too few directions "
                                  + "to whiten (are the clips static?); use more or livelier clips, or more shrinkage than \(delta)")
        }
        whitening = Tensor(invertLowerTriangular(lower, d).map(Float.init), shape: [d, d])
        (dimension, samples, self.shrinkage) = (d, m, delta)
    }

    /// Energy of each row of `residuals` [M, D]: ‖W (r − μ)‖² / D, shape [M].
    public func energy(residuals: Tensor) -> Tensor {
        precondition(residuals.rank == 2 && residuals.shape[1] == dimension,
                     "CalibratedEnergy: residuals \(residuals.shape) are not [M, \(dimension)]")
        return (residuals - mean).matmul(whitening, transposeOther: true).squared().mean(axes: [1])
    }
}

extension CalibratedEnergy {
    /// Prediction errors fitted over a set of fits (one per number of steps ahead).
    public static func samples(of fits: [Int: CalibratedEnergy]) -> Int { fits.values.reduce(0) { $0 + $1.samples } }
}

/// Ledoit & Wolf (2004)'s shrinkage intensity towards (tr S / D) · I for the centred rows `x`
/// [m, d] with Gram matrix XᵀX, in scikit-learn's form; 0 when the sample is already spherical.
func ledoitWolfShrinkage(centred x: [Float], gram: [Double], _ m: Int, _ d: Int) -> Double {
    let n = Double(m), p = Double(d)
    let trace = (0..<d).reduce(0.0) { $0 + gram[$1 * d + $1] } / n
    let mu = trace / p
    // Σ_ij (X²ᵀX²)_ij = Σ_k (Σ_i x_ki²)², the fourth moments the estimator needs.
    var beta0 = 0.0
    for k in 0..<m {
        var rowSquares = 0.0
        for i in 0..<d { let v = Double(x[k * d + i]); rowSquares += v * v }
        beta0 += rowSquares * rowSquares
    }
    let delta0 = gram.reduce(0.0) { $0 + $1 * $1 } / (n * n)
    let delta = (delta0 - 2 * mu * trace + p * mu * mu) / p
    let beta = min((beta0 / n - delta0) / (p * n), delta)
    return beta <= 0 || delta <= 0 ? 0 : beta / delta
}

/// Lower-triangular L with L Lᵀ = `a` (row-major d × d), or nil unless `a` is positive definite.
func choleskyFactor(_ a: [Double], _ d: Int) -> [Double]? {
    var l = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
        for j in 0...i {
            var s = a[i * d + j]
            for k in 0..<j { s -= l[i * d + k] * l[j * d + k] }
            if i == j {
                guard s > 0, s.isFinite else { return nil }
                l[i * d + i] = s.squareRoot()
            } else {
                l[i * d + j] = s / l[j * d + j]
            }
        }
    }
    return l
}

/// The inverse of a lower-triangular matrix with a non-zero diagonal (row-major d × d), by
/// forward substitution one column of the identity at a time.
func invertLowerTriangular(_ l: [Double], _ d: Int) -> [Double] {
    var inverse = [Double](repeating: 0, count: d * d)
    for column in 0..<d {
        for i in column..<d {
            var s = i == column ? 1.0 : 0.0
            for k in column..<i { s -= l[i * d + k] * inverse[k * d + column] }
            inverse[i * d + column] = s / l[i * d + i]
        }
    }
    return inverse
}
