import Testing
import Tensors
@testable import JEPA

@Suite struct EffectiveRankTests {
    @Test func eigenvaluesOfAKnownMatrix() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let e = symmetricEigenvalues([2, 1, 1, 2], size: 2).sorted()
        #expect(Swift.abs(e[0] - 1) < 1e-12 && Swift.abs(e[1] - 3) < 1e-12)
        // A diagonal matrix conjugated by a rotation keeps its eigenvalues.
        let c = 0.6, s = 0.8
        let rotated = [c * c * 5 + s * s * 2, c * s * (5 - 2), c * s * (5 - 2), s * s * 5 + c * c * 2]
        let r = symmetricEigenvalues(rotated, size: 2).sorted()
        #expect(Swift.abs(r[0] - 2) < 1e-12 && Swift.abs(r[1] - 5) < 1e-12)
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
