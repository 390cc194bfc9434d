import Foundation
import Tensors

/// Effective rank of embeddings (RankMe, Garrido et al. 2023): exp of the entropy of the
/// normalised singular values of the centred sample matrix. D for isotropic features, 1 for
/// features that vary along one direction only — a collapse diagnostic that std alone misses.
public func effectiveRank(_ x: Tensor) -> Double {
    let d = x.shape[x.rank - 1]
    let gram = noGrad { () -> Tensor in
        let flat = x.reshaped([-1, d])
        let centred = flat - flat.mean(axes: [0], keepDims: true)
        return centred.matmul(centred, transposeSelf: true)     // [D, D] = Σ σ² v vᵀ
    }
    let singular = symmetricEigenvalues(gram.scalars.map(Double.init), size: d).map { $0 > 0 ? $0.squareRoot() : 0 }
    let total = singular.reduce(0, +)
    guard total > 0 else { return 0 }
    let entropy = singular.reduce(0.0) { h, s in
        let p = s / total + 1e-12
        return h - p * log(p)
    }
    return exp(entropy)
}

/// Eigenvalues of a symmetric matrix (row-major, size × size) by cyclic Jacobi rotations:
/// simple, accurate, and fast enough for the few-hundred-dimensional features it is used on.
func symmetricEigenvalues(_ matrix: [Double], size n: Int, sweeps: Int = 50) -> [Double] {
    var a = matrix
    for _ in 0..<sweeps {
        var off = 0.0
        for p in 0..<n { for q in (p + 1)..<n { off += a[p * n + q] * a[p * n + q] } }
        if off < 1e-22 * Swift.max(1, (0..<n).reduce(0.0) { $0 + a[$1 * n + $1] * a[$1 * n + $1] }) { break }
        for p in 0..<n {
            for q in (p + 1)..<n where a[p * n + q] != 0 {
                let apq = a[p * n + q]
                let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                let t = (theta >= 0 ? 1 : -1) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<n {   // rotate columns p and q
                    let akp = a[k * n + p], akq = a[k * n + q]
                    a[k * n + p] = c * akp - s * akq
                    a[k * n + q] = s * akp + c * akq
                }
                for k in 0..<n {   // rotate rows p and q
                    let apk = a[p * n + k], aqk = a[q * n + k]
                    a[p * n + k] = c * apk - s * aqk
                    a[q * n + k] = s * apk + c * aqk
                }
            }
        }
    }
    return (0..<n).map { a[$0 * n + $0] }
}
