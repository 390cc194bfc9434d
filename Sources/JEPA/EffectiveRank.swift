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
    let singular = LAPACK.symmetricEigenvalues(gram.scalars.map(Double.init), size: d).map { $0 > 0 ? $0.squareRoot() : 0 }
    let total = singular.reduce(0, +)
    guard total > 0 else { return 0 }
    let entropy = singular.reduce(0.0) { h, s in
        let p = s / total + 1e-12
        return h - p * log(p)
    }
    return exp(entropy)
}
