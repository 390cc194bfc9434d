@testable import Evaluation
import Testing

@Suite struct RankMetricsTests {
    @Test func aurocOfHandCountedCases() {
        #expect(RankMetrics.auroc(positives: [3, 4], negatives: [1, 2]) == 1)
        #expect(RankMetrics.auroc(positives: [1, 2], negatives: [3, 4]) == 0)
        #expect(RankMetrics.auroc(positives: [1], negatives: [1]) == 0.5)
        // Positives {1, 3, 3}, negatives {2, 3}: of the 6 (p, n) pairs, (1,2) 0, (1,3) 0, (3,2) 1 twice,
        // (3,3) ½ twice → 3 / 6.
        #expect(RankMetrics.auroc(positives: [1, 3, 3], negatives: [2, 3]) == 0.5)
        // {2, 5} vs {1, 3, 4}: 2 beats 1 (1 of 3), 5 beats all 3 → 4 / 6.
        #expect(abs(RankMetrics.auroc(positives: [2, 5], negatives: [1, 3, 4])! - 4.0 / 6) < 1e-12)
        #expect(RankMetrics.auroc(positives: [], negatives: [1]) == nil)
        #expect(RankMetrics.auroc(positives: [.nan], negatives: [1]) == nil)
    }

    @Test func pairwiseAccuracyCountsTiesHalf() {
        #expect(RankMetrics.pairwiseAccuracy(higher: [2, 1, 3], lower: [1, 1, 4]) == 0.5)
        #expect(RankMetrics.pairwiseAccuracy(higher: [5, 6], lower: [1, 2]) == 1)
        #expect(RankMetrics.pairwiseAccuracy(higher: [], lower: []) == nil)
    }

    /// The summaries reduce each clip's series as documented: max and mean over the clip, and the
    /// max over `window` scored frames from the violation frame on.
    @Test func violationReductions() {
        let frames = [4, 5, 6, 7, 8, 9]
        let pair = ViolationScores.Pair(category: "vanish", violationFrame: 6,
                                        possible: [9, 0, 1, 1, 1, 0], impossible: [9, 0, 3, 2, 1, 8])
        let scores = ViolationScores(frames: frames, pairs: [pair], categories: ["teleport", "vanish"])
        #expect(scores.reduce(pair, .max) == (9, 9))
        #expect(scores.reduce(pair, .mean) == (2, 23.0 / 6))
        #expect(scores.reduce(pair, .atViolation, window: 2) == (1, 3))      // frames 6 and 7
        #expect(scores.reduce(pair, .atViolation, window: 4) == (1, 8))      // frames 6…9
        let atViolation = scores.summaries(reduction: .atViolation, window: 2)
        // Categories and principles without pairs are left out.
        #expect(atViolation.map(\.category) == ["vanish", "principle: permanence", "overall"])
        #expect(atViolation.allSatisfy { $0.pairs == 1 && $0.pairwiseAccuracy == 1 && $0.auroc == 1 })
        #expect(scores.summaries(reduction: .max).last?.pairwiseAccuracy == 0.5)   // a tie
    }
}
