import Testing
@testable import Tensors

@Suite struct TileGemmTests {
    /// Every transpose combination, with edges of both the 6-row tile and the 16-column panel,
    /// and leading dimensions wider than the operands, against OpenBLAS.
    @Test func matchesBLAS() {
        var rng = RandomGenerator(seed: 41)
        for (m, n, k) in [(1, 1, 1), (6, 16, 8), (13, 37, 9), (32, 64, 256), (25, 17, 3)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    let (lda, ldb, ldc) = ((transA ? m : k) + 3, (transB ? k : n) + 5, n + 2)
                    let a = Tensor.randn([(transA ? k : m) * lda], using: &rng)
                    let b = Tensor.randn([(transB ? n : k) * ldb], using: &rng)
                    let expected = Tensor.zeros([m * ldc]), got = Tensor.zeros([m * ldc])
                    let pack = Tensor(uninitialized: [TileGemm.packCapacity(k: k)])
                    BLAS.sgemm(transA, transB, m, n, k, 0.5, a.ptr, lda, b.ptr, ldb, 0, expected.ptr, ldc)
                    TileGemm.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a.ptr, lda: lda,
                                  b: b.ptr, ldb: ldb, c: got.ptr, ldc: ldc, pack: pack.ptr)
                    for i in 0..<m {
                        for j in 0..<ldc {
                            let e = expected.ptr[i * ldc + j], g = got.ptr[i * ldc + j]
                            // Columns past n must be left alone (zero here).
                            #expect(Swift.abs(e - g) <= 1e-4 * Swift.max(1, Swift.abs(e)),
                                    "m \(m) n \(n) k \(k) transA \(transA) transB \(transB) at (\(i), \(j)): \(g) vs \(e)")
                        }
                    }
                }
            }
        }
    }
}
