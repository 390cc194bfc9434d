import CBLAS
import Foundation

/// Ridge regression from features to targets, fitted in closed form (Cholesky of XᵀX + λI on
/// standardised features, in Double; the normal equations by BLAS). The linear probe of what
/// frozen features encode.
public struct RidgeProbe {
    public let weights: [Double]          // [(D + 1), K], last row the intercept
    let mean: [Double], scale: [Double]
    public let featureCount: Int, outputCount: Int

    /// - Parameters: `features` [N, D] row-major, `targets` [N, K]; `lambda` relative to N.
    public init(features: [Double], targets: [Double], count n: Int, lambda: Double = 1e-2) throws {
        precondition(n > 0 && features.count % n == 0 && targets.count % n == 0, "RidgeProbe: arrays do not hold \(n) rows")
        let d = features.count / n, k = targets.count / n
        (featureCount, outputCount) = (d, k)
        var mean = [Double](repeating: 0, count: d), scale = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += features[i * d + j] / Double(n) } }
        for i in 0..<n { for j in 0..<d { let c = features[i * d + j] - mean[j]; scale[j] += c * c / Double(n) } }
        scale = scale.map { $0 > 1e-12 ? 1 / $0.squareRoot() : 0 }
        (self.mean, self.scale) = (mean, scale)
        let p = d + 1
        // Standardised features with a trailing column of ones (the intercept): Z [n, p].
        var z = [Double](repeating: 1, count: n * p)
        for i in 0..<n { for j in 0..<d { z[i * p + j] = (features[i * d + j] - mean[j]) * scale[j] } }
        var gram = [Double](repeating: 0, count: p * p), rhs = [Double](repeating: 0, count: p * k)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(p), Int32(p), Int32(n), 1, z, Int32(p), z, Int32(p), 0, &gram, Int32(p))
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(p), Int32(k), Int32(n), 1, z, Int32(p), targets, Int32(k), 0, &rhs, Int32(k))
        for a in 0..<d { gram[a * p + a] += lambda * Double(n) }   // the intercept is not penalised
        weights = try Self.solveSPD(gram, rhs, size: p, columns: k)
    }

    /// The ridge penalties `validated` chooses from.
    public static let lambdaGrid: [Double] = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1]

    /// A probe whose penalty is chosen on held-out training rows, as scikit-learn's `RidgeCV` does
    /// with one split: fitted on the first `fitCount` of `count` rows for each penalty of `grid`,
    /// the one with the highest mean R² on the remaining rows is refitted on all rows. Rows of one
    /// episode must not straddle the split (pass whole episodes), so the choice is not made on
    /// frames of episodes it was fitted on.
    public static func validated(features: [Double], targets: [Double], count n: Int, fitCount: Int,
                                 grid: [Double] = lambdaGrid) throws -> (probe: RidgeProbe, lambda: Double) {
        precondition(fitCount > 0 && fitCount < n && !grid.isEmpty, "RidgeProbe.validated: \(fitCount) fitting rows of \(n)")
        let d = features.count / n, k = targets.count / n
        let heldFeatures = Array(features[(fitCount * d)...]), heldTargets = Array(targets[(fitCount * k)...])
        var best: (lambda: Double, r2: Double)?
        for lambda in grid {
            let probe = try RidgeProbe(features: Array(features[..<(fitCount * d)]), targets: Array(targets[..<(fitCount * k)]),
                                       count: fitCount, lambda: lambda)
            let r2 = r2(predicted: probe.predict(heldFeatures, count: n - fitCount), actual: heldTargets, count: n - fitCount)
            let mean = r2.reduce(0, +) / Double(r2.count)
            if best == nil || mean > best!.r2 { best = (lambda, mean) }
        }
        return (try RidgeProbe(features: features, targets: targets, count: n, lambda: best!.lambda), best!.lambda)
    }

    public func predict(_ features: [Double], count n: Int) -> [Double] {
        let d = featureCount, k = outputCount
        var out = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            for c in 0..<k { out[i * k + c] = weights[d * k + c] }
            for j in 0..<d {
                let x = (features[i * d + j] - mean[j]) * scale[j]
                for c in 0..<k { out[i * k + c] += x * weights[j * k + c] }
            }
        }
        return out
    }

    /// Coefficient of determination per output column: 1 − SS_res / SS_tot.
    public static func r2(predicted: [Double], actual: [Double], count n: Int) -> [Double] {
        let k = actual.count / n
        return (0..<k).map { c in
            let m = (0..<n).reduce(0.0) { $0 + actual[$1 * k + c] } / Double(n)
            var res = 0.0, tot = 0.0
            for i in 0..<n {
                res += pow(predicted[i * k + c] - actual[i * k + c], 2)
                tot += pow(actual[i * k + c] - m, 2)
            }
            return tot > 0 ? 1 - res / tot : 0
        }
    }

    /// Solves A X = B for symmetric positive-definite A by Cholesky.
    static func solveSPD(_ a: [Double], _ b: [Double], size p: Int, columns k: Int) throws -> [Double] {
        var l = [Double](repeating: 0, count: p * p)
        for i in 0..<p {
            for j in 0...i {
                var s = a[i * p + j]
                for m in 0..<j { s -= l[i * p + m] * l[j * p + m] }
                if i == j {
                    guard s > 0 else { throw EvaluationError("the probe's normal equations are not positive definite (too few samples?)") }
                    l[i * p + i] = s.squareRoot()
                } else {
                    l[i * p + j] = s / l[j * p + j]
                }
            }
        }
        var x = b
        for c in 0..<k {
            for i in 0..<p {             // L y = b
                var s = x[i * k + c]
                for m in 0..<i { s -= l[i * p + m] * x[m * k + c] }
                x[i * k + c] = s / l[i * p + i]
            }
            for i in stride(from: p - 1, through: 0, by: -1) {   // Lᵀ x = y
                var s = x[i * k + c]
                for m in (i + 1)..<p { s -= l[m * p + i] * x[m * k + c] }
                x[i * k + c] = s / l[i * p + i]
            }
        }
        return x
    }
}

public struct EvaluationError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
