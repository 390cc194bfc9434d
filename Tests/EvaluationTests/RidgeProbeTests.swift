import Testing
import Tensors
@testable import Evaluation

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

    /// Noise-free linear targets want the least penalty; targets that are noise, fitted from
    /// nearly as many features as rows, want the most (the held-out rows punish overfitting).
    @Test func validatedPenaltyFollowsTheHeldOutRows() throws {
        var rng = RandomGenerator(seed: 3)
        let n = 60, d = 40
        let x = (0..<(n * d)).map { _ in Double(rng.normal()) }
        let linear = (0..<n).map { i in 3 * x[i * d] - x[i * d + 1] }
        let exact = try RidgeProbe.validated(features: x, targets: linear, count: n, fitCount: 45)
        #expect(exact.lambda == RidgeProbe.lambdaGrid.first)
        let noise = (0..<n).map { _ in Double(rng.normal()) }
        let overfit = try RidgeProbe.validated(features: x, targets: noise, count: n, fitCount: 45)
        #expect(overfit.lambda == RidgeProbe.lambdaGrid.last)
    }

    /// R² = 1 − SS_res / SS_tot by hand: actual (1, 2, 4) has mean 7/3 and SS_tot = 42/9; the
    /// prediction (1, 2, 3) leaves SS_res = 1.
    @Test func r2OfAHandComputedCase() {
        let r2 = RidgeProbe.r2(predicted: [1, 2, 3], actual: [1, 2, 4], count: 3)
        #expect(abs(r2[0] - (1 - 9.0 / 42)) < 1e-12)
        #expect(RidgeProbe.r2(predicted: [7, 7, 7], actual: [1, 2, 4], count: 3)[0] < 0)   // worse than the mean
    }

    /// One feature x = (0, 1, 2, 3), y = 2x + 1: the standardised feature is (x − 1.5)/√1.25 and the
    /// ridge solution shrinks its slope by n / (n + λn) exactly, so the prediction at x is
    /// 4 + (2x − 3)·(1 / (1 + λ)).
    @Test func ridgeShrinksTheSlopeAsComputedByHand() throws {
        let lambda = 0.25
        let probe = try RidgeProbe(features: [0, 1, 2, 3], targets: [1, 3, 5, 7], count: 4, lambda: lambda)
        let predicted = probe.predict([0, 3], count: 2)
        #expect(abs(predicted[0] - (4 - 3 / (1 + lambda))) < 1e-9 && abs(predicted[1] - (4 + 3 / (1 + lambda))) < 1e-9)
    }

    @Test func choleskySolvesAKnownSystem() throws {
        // [[4, 2], [2, 3]] x = [2, 5] → x = [-0.5, 2].
        let x = try RidgeProbe.solveSPD([4, 2, 2, 3], [2, 5], size: 2, columns: 1)
        #expect(Swift.abs(x[0] + 0.5) < 1e-12 && Swift.abs(x[1] - 2) < 1e-12)
        #expect(throws: EvaluationError.self) { _ = try RidgeProbe.solveSPD([1, 2, 2, 1], [1, 1], size: 2, columns: 1) }
    }
}
