import Foundation
import Testing
import Tensors
@testable import NN

@Suite struct Training {
    /// A 1→32→1 tanh MLP fits y = sin(2x) on 64 points in [−1.5, 1.5] with a minimal Adam
    /// written here (the optimiser module lives elsewhere).
    @Test func tinyMLPLearnsSine() {
        var rng = RandomGenerator(seed: 42)
        let mlp = MLP(1, hidden: 32, out: 1, activation: .tanh, rng: &rng)
        let n = 64
        let xs = (0..<n).map { -1.5 + 3 * Float($0) / Float(n - 1) }
        let x = Tensor(xs, shape: [n, 1]), y = Tensor(xs.map { sin(2 * $0) }, shape: [n, 1])
        func loss() -> Tensor { (mlp(x) - y).squared().mean() }

        let params = mlp.parameters()
        var m = params.map { [Float](repeating: 0, count: $0.count) }, v = m
        let (lr, b1, b2, eps): (Float, Float, Float, Float) = (0.02, 0.9, 0.999, 1e-8)
        let start = noGrad { loss() }.item
        for step in 1...600 {
            mlp.zeroGrad()
            loss().backward()
            let c1 = 1 - Foundation.pow(b1, Float(step)), c2 = 1 - Foundation.pow(b2, Float(step))
            for (k, p) in params.enumerated() {
                let g = p.grad!.scalars
                p.withUnsafeMutableBufferPointer { w in
                    for i in w.indices {
                        m[k][i] = b1 * m[k][i] + (1 - b1) * g[i]
                        v[k][i] = b2 * v[k][i] + (1 - b2) * g[i] * g[i]
                        w[i] -= lr * (m[k][i] / c1) / ((v[k][i] / c2).squareRoot() + eps)
                    }
                }
            }
        }
        let end = noGrad { loss() }.item
        #expect(start > 0.1, "initial loss \(start)")
        #expect(end < 0.01, "final loss \(end) (start \(start))")
    }
}
