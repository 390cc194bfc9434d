import Foundation
import Testing
@testable import Tensors

@Suite struct FastMathTests {
    /// sigmoid and tanh against libm over [−40, 40] (dense near 0, where tanh switches to its
    /// polynomial): relative error within a few float ulps, and the tails saturate exactly.
    @Test func sigmoidAndTanhMatchLibm() {
        let xs = (-4000...4000).map { Float($0) / 100 } + (-1000...1000).map { Float($0) * 1e-4 } + [0.25, -0.25, 0.2499999, 1e-30]
        var worstSigmoid: Float = 0, worstTanh: Float = 0
        for x in xs {
            let s = Float(1 / (1 + Foundation.exp(-Double(x)))), t = Float(Foundation.tanh(Double(x)))
            worstSigmoid = max(worstSigmoid, abs(FastMath.sigmoid(x) - s) / max(abs(s), 1e-30))
            worstTanh = max(worstTanh, abs(FastMath.tanh(x) - t) / max(abs(t), 1e-30))
        }
        #expect(worstSigmoid < 1e-6 && worstTanh < 1e-6, "relative errors: sigmoid \(worstSigmoid), tanh \(worstTanh)")
        #expect(FastMath.tanh(100) == 1 && FastMath.tanh(-100) == -1 && FastMath.tanh(0) == 0)
        #expect(FastMath.sigmoid(200) == 1 && FastMath.sigmoid(-200) == 0 && FastMath.sigmoid(0) == 0.5)
    }

    /// GELU against x·Φ(x) in double precision, the same values whether or not a graph is
    /// recorded (the recorded path also keeps the derivative), and its gradient against the
    /// analytic Φ(x) + x·φ(x).
    @Test func geluMatchesDoublePrecisionInBothModes() {
        let xs = (-1200...1200).map { Float($0) / 100 }
        let x = Tensor(xs, shape: [xs.count], requiresGrad: true)
        let recorded = x.gelu()
        let plain = noGrad { x.gelu() }
        recorded.sum().backward()
        var worstValue = 0.0, worstGradient = 0.0
        for (i, v) in xs.enumerated() {
            let d = Double(v), cdf = 0.5 * (1 + Foundation.erf(d / 2.0.squareRoot()))
            let pdf = Foundation.exp(-0.5 * d * d) / (2 * Double.pi).squareRoot()
            worstValue = max(worstValue, abs(Double(recorded.ptr[i]) - d * cdf))
            worstGradient = max(worstGradient, abs(Double(x.grad!.ptr[i]) - (cdf + d * pdf)))
            #expect(recorded.ptr[i] == plain.ptr[i], "x = \(v): \(recorded.ptr[i]) with a graph, \(plain.ptr[i]) without")
        }
        #expect(worstValue < 3e-6 && worstGradient < 1e-6, "worst errors: value \(worstValue), gradient \(worstGradient)")
    }
}
