/// Multi-head scaled dot-product self-attention straight from a packed projection.
///
/// `qkv` is [B, N, 3·D] with the last axis laid out (3, heads, headDim), as timm's fused `qkv`
/// linear produces. Heads are read in place through BLAS leading dimensions, so no permute copies
/// are made; the result is [B, N, D] with heads concatenated. `mask` is [N, N] or [B, N, N],
/// 1 where query i may attend to key j and 0 where it may not; a query that may attend to nothing
/// gets a zero output. Softmax probabilities are kept for the backward (B·heads·N² floats).
public func selfAttention(qkv: Tensor, heads: Int, mask: Tensor? = nil) -> Tensor {
    precondition(qkv.rank == 3, "selfAttention: qkv must be [B, N, 3·D], got shape \(qkv.shape)")
    let (b, n, d3) = (qkv.shape[0], qkv.shape[1], qkv.shape[2])
    precondition(d3 % 3 == 0 && (d3 / 3) % heads == 0,
                 "selfAttention: last axis \(d3) is not 3 × heads(\(heads)) × headDim")
    let d = d3 / 3, hd = d / heads
    if let mask {
        precondition(mask.shape == [n, n] || mask.shape == [b, n, n],
                     "selfAttention: mask shape \(mask.shape), expected [\(n), \(n)] or [\(b), \(n), \(n)]")
    }
    let scale = 1 / Float(hd).squareRoot()
    let items = b * heads
    let probs = Tensor(uninitialized: [b, heads, n, n])
    let out = Tensor(uninitialized: [b, n, d])
    let pq = qkv.ptr, pp = probs.ptr, po = out.ptr
    let pm = mask?.ptr, maskStride = mask?.rank == 3 ? n * n : 0
    let workers = Swift.min(Parallel.threads, items)
    Parallel.forEach(workers) { w in
        for item in (items * w / workers)..<(items * (w + 1) / workers) {
            let bi = item / heads, h = item % heads
            let q = pq + bi * n * d3 + h * hd, k = q + d, v = q + 2 * d
            let p = pp + item * n * n
            BLAS.sgemm(false, true, n, n, hd, scale, q, d3, k, d3, 0, p, n)
            if let pm {
                let mrow = pm + bi * maskStride
                for i in 0..<(n * n) where mrow[i] == 0 { p[i] = -.infinity }
            }
            for i in 0..<n { softmaxRow(p + i * n, p + i * n, n) }
            BLAS.sgemm(false, false, n, hd, n, 1, p, n, v, d3, 0, po + bi * n * d + h * hd, d)
        }
    }
    let x = qkv.detached()
    return out.recorded("selfAttention", [qkv]) { g in
        let gqkv = Tensor(uninitialized: x.shape)
        let pg = g.ptr, pdx = gqkv.ptr, px = x.ptr, pp = probs.ptr
        Parallel.forEach(workers) { w in
            let dp = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
            defer { dp.deallocate() }
            for item in (items * w / workers)..<(items * (w + 1) / workers) {
                let bi = item / heads, h = item % heads
                let q = px + bi * n * d3 + h * hd, k = q + d, v = q + 2 * d
                let dq = pdx + bi * n * d3 + h * hd, dk = dq + d, dv = dq + 2 * d
                let p = pp + item * n * n
                let dout = pg + bi * n * d + h * hd
                BLAS.sgemm(true, false, n, hd, n, 1, p, n, dout, d, 0, dv, d3)       // dV = Pᵀ·dO
                BLAS.sgemm(false, true, n, n, hd, 1, dout, d, v, d3, 0, dp, n)       // dP = dO·Vᵀ
                for i in 0..<n {                                                      // dS = P ⊙ (dP − Σ dP⊙P)
                    let pr = p + i * n, dr = dp + i * n
                    let dot = RowKernels.dot(pr, dr, n)
                    for j in 0..<n { dr[j] = pr[j] * (dr[j] - dot) * scale }
                }
                BLAS.sgemm(false, false, n, hd, n, 1, dp, n, k, d3, 0, dq, d3)       // dQ = dS·K
                BLAS.sgemm(true, false, n, hd, n, 1, dp, n, q, d3, 0, dk, d3)        // dK = dSᵀ·Q
            }
        }
        return [gqkv]
    }
}
