import Foundation

extension Tensor {
    /// Applies `f` elementwise; `derivative(x, y)` gives dy/dx from the input and output values.
    /// The building block of every pointwise op: one pass, parallel, no per-element allocation.
    public func map(_ name: String, _ f: @escaping (Float) -> Float,
                    derivative: @escaping (_ x: Float, _ y: Float) -> Float) -> Tensor {
        let out = Tensor(uninitialized: shape)
        let px = ptr, po = out.ptr
        Parallel.forChunks(count, cost: 4) { r in for i in r { po[i] = f(px[i]) } }
        let x = detached(), y = out.detached()
        return out.recorded(name, [self]) { g in
            let gx = Tensor(uninitialized: g.shape)
            let pg = g.ptr, pgx = gx.ptr, pxx = x.ptr, py = y.ptr
            Parallel.forChunks(g.count, cost: 4) { r in for i in r { pgx[i] = pg[i] * derivative(pxx[i], py[i]) } }
            return [gx]
        }
    }

    public func exp() -> Tensor {
        let out = Tensor(uninitialized: shape)
        let px = ptr, po = out.ptr
        Parallel.forChunks(count, cost: 4) { r in for i in r { po[i] = FastMath.exp(px[i]) } }
        let y = out.detached()
        return out.recorded("exp", [self]) { g in [g * y] }
    }
    public func log() -> Tensor { map("log", { Foundation.log($0) }, derivative: { x, _ in 1 / x }) }
    public func sqrt() -> Tensor { map("sqrt", { $0.squareRoot() }, derivative: { _, y in 0.5 / y }) }
    public func abs() -> Tensor { map("abs", { Swift.abs($0) }, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
    public func squared() -> Tensor { map("square", { $0 * $0 }, derivative: { x, _ in 2 * x }) }
    public func pow(_ p: Float) -> Tensor {
        map("pow", { Foundation.pow($0, p) }, derivative: { x, _ in p * Foundation.pow(x, p - 1) })
    }
    public func sin() -> Tensor { map("sin", { Foundation.sin($0) }, derivative: { x, _ in Foundation.cos(x) }) }
    public func cos() -> Tensor { map("cos", { Foundation.cos($0) }, derivative: { x, _ in -Foundation.sin(x) }) }
    public func tanh() -> Tensor { pointwise("tanh", FastMath.tanh, derivativeFromOutput: { 1 - $0 * $0 }) }
    public func sigmoid() -> Tensor { pointwise("sigmoid", FastMath.sigmoid, derivativeFromOutput: { $0 * (1 - $0) }) }

    /// `map` for functions whose derivative is a function of the output, inlined so that both
    /// loops vectorise (the GRU's gates run these on every step of every planning candidate).
    @inline(__always)
    func pointwise(_ name: String, _ f: (Float) -> Float, derivativeFromOutput: @escaping (Float) -> Float) -> Tensor {
        let out = Tensor(uninitialized: shape)
        let px = ptr, po = out.ptr
        Parallel.forChunks(count, cost: 8) { r in for i in r { po[i] = f(px[i]) } }
        let y = out.detached()
        return out.recorded(name, [self]) { g in
            let gx = Tensor(uninitialized: g.shape)
            let pg = g.ptr, pgx = gx.ptr, py = y.ptr
            Parallel.forChunks(g.count, cost: 2) { r in for i in r { pgx[i] = pg[i] * derivativeFromOutput(py[i]) } }
            return [gx]
        }
    }
    public func relu() -> Tensor { map("relu", { Swift.max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 }) }
    /// Clamps to [low, high]; the gradient passes where the input is inside the interval.
    public func clamped(_ low: Float, _ high: Float) -> Tensor {
        map("clamp", { Swift.min(Swift.max($0, low), high) }, derivative: { x, _ in x >= low && x <= high ? 1 : 0 })
    }

    /// GELU. Exact (erf) by default, as PyTorch's `F.gelu`; `approximate: true` is the tanh form.
    public func gelu(approximate: Bool = false) -> Tensor {
        if approximate {
            let c: Float = 0.797_884_56, k: Float = 0.044715
            return map("gelu_tanh", { x in 0.5 * x * (1 + Foundation.tanh(c * (x + k * x * x * x))) },
                       derivative: { x, _ in
                           let u = c * (x + k * x * x * x), t = Foundation.tanh(u)
                           return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * k * x * x)
                       })
        }
        let out = Tensor(uninitialized: shape)
        let px = ptr, po = out.ptr
        guard GradMode.isEnabled && requiresGrad else {
            Parallel.forChunks(count, cost: 8) { r in
                for i in r {
                    let x = px[i]
                    po[i] = x * (0.5 * (1 + FastMath.erf(x * 0.707_106_77, expMinusSquare: FastMath.exp(-0.5 * x * x))))
                }
            }
            return out
        }
        // The derivative Φ(x) + x·φ(x) shares e^(−x²/2) with the value, so it is computed here and
        // kept (in place of the input): the backward is one multiply.
        let derivative = Tensor(uninitialized: shape)
        let pdw = derivative.ptr
        Parallel.forChunks(count, cost: 10) { r in
            for i in r {
                let x = px[i]
                let e = FastMath.exp(-0.5 * x * x)
                let cdf = 0.5 * (1 + FastMath.erf(x * 0.707_106_77, expMinusSquare: e))
                po[i] = x * cdf
                pdw[i] = cdf + x * 0.398_942_28 * e
            }
        }
        return out.recorded("gelu", [self]) { g in
            let gx = Tensor(uninitialized: g.shape)
            let pg = g.ptr, pd = derivative.ptr, pgx = gx.ptr
            Parallel.forChunks(g.count, cost: 1) { r in
                for i in r { pgx[i] = pg[i] * pd[i] }
            }
            return [gx]
        }
    }

    /// SiLU (swish): x · sigmoid(x).
    public func silu() -> Tensor {
        map("silu", { $0 * FastMath.sigmoid($0) }, derivative: { x, _ in
            let s = FastMath.sigmoid(x)
            return s * (1 + x * (1 - s))
        })
    }

    /// Inverted dropout: zeroes each element with probability `p` and scales the rest by 1/(1-p).
    /// Identity when not training or `p == 0`.
    public func dropout(_ p: Float, training: Bool, using rng: inout RandomGenerator) -> Tensor {
        precondition(p >= 0 && p < 1, "dropout: probability must be in [0, 1), got \(p)")
        guard training && p > 0 else { return self }
        let mask = Tensor(uninitialized: shape)
        let scale = 1 / (1 - p)
        for i in 0..<count { mask.ptr[i] = rng.uniform() < p ? 0 : scale }
        return self * mask
    }
}

