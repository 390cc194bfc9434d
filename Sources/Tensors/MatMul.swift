extension Tensor {
    /// Matrix product over the last two axes, with optional transposes of either operand.
    ///
    /// `self`: [..., M, K] (or [..., K, M] when `transposeSelf`), `other`: [..., K, N] (or
    /// [..., N, K] when `transposeOther`). Batch axes must be equal, or `other` may be 2-D, in
    /// which case the batch is folded into one large product (the common linear-layer case).
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        precondition(rank >= 2 && other.rank >= 2, "matmul: needs rank ≥ 2 operands, got shapes \(shape) and \(other.shape)")
        let m = transposeSelf ? shape[rank - 1] : shape[rank - 2]
        let k = transposeSelf ? shape[rank - 2] : shape[rank - 1]
        let k2 = transposeOther ? other.shape[other.rank - 1] : other.shape[other.rank - 2]
        let n = transposeOther ? other.shape[other.rank - 2] : other.shape[other.rank - 1]
        precondition(k == k2, "matmul: inner dimensions differ: shape \(shape)\(transposeSelf ? "ᵀ" : "") · \(other.shape)\(transposeOther ? "ᵀ" : "") (\(k) vs \(k2))")
        let batchShape = Array(shape.dropLast(2))
        let otherBatch = Array(other.shape.dropLast(2))
        precondition(otherBatch.isEmpty || otherBatch == batchShape,
                     "matmul: batch shapes \(batchShape) and \(otherBatch) differ (the second operand may also be 2-D)")
        let batch = batchShape.reduce(1, *)
        let out = Tensor(uninitialized: batchShape + [m, n])
        let lda = transposeSelf ? m : k, ldb = transposeOther ? k : n
        if otherBatch.isEmpty && !transposeSelf {
            BLAS.gemm(transA: false, transB: transposeOther, m: batch * m, n: n, k: k,
                      a: ptr, lda: lda, b: other.ptr, ldb: ldb, c: out.ptr, ldc: n)
        } else {
            let strideB = otherBatch.isEmpty ? 0 : k * n
            batchedGemm(batch: batch, transA: transposeSelf, transB: transposeOther, m: m, n: n, k: k,
                        a: ptr, strideA: m * k, lda: lda, b: other.ptr, strideB: strideB, ldb: ldb,
                        c: out.ptr, strideC: m * n, ldc: n)
        }
        let a = detached(), b = other.detached()
        let (tA, tB) = (transposeSelf, transposeOther)
        let needA = requiresGrad, needB = other.requiresGrad
        return out.recorded("matmul", [self, other]) { g in
            // C = op(A)·op(B)  ⇒  dop(A) = G·op(B)ᵀ, dop(B) = op(A)ᵀ·G.
            var ga: Tensor? = nil, gb: Tensor? = nil
            if needA {
                let t = g.matmul(b, transposeOther: !tB)
                ga = tA ? t.transposed(-2, -1) : t
            }
            if needB {
                if b.rank == 2 && a.rank > 2 {
                    let g2 = g.reshaped([-1, n])
                    let a2 = tA ? a.transposed(-2, -1).reshaped([-1, k]) : a.reshaped([-1, k])
                    gb = tB ? g2.matmul(a2, transposeSelf: true) : a2.matmul(g2, transposeSelf: true)
                } else {
                    gb = tB ? g.matmul(a, transposeSelf: true, transposeOther: tA)
                            : a.matmul(g, transposeSelf: !tA)
                }
            }
            return [ga, gb]
        }
    }
}

