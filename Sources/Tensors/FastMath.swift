/// Branch-free exp, erf, sigmoid and tanh for the elementwise hot spots (softmax, GELU, GRU gates).
///
/// libm's `expf`/`erff` are opaque calls that cost several nanoseconds each and stop LLVM from
/// vectorising the loop around them. These use only arithmetic, selects and wrapping integer ops,
/// so loops over them vectorise.
enum FastMath {
    /// 1.5·2²³: adding it rounds a float to an integer held in the low mantissa bits.
    @usableFromInline static let roundingShift: Float = 12_582_912

    /// exp with relative error ≤ 3e-7 on [−87, 88]; exactly 0 below −87.3 (so exp(−∞) = 0).
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let xc = Swift.min(Swift.max(x, -87.3), 88.7)
        let shifted = xc * 1.442_695_04 + roundingShift
        let n = shifted - roundingShift
        // Cody–Waite split of ln 2 keeps the reduced argument accurate.
        let r = xc - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p: Float = 1.0 / 5040
        p = horner(p, r, 1.0 / 720)
        p = horner(p, r, 1.0 / 120)
        p = horner(p, r, 1.0 / 24)
        p = horner(p, r, 1.0 / 6)
        p = horner(p, r, 0.5)
        p = horner(p, r, 1)
        p = horner(p, r, 1)
        let scale = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
        return x < -87.3 ? 0 : p * scale
    }

    /// The logistic function 1 / (1 + e^(−x)), from e^(−|x|) so that nothing overflows.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        let e = exp(-Swift.abs(x))
        let s = 1 / (1 + e)
        return x >= 0 ? s : e * s
    }

    /// tanh: (1 − e)/(1 + e) with e = e^(−2|x|), and an odd Taylor polynomial below |x| = 0.25,
    /// where 1 − e would cancel (relative error there < 1e-7).
    @inline(__always)
    static func tanh(_ x: Float) -> Float {
        let a = Swift.abs(x)
        let e = exp(-2 * a)
        let far = (1 - e) / (1 + e)
        let a2 = a * a
        var p: Float = 62.0 / 2835
        p = horner(p, a2, -17.0 / 315)
        p = horner(p, a2, 2.0 / 15)
        p = horner(p, a2, -1.0 / 3)
        p = horner(p, a2, 1)
        let y = a < 0.25 ? a * p : far
        return x < 0 ? -y : y
    }

    /// erf with absolute error ≤ 1.5e-7 (Abramowitz & Stegun 7.1.26).
    @inline(__always)
    static func erf(_ x: Float) -> Float { erf(x, expMinusSquare: exp(-x * x)) }

    /// erf given e^(−x²), for callers that need that exponential too (GELU's derivative).
    @inline(__always)
    static func erf(_ x: Float, expMinusSquare e: Float) -> Float {
        let a = Swift.abs(x)
        let t = 1 / (1 + 0.327_591_1 * a)
        var p: Float = 1.061_405_429
        p = horner(p, t, -1.453_152_027)
        p = horner(p, t, 1.421_413_741)
        p = horner(p, t, -0.284_496_736)
        p = horner(p, t, 0.254_829_592)
        let y = 1 - p * t * e
        return x < 0 ? -y : y
    }

    /// One Horner step p·x + c. Swift never contracts `p * x + c` into a fused multiply-add itself;
    /// where the target has FMA (Package.swift defines `FMA`) it is spelled out, halving the
    /// polynomials' instruction count. Elsewhere it would be a libm call, so it is left apart.
    @inline(__always)
    static func horner(_ p: Float, _ x: Float, _ c: Float) -> Float {
        #if FMA
        c.addingProduct(p, x)
        #else
        p * x + c
        #endif
    }
}
