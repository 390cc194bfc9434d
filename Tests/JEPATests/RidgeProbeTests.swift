import Testing
import Tensors
@testable import JEPA

@Suite struct RidgeProbeTests {
    @Test func recoversALinearMapAndScoresNoiseNearZero() throws {
        var rng = RandomGenerator(seed: 1)
        let n = 400, d = 5
        let x = (0..<(n * d)).map { _ in Double(rng.normal()) }
        let y = (0..<n).flatMap { i -> [Double] in
            let r = x[(i * d)..<(i * d + d)]
            return [2 * r[r.startIndex] - r[r.startIndex + 3] + 0.5, Double(rng.normal())]
        }
        let probe = try RidgeProbe(features: x, targets: y, count: n, lambda: 1e-6)
        let r2 = RidgeProbe.r2(predicted: probe.predict(x, count: n), actual: y, count: n)
        #expect(r2[0] > 0.9999)
        #expect(r2[1] < 0.05)
        let unseen = probe.predict([1, 0, 0, 2, 0], count: 1)        // 2·1 − 2 + 0.5
        #expect(Swift.abs(unseen[0] - 0.5) < 1e-4)
    }

    @Test func choleskySolvesAKnownSystem() throws {
        // [[4, 2], [2, 3]] x = [2, 5] → x = [-0.5, 2].
        let x = try RidgeProbe.solveSPD([4, 2, 2, 3], [2, 5], size: 2, columns: 1)
        #expect(Swift.abs(x[0] + 0.5) < 1e-12 && Swift.abs(x[1] - 2) < 1e-12)
        #expect(throws: ProbeError.self) { _ = try RidgeProbe.solveSPD([1, 2, 2, 1], [1, 1], size: 2, columns: 1) }
    }
}
