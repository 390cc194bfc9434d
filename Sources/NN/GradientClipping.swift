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
        var s = 0.0
        for i in 0..<g.count { s += Double(g.ptr[i]) * Double(g.ptr[i]) }
        total += s
    }
    let norm = Float(total.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for p in parameters { p.grad = p.grad.map { g in noGrad { g.scaled(by: coefficient) } } }
    }
    return norm
}
