/// Reductions over one contiguous row with 8 independent accumulators.
///
/// A plain `s += x[i]` loop is a serial dependency chain that LLVM may not reorder (IEEE
/// addition is not associative), so it neither vectorises nor lets the loop around it vectorise.
/// Splitting the sum across lanes changes the rounding order, as every BLAS does.
enum RowKernels {
    typealias V = SIMD8<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + 8 <= n { acc += load(x + i); i += 8 }
        var s = acc.sum()
        while i < n { s += x[i]; i += 1 }
        return s
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(repeating: 0)
        var i = 0
        while i + 8 <= n { acc += load(a + i) * load(b + i); i += 8 }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// Σ (x − c)², for variances.
    @inline(__always)
    static func sumSquaredDeviations(_ x: UnsafePointer<Float>, _ n: Int, from c: Float) -> Float {
        var acc = V(repeating: 0)
        let cv = V(repeating: c)
        var i = 0
        while i + 8 <= n { let d = load(x + i) - cv; acc += d * d; i += 8 }
        var s = acc.sum()
        while i < n { let d = x[i] - c; s += d * d; i += 1 }
        return s
    }

    @inline(__always)
    static func max(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(repeating: -.infinity)
        var i = 0
        // A compare-and-select; `pointwiseMax` is lowered lane by lane (IEEE maximum's NaN rules).
        while i + 8 <= n { let v = load(x + i); acc.replace(with: v, where: v .> acc); i += 8 }
        var m = acc.max()
        while i < n { m = Swift.max(m, x[i]); i += 1 }
        return m
    }

    /// (Σ ĝ, Σ ĝ·(x − mean)) with ĝ = g ⊙ w (w = 1 when nil): the two sums of layer norm's backward.
    @inline(__always)
    static func layerNormGradientSums(_ g: UnsafePointer<Float>, _ w: UnsafePointer<Float>?, _ x: UnsafePointer<Float>,
                                      _ n: Int, mean: Float) -> (Float, Float) {
        var accG = V(repeating: 0), accGX = V(repeating: 0)
        let mv = V(repeating: mean)
        var i = 0
        if let w {
            while i + 8 <= n { let gh = load(g + i) * load(w + i); accG += gh; accGX += gh * (load(x + i) - mv); i += 8 }
        } else {
            while i + 8 <= n { let gh = load(g + i); accG += gh; accGX += gh * (load(x + i) - mv); i += 8 }
        }
        var sg = accG.sum(), sgx = accGX.sum()
        while i < n { let gh = g[i] * (w?[i] ?? 1); sg += gh; sgx += gh * (x[i] - mean); i += 1 }
        return (sg, sgx)
    }
}
