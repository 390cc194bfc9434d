/// A register-tiled GEMM for attention's per-head products (n×n×headDim and n×headDim×n).
///
/// OpenBLAS reaches only 40–55 GFLOP/s on these (k or n is the head dimension, 32–64): its
/// fixed costs per call and per micro-tile are paid over too few multiply-adds. Here a 6×16
/// tile of C stays in 12 AVX registers for the whole k loop, and op(B) is packed 16 columns at a
/// time into a contiguous panel: read in place, B's rows (one head's slice of a [N, 3·D] qkv)
/// are a large power-of-two-ish stride apart and evict each other from L1.
public enum TileGemm {
    typealias V = SIMD8<Float>

    /// Panel columns (two vectors).
    static let width = 16

    /// Floats of scratch `gemm` needs for a given k.
    public static func packCapacity(k: Int) -> Int { k * width }

    /// C = alpha·op(A)·op(B), C of size m×n with leading dimension ldc.
    /// op(A) is A [m×k] (lda), or when `transA`, A stored [k×m]; op(B) is B [k×n] (ldb), or when
    /// `transB`, B stored [n×k]. `pack` holds `packCapacity(k:)` floats.
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                     c: UnsafeMutablePointer<Float>, ldc: Int,
                     pack: UnsafeMutablePointer<Float>) {
        // Element (i, p) of op(A) is at a + i·rowStride + p·depthStride.
        let rowStride = transA ? 1 : lda, depthStride = transA ? lda : 1
        var j = 0
        while j < n {
            let w = Swift.min(width, n - j)
            packPanel(transB: transB, k: k, b: b, ldb: ldb, column: j, width: w, into: pack)
            var i = 0
            while i < m {
                tile6(k: k, alpha: alpha, a: a + i * rowStride, rowStride: rowStride, depthStride: depthStride,
                      panel: pack, c: c + i * ldc + j, ldc: ldc, rows: Swift.min(6, m - i), width: w)
                i += 6
            }
            j += w
        }
    }

    /// Columns j..<j+w of op(B) as k rows of 16 floats, zero-padded past w.
    @inline(__always)
    private static func packPanel(transB: Bool, k: Int, b: UnsafePointer<Float>, ldb: Int, column j: Int,
                                  width w: Int, into pack: UnsafeMutablePointer<Float>) {
        if w < width { pack.update(repeating: 0, count: k * width) }
        if transB {
            for jj in 0..<w {
                let src = b + (j + jj) * ldb
                for p in 0..<k { pack[p * width + jj] = src[p] }
            }
        } else if w == width {
            // Two vector moves per row: a 64-byte memmove call each would cost more than the copy.
            for p in 0..<k {
                let src = b + p * ldb + j, dst = UnsafeMutableRawPointer(pack + p * width)
                dst.storeBytes(of: load(src), as: V.self)
                dst.storeBytes(of: load(src + 8), toByteOffset: 32, as: V.self)
            }
        } else {
            for p in 0..<k { for jj in 0..<w { pack[p * width + jj] = b[p * ldb + j + jj] } }
        }
    }

    @inline(__always) private static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    /// Writes (or adds) one row of a tile: `width` columns, or fewer at the right edge.
    @inline(__always)
    private static func store(_ lo: V, _ hi: V, _ alpha: Float, _ c: UnsafeMutablePointer<Float>, width w: Int) {
        let lo = lo * alpha, hi = hi * alpha
        if w == width {
            UnsafeMutableRawPointer(c).storeBytes(of: lo, as: V.self)
            UnsafeMutableRawPointer(c + 8).storeBytes(of: hi, as: V.self)
        } else {
            for jj in 0..<w { c[jj] = jj < 8 ? lo[jj] : hi[jj - 8] }
        }
    }

    /// A 6×16 tile of C in 12 AVX registers over the whole k loop. At the bottom edge (`rows` < 6)
    /// the missing rows repeat the last one and are not stored: a 6-row pass costs less than
    /// single rows, whose two accumulators leave the FMA units waiting on latency.
    @inline(__always)
    private static func tile6(k: Int, alpha: Float, a: UnsafePointer<Float>, rowStride rs: Int, depthStride ds: Int,
                              panel: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                              ldc: Int, rows r: Int, width w: Int) {
        let o1 = Swift.min(1, r - 1) * rs, o2 = Swift.min(2, r - 1) * rs, o3 = Swift.min(3, r - 1) * rs
        let o4 = Swift.min(4, r - 1) * rs, o5 = Swift.min(5, r - 1) * rs
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        var ap = a, bp = panel
        for _ in 0..<k {
            let b0 = load(bp), b1 = load(bp + 8)
            var s = V(repeating: ap[0])
            c00.addProduct(s, b0); c01.addProduct(s, b1)
            s = V(repeating: ap[o1]); c10.addProduct(s, b0); c11.addProduct(s, b1)
            s = V(repeating: ap[o2]); c20.addProduct(s, b0); c21.addProduct(s, b1)
            s = V(repeating: ap[o3]); c30.addProduct(s, b0); c31.addProduct(s, b1)
            s = V(repeating: ap[o4]); c40.addProduct(s, b0); c41.addProduct(s, b1)
            s = V(repeating: ap[o5]); c50.addProduct(s, b0); c51.addProduct(s, b1)
            ap += ds
            bp += width
        }
        store(c00, c01, alpha, c, width: w)
        if r > 1 { store(c10, c11, alpha, c + ldc, width: w) }
        if r > 2 { store(c20, c21, alpha, c + 2 * ldc, width: w) }
        if r > 3 { store(c30, c31, alpha, c + 3 * ldc, width: w) }
        if r > 4 { store(c40, c41, alpha, c + 4 * ldc, width: w) }
        if r > 5 { store(c50, c51, alpha, c + 5 * ldc, width: w) }
    }
}
