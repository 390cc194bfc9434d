/// Finite-difference gradient checking, used by the test suites of every differentiable op and layer.
public enum GradientCheck {
    public struct Mismatch: CustomStringConvertible {
        public let input: Int, index: Int
        public let analytic: Double, numeric: Double
        public var description: String { "input \(input) element \(index): autodiff \(analytic), finite difference \(numeric)" }
    }

    /// Compares autodiff gradients of `L = Σ f(inputs) ⊙ R` (R a fixed random projection, so every
    /// output element matters with a distinct weight) with central differences `(L(x+h) − L(x−h)) / 2h`
    /// summed in Double. Float32 forward passes bound the achievable accuracy: with h = 5e-3 and
    /// O(1) values the error is below ~1e-3, hence the default tolerance |a − n| ≤ atol + rtol·|n|.
    /// Checks at most `maxElements` elements per input (spread evenly).
    public static func mismatches(_ inputs: [Tensor], step h: Float = 5e-3, atol: Double = 2e-3, rtol: Double = 2e-2,
                                  maxElements: Int = 64, seed: UInt64 = 7, _ f: ([Tensor]) -> Tensor) -> [Mismatch] {
        var rng = RandomGenerator(seed: seed)
        let probe = noGrad { f(inputs) }
        let projection = Tensor.uniform(probe.shape, low: -1, high: 1, using: &rng)
        for x in inputs { x.grad = nil }
        let loss = (f(inputs) * projection).sum()
        loss.backward()
        func lossValue() -> Double {
            let y = noGrad { f(inputs) }
            var s = 0.0
            for i in 0..<y.count { s += Double(y.ptr[i]) * Double(projection.ptr[i]) }
            return s
        }
        var bad: [Mismatch] = []
        for (n, x) in inputs.enumerated() where x.requiresGrad {
            let analytic = x.grad
            let stride = Swift.max(1, x.count / maxElements)
            for i in Swift.stride(from: 0, to: x.count, by: stride) {
                let saved = x.ptr[i]
                x.ptr[i] = saved + h
                let up = lossValue()
                x.ptr[i] = saved - h
                let down = lossValue()
                x.ptr[i] = saved
                let numeric = (up - down) / (2 * Double(h))
                let a = Double(analytic?.ptr[i] ?? 0)
                if Swift.abs(a - numeric) > atol + rtol * Swift.abs(numeric) {
                    bad.append(Mismatch(input: n, index: i, analytic: a, numeric: numeric))
                }
            }
        }
        return bad
    }
}
