/// Multi-head scaled dot-product self-attention straight from a packed projection.
///
/// `qkv` is [B, N, 3·D] with the last axis laid out (3, heads, headDim), as timm's fused `qkv`
/// linear produces. Heads are read in place through leading dimensions, so no permute copies
/// are made; the result is [B, N, D] with heads concatenated. `mask` is [N, N] or [B, N, N],
/// 1 where query i may attend to key j and 0 where it may not; a query that may attend to nothing
/// gets a zero output. Softmax probabilities are kept for the backward (B·heads·N² floats) when one
/// will run. The per-head products use `TileGemm`.
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
    // Probabilities are kept only when a backward will read them; otherwise each worker reuses
    // one n×n scratch, which stays in L2 between the two products.
    let keepProbs = GradMode.isEnabled && qkv.requiresGrad
    let probs = Tensor(uninitialized: keepProbs ? [b, heads, n, n] : [0])
    let out = Tensor(uninitialized: [b, n, d])
    let pq = qkv.ptr, pp = probs.ptr, po = out.ptr
    let pm = mask?.ptr, maskStride = mask?.rank == 3 ? n * n : 0
    let workers = Swift.min(Parallel.threads, items)
    let packCount = TileGemm.packCapacity(k: Swift.max(n, hd))
    Parallel.forEach(workers) { w in
        let pack = UnsafeMutablePointer<Float>.allocate(capacity: packCount)
        let scratch = keepProbs ? nil : UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        defer { pack.deallocate(); scratch?.deallocate() }
        for item in (items * w / workers)..<(items * (w + 1) / workers) {
            let bi = item / heads, h = item % heads
            let q = pq + bi * n * d3 + h * hd, k = q + d, v = q + 2 * d
            let p = scratch ?? pp + item * n * n
            TileGemm.gemm(transA: false, transB: true, m: n, n: n, k: hd, alpha: scale, a: q, lda: d3,
                          b: k, ldb: d3, c: p, ldc: n, pack: pack)
            if let pm {
                let mrow = pm + bi * maskStride
                for i in 0..<(n * n) where mrow[i] == 0 { p[i] = -.infinity }
            }
            for i in 0..<n { softmaxRow(p + i * n, p + i * n, n) }
            TileGemm.gemm(transA: false, transB: false, m: n, n: hd, k: n, alpha: 1, a: p, lda: n,
                          b: v, ldb: d3, c: po + bi * n * d + h * hd, ldc: d, pack: pack)
        }
    }
    let x = qkv.detached()
    return out.recorded("selfAttention", [qkv]) { g in
        let gqkv = Tensor(uninitialized: x.shape)
        let pg = g.ptr, pdx = gqkv.ptr, px = x.ptr, pp = probs.ptr
        Parallel.forEach(workers) { w in
            let dp = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
            let pack = UnsafeMutablePointer<Float>.allocate(capacity: packCount)
            defer { dp.deallocate(); pack.deallocate() }
            for item in (items * w / workers)..<(items * (w + 1) / workers) {
                let bi = item / heads, h = item % heads
                let q = px + bi * n * d3 + h * hd, k = q + d, v = q + 2 * d
                let dq = pdx + bi * n * d3 + h * hd, dk = dq + d, dv = dq + 2 * d
                let p = pp + item * n * n
                let dout = pg + bi * n * d + h * hd
                TileGemm.gemm(transA: true, transB: false, m: n, n: hd, k: n, alpha: 1, a: p, lda: n,   // dV = Pᵀ·dO
                              b: dout, ldb: d, c: dv, ldc: d3, pack: pack)
                TileGemm.gemm(transA: false, transB: true, m: n, n: n, k: hd, alpha: 1, a: dout, lda: d, // dP = dO·Vᵀ
                              b: v, ldb: d3, c: dp, ldc: n, pack: pack)
                for i in 0..<n {                                                      // dS = P ⊙ (dP − Σ dP⊙P)
                    let pr = p + i * n, dr = dp + i * n
                    let dot = RowKernels.dot(pr, dr, n)
                    for j in 0..<n { dr[j] = pr[j] * (dr[j] - dot) * scale }
                }
                TileGemm.gemm(transA: false, transB: false, m: n, n: hd, k: n, alpha: 1, a: dp, lda: n,  // dQ = dS·K
                              b: k, ldb: d3, c: dq, ldc: d3, pack: pack)
                TileGemm.gemm(transA: true, transB: false, m: n, n: hd, k: n, alpha: 1, a: dp, lda: n,   // dK = dSᵀ·Q
                              b: q, ldb: d3, c: dk, ldc: d3, pack: pack)
            }
        }
        return [gqkv]
    }
}
