import Testing
import Tensors
@testable import JEPA

@Suite struct EffectiveRankTests {
    @Test func eigenvaluesOfAKnownMatrix() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let e = LAPACK.symmetricEigenvalues([2, 1, 1, 2], size: 2).sorted()
        #expect(Swift.abs(e[0] - 1) < 1e-12 && Swift.abs(e[1] - 3) < 1e-12)
        // A diagonal matrix conjugated by a rotation keeps its eigenvalues.
        let c = 0.6, s = 0.8
        let rotated = [c * c * 5 + s * s * 2, c * s * (5 - 2), c * s * (5 - 2), s * s * 5 + c * c * 2]
        let r = LAPACK.symmetricEigenvalues(rotated, size: 2).sorted()
        #expect(Swift.abs(r[0] - 2) < 1e-12 && Swift.abs(r[1] - 5) < 1e-12)
    }

    /// A random symmetric 60×60 matrix: the eigenvalues sum to the trace and their squares to the
    /// squared Frobenius norm.
    @Test func eigenvaluesKeepTraceAndFrobeniusNorm() {
        var rng = RandomGenerator(seed: 4)
        let n = 60
        let r = (0..<(n * n)).map { _ in Double(rng.normal()) }
        let m = (0..<(n * n)).map { k in (r[k] + r[(k % n) * n + k / n]) / 2 }
        let e = LAPACK.symmetricEigenvalues(m, size: n)
        let trace = (0..<n).reduce(0.0) { $0 + m[$1 * n + $1] }
        #expect(e.count == n && Swift.abs(e.reduce(0, +) - trace) < 1e-9)
        #expect(Swift.abs(e.reduce(0) { $0 + $1 * $1 } - m.reduce(0) { $0 + $1 * $1 }) < 1e-8)
    }

    @Test func isotropicFeaturesHaveFullRankAndCollapsedOnesRankOne() {
        var rng = RandomGenerator(seed: 1)
        let isotropic = Tensor.randn([4000, 8], using: &rng)
        #expect(effectiveRank(isotropic) > 7.5)
        let direction = Tensor.randn([1, 8], using: &rng)
        let line = Tensor.randn([500, 1], using: &rng) * direction
        #expect(effectiveRank(line) < 1.01)
        #expect(effectiveRank(Tensor.ones([10, 4])) == 0)
    }
}
