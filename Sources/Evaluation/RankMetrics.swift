/// How well a score separates two groups.
public enum RankMetrics {
    /// Area under the ROC curve of `positives` against `negatives`: the probability that a random
    /// positive scores above a random negative, ties counted half (Mann–Whitney U / (n₊·n₋)).
    /// Nil when a group is empty or a score is not finite.
    public static func auroc(positives: [Double], negatives: [Double]) -> Double? {
        guard !positives.isEmpty, !negatives.isEmpty, (positives + negatives).allSatisfy(\.isFinite) else { return nil }
        // Mid-ranks of the pooled scores: the sum of the positives' ranks gives U.
        let pooled = (positives.map { ($0, true) } + negatives.map { ($0, false) }).sorted { $0.0 < $1.0 }
        var rankSum = 0.0, i = 0
        while i < pooled.count {
            var j = i
            while j + 1 < pooled.count && pooled[j + 1].0 == pooled[i].0 { j += 1 }
            let midRank = Double(i + j) / 2 + 1
            rankSum += midRank * Double(pooled[i...j].filter(\.1).count)
            i = j + 1
        }
        let (p, n) = (Double(positives.count), Double(negatives.count))
        return (rankSum - p * (p + 1) / 2) / (p * n)
    }

    /// The fraction of matched pairs in which the first score is higher, ties counted half. Nil
    /// when there are no pairs or a score is not finite.
    public static func pairwiseAccuracy(higher: [Double], lower: [Double]) -> Double? {
        precondition(higher.count == lower.count, "pairwiseAccuracy: \(higher.count) and \(lower.count) scores do not pair up")
        guard !higher.isEmpty, (higher + lower).allSatisfy(\.isFinite) else { return nil }
        let wins = zip(higher, lower).reduce(0.0) { $0 + ($1.0 > $1.1 ? 1 : $1.0 == $1.1 ? 0.5 : 0) }
        return wins / Double(higher.count)
    }
}
