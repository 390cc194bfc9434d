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
}
