import CBLAS

/// Row-major single-precision GEMM: C = alpha·op(A)·op(B) + beta·C, with C of size m×n.
///
/// OpenBLAS runs single-threaded; large products are split into row (or column) panels that
/// the toolkit's workers compute concurrently. This keeps one owner of the cores and lets
/// batched products (attention heads, conv images) parallelise over the batch instead.
public enum BLAS {
    private static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// Products below this many multiply-adds run on one worker.
    static let minParallelMACs = 1 << 21

    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                            threads: Int = Parallel.threads) {
        _ = singleThreaded
        guard m > 0 && n > 0 else { return }
        let workers = Swift.min(threads, Swift.max(1, m * n * k / minParallelMACs))
        if workers <= 1 {
            sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        } else if m >= n {
            // Panels of rows of C: rows of op(A).
            Parallel.forEach(workers) { w in
                let lo = m * w / workers, hi = m * (w + 1) / workers
                guard lo < hi else { return }
                let aPanel = transA ? a + lo : a + lo * lda
                sgemm(transA, transB, hi - lo, n, k, alpha, aPanel, lda, b, ldb, beta, c + lo * ldc, ldc)
            }
        } else {
            // Panels of columns of C: columns of op(B).
            Parallel.forEach(workers) { w in
                let lo = n * w / workers, hi = n * (w + 1) / workers
                guard lo < hi else { return }
                let bPanel = transB ? b + lo * ldb : b + lo
                sgemm(transA, transB, m, hi - lo, k, alpha, a, lda, bPanel, ldb, beta, c + lo, ldc)
            }
        }
    }

    /// One OpenBLAS call on the calling thread.
    @inline(__always)
    static func sgemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                      _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                      _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        _ = singleThreaded
        if k == 0 {
            // BLAS leaves C untouched for k == 0 only when beta == 1; make it C = beta·C.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// LAPACK routines of OpenBLAS's bundled LAPACK.
public enum LAPACK {
    /// Eigenvalues, ascending, of a symmetric matrix (row-major `size` × `size`; only one triangle
    /// is read), by LAPACK's `dsyevd`.
    public static func symmetricEigenvalues(_ matrix: [Double], size n: Int) -> [Double] {
        precondition(matrix.count == n * n, "symmetricEigenvalues: \(matrix.count) values for a \(n)×\(n) matrix")
        guard n > 0 else { return [] }
        var a = matrix, w = [Double](repeating: 0, count: n)
        var dim = Int32(n), info: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workSize = 0.0, iworkSize: Int32 = 0
        dsyevd_("N", "L", &dim, &a, &dim, &w, &workSize, &lwork, &iworkSize, &liwork, &info)   // workspace query
        lwork = Int32(workSize); liwork = iworkSize
        var work = [Double](repeating: 0, count: Int(lwork)), iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_("N", "L", &dim, &a, &dim, &w, &work, &lwork, &iwork, &liwork, &info)
        precondition(info == 0, "symmetricEigenvalues: dsyevd failed (info \(info))")
        return w
    }
}