/// `batch` independent GEMMs: parallel over the batch when it has an item per worker, else each
/// product split into panels by `BLAS.gemm`.
func batchedGemm(batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                 a: UnsafePointer<Float>, strideA: Int, lda: Int,
                 b: UnsafePointer<Float>, strideB: Int, ldb: Int,
                 beta: Float = 0, c: UnsafeMutablePointer<Float>, strideC: Int, ldc: Int) {
    let workers = Swift.min(Parallel.threads, batch, Swift.max(1, batch * m * n * k / BLAS.minParallelMACs))
    if workers > 1 && batch >= Parallel.threads {
        Parallel.forEach(workers) { w in
            for i in (batch * w / workers)..<(batch * (w + 1) / workers) {
                BLAS.sgemm(transA, transB, m, n, k, 1, a + i * strideA, lda, b + i * strideB, ldb, beta, c + i * strideC, ldc)
            }
        }
    } else {
        for i in 0..<batch {
            BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a + i * strideA, lda: lda,
                      b: b + i * strideB, ldb: ldb, beta: beta, c: c + i * strideC, ldc: ldc)
        }
    }
}

extension Tensor {
    /// `x · Wᵀ + b` over the last axis, with W stored [out, in] as in PyTorch, plus an optional
    /// `residual` of the output's shape. Fused so the bias and the residual ride in the product
    /// (the output is seeded with them before the GEMM accumulates into it) and backward is three
    /// GEMM-sized passes.
    public func linear(weight: Tensor, bias: Tensor?, residual: Tensor? = nil) -> Tensor {
        precondition(weight.rank == 2, "linear: weight must be [out, in], got shape \(weight.shape)")
        let (outF, inF) = (weight.shape[0], weight.shape[1])
        precondition(rank >= 1 && shape[rank - 1] == inF, "linear: input shape \(shape) does not end in \(inF) (weight shape \(weight.shape))")
        if let bias { precondition(bias.shape == [outF], "linear: bias shape \(bias.shape), expected [\(outF)]") }
        let outShape = Array(shape.dropLast()) + [outF]
        if let residual { precondition(residual.shape == outShape, "linear: residual shape \(residual.shape), expected \(outShape)") }
        let rows = count / inF
        let out = Tensor(uninitialized: outShape)
        let po = out.ptr
        switch (bias?.ptr, residual?.ptr) {
        case let (pb?, pr?):
            Parallel.forChunks(rows, cost: outF) { r in
                for i in r {
                    let o = po + i * outF, x = pr + i * outF
                    for j in 0..<outF { o[j] = x[j] + pb[j] }
                }
            }
        case let (pb?, nil):
            Parallel.forChunks(rows, cost: outF) { r in for i in r { (po + i * outF).update(from: pb, count: outF) } }
        case let (nil, pr?):
            Parallel.forChunks(rows, cost: outF) { r in (po + r.lowerBound * outF).update(from: pr + r.lowerBound * outF, count: r.count * outF) }
        case (nil, nil):
            break
        }
        BLAS.gemm(transB: true, m: rows, n: outF, k: inF, a: ptr, lda: inF, b: weight.ptr, ldb: inF,
                  beta: bias == nil && residual == nil ? 0 : 1, c: po, ldc: outF)
        let x = detached(), w = weight.detached()
        var inputs = [self, weight]
        if let bias { inputs.append(bias) }
        if let residual { inputs.append(residual) }
        let needX = requiresGrad, needW = weight.requiresGrad, needB = bias?.requiresGrad ?? false
        let needR = residual?.requiresGrad ?? false
        return out.recorded("linear", inputs) { g in
            var gx: Tensor? = nil, gw: Tensor? = nil
            if needX {
                let t = Tensor(uninitialized: x.shape)
                BLAS.gemm(m: rows, n: inF, k: outF, a: g.ptr, lda: outF, b: w.ptr, ldb: inF, c: t.ptr, ldc: inF)
                gx = t
            }
            if needW {
                let t = Tensor(uninitialized: w.shape)
                BLAS.gemm(transA: true, m: outF, n: inF, k: rows, a: g.ptr, lda: outF, b: x.ptr, ldb: inF, c: t.ptr, ldc: inF)
                gw = t
            }
            var grads = [gx, gw]
            if bias != nil { grads.append(needB ? g.reshaped([rows, outF]).sum(axes: [0]) : nil) }
            if residual != nil { grads.append(needR ? g : nil) }
            return grads
        }
    }
}
