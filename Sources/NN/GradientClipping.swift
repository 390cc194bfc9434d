import Tensors

/// Rescales gradients so their global L2 norm is at most `maxNorm`, as `torch.nn.utils.clip_grad_norm_`
/// (coefficient maxNorm / (norm + 1e-6), applied only when below 1). Returns the norm before clipping.
/// Gradients are replaced, not scaled in place: two leaves may share one gradient tensor.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "clipGradientNorm: maxNorm must be positive, got \(maxNorm)")
    var total = 0.0
    for p in parameters {
        guard let g = p.grad else { continue }
        total += sumOfSquares(g.ptr, g.count)
    }
    let norm = Float(total.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for p in parameters { p.grad = p.grad.map { g in noGrad { g.scaled(by: coefficient) } } }
    }
    return norm
}

/// Σ x², in double precision over four interleaved partial sums (one running sum is a chain of
/// dependent adds, several milliseconds a step for a model of a few million parameters).
private func sumOfSquares(_ x: UnsafeMutablePointer<Float>, _ n: Int) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var i = 0
    while i + 4 <= n {
        let a = Double(x[i]), b = Double(x[i + 1]), c = Double(x[i + 2]), d = Double(x[i + 3])
        s0 += a * a; s1 += b * b; s2 += c * c; s3 += d * d
        i += 4
    }
    while i < n { s0 += Double(x[i]) * Double(x[i]); i += 1 }
    return (s0 + s1) + (s2 + s3)
}
