import Foundation
import Tensors

/// Surprise measured against what a predictor usually gets wrong: a Gaussian fitted to its
/// prediction errors r = predicted − target on ordinary clips, and a frame's energy is the squared
/// Mahalanobis distance of its error, (r − μ)ᵀ (Σ + λI)⁻¹ (r − μ) / D — the negative
/// log-likelihood up to constants, about 1 on ordinary frames.
///
/// Why: the plain L2 energy weighs every latent direction by its raw size, so an error the model
/// makes all the time (where a ball goes after hitting another) hides one it almost never makes
/// (a ball not bouncing off a wall, a slow drift in a direction it always predicts to the pixel).
/// Whitening by the usual errors puts each direction on the scale of its own noise. λ = `shrinkage`
/// × the mean error variance keeps directions the latent never uses from dividing by ~0.
public struct CalibratedEnergy {
    /// Size of one prediction error (latent tokens × latent width).
    public let dimension: Int
    /// Errors the Gaussian was fitted to.
    public let samples: Int
    public let shrinkage: Double
    let mean: Tensor          // [D]
    let whitening: Tensor     // [D, D] lower-triangular W = L⁻¹ with Σ + λI = L Lᵀ, so (Σ + λI)⁻¹ = WᵀW

    /// Fits the Gaussian to `residuals` [M, D] (one prediction error per row, M ≥ 2).
    public init(residuals: Tensor, shrinkage: Double = 1e-3) throws {
        guard residuals.rank == 2, residuals.shape[0] >= 2, residuals.shape[1] >= 1 else {
            throw EvaluationError("calibration needs at least 2 prediction errors as rows of a [M, D] matrix, got shape \(residuals.shape)")
        }
        guard shrinkage.isFinite, shrinkage >= 0 else {
            throw EvaluationError("the calibration shrinkage must be finite and ≥ 0, got \(shrinkage)")
        }
        let (m, d) = (residuals.shape[0], residuals.shape[1])
        guard residuals.scalars.allSatisfy(\.isFinite) else {
            throw EvaluationError("calibration: the model's prediction errors are not all finite")
        }
        mean = residuals.mean(axes: [0])
        let centred = residuals - mean
        let gram = centred.matmul(centred, transposeSelf: true).scalars
        var covariance = gram.map { Double($0) / Double(m - 1) }
        let meanVariance = (0..<d).reduce(0.0) { $0 + covariance[$1 * d + $1] } / Double(d)
        for i in 0..<d { covariance[i * d + i] += shrinkage * meanVariance }
        guard let lower = choleskyFactor(covariance, d) else {
            throw EvaluationError("calibration: the prediction errors of the \(m) calibration frames span too few directions "
                                  + "to whiten (are the clips static?); use more or livelier clips, or a shrinkage above \(shrinkage)")
        }
        whitening = Tensor(invertLowerTriangular(lower, d).map(Float.init), shape: [d, d])
        (dimension, samples, self.shrinkage) = (d, m, shrinkage)
    }

    /// Energy of each row of `residuals` [M, D]: ‖W (r − μ)‖² / D, shape [M].
    public func energy(residuals: Tensor) -> Tensor {
        precondition(residuals.rank == 2 && residuals.shape[1] == dimension,
                     "CalibratedEnergy: residuals \(residuals.shape) are not [M, \(dimension)]")
        return (residuals - mean).matmul(whitening, transposeOther: true).squared().mean(axes: [1])
    }
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
