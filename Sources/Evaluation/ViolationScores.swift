import Foundation
import HDF5
import JEPA
import Tensors
import Worlds

/// Surprise of every clip of a violation-of-expectation set (`jepa data violations`): rows 2p and
/// 2p+1 are pair p's possible and impossible clips.
public struct ViolationScores: Sendable {
    public struct Pair: Sendable {
        public var category: String
        public var violationFrame: Int
        /// Surprise per scored frame of the possible and the impossible clip.
        public var possible: [Double], impossible: [Double]
        public init(category: String, violationFrame: Int, possible: [Double], impossible: [Double]) {
            (self.category, self.violationFrame, self.possible, self.impossible) = (category, violationFrame, possible, impossible)
        }
    }

    /// The frames the series are attributed to (shared by all clips).
    public var frames: [Int]
    public var pairs: [Pair]
    public var categories: [String]

    public init(frames: [Int], pairs: [Pair], categories: [String]) {
        (self.frames, self.pairs, self.categories) = (frames, pairs, categories)
    }

    /// Scores the set at `path` (all pairs, or the first `limit`) in batches of `batch` clips.
    public init(path: String, scorer: any SurpriseScorer, batch: Int = 16, limit: Int? = nil,
                progress: (Int, Int) -> Void = { _, _ in }) throws {
        let clips = try ClipFile(path: path)
        let file = clips.file
        for name in [DatasetFormat.impossible, DatasetFormat.category, DatasetFormat.violationFrame] where !file.exists(name) {
            throw EvaluationError("\(path): no /\(name) dataset; is this a violation set written by jepa data violations?")
        }
        let names = try JSONDecoder().decode([String].self, from: Data(file.stringAttribute("category_names").utf8))
        let impossible = try file.readUInt8(DatasetFormat.impossible).values
        let category = try file.readInt64(DatasetFormat.category).values
        let violation = try file.readInt64(DatasetFormat.violationFrame).values
        let rows = min(clips.count, 2 * (limit ?? clips.count)) / 2 * 2
        guard rows >= 2, impossible.count == clips.count, category.count == clips.count, violation.count == clips.count,
              (0..<rows).allSatisfy({ Int(impossible[$0]) == $0 % 2 && category[$0] == category[$0 / 2 * 2] }) else {
            throw EvaluationError("\(path): expected rows in (possible, impossible) pairs with matching /impossible, /category and /violation_frame")
        }
        guard category.allSatisfy({ names.indices.contains(Int($0)) }) else {
            throw EvaluationError("\(path): a /category value is outside category_names \(names)")
        }
        let scored = scorer.scoredFrames(length: clips.length)
        guard !scored.isEmpty else {
            throw EvaluationError("\(path): clips of \(clips.length) frames are too short to score with \(scorer.contextFrames) context frames and a horizon of \(scorer.horizon)")
        }
        var series: [[Double]] = []
        let step = max(2, batch / 2 * 2)
        for first in stride(from: 0, to: rows, by: step) {
            let range = first..<min(first + step, rows)
            let s = try scorer.surprise(clips.read(range)).scalars.map(Double.init)
            for i in 0..<range.count { series.append(Array(s[(i * scored.count)..<((i + 1) * scored.count)])) }
            progress(range.upperBound, rows)
        }
        (frames, categories) = (scored, names)
        pairs = (0..<(rows / 2)).map { p in
            Pair(category: names[Int(category[2 * p])], violationFrame: Int(violation[2 * p]),
                 possible: series[2 * p], impossible: series[2 * p + 1])
        }
    }

    /// How a clip's series becomes one surprise score.
    public enum Reduction: String, Codable, Sendable, CaseIterable {
        /// The largest surprise over the clip (the intuitive-physics protocol).
        case max
        /// The mean over the clip.
        case mean
        /// The largest surprise over the `window` frames from the pair's violation frame on (the
        /// clips are identical before it): the model's reaction to the event itself, free of
        /// unrelated events elsewhere in the clip.
        case atViolation = "at_violation"
    }

    /// Pairwise accuracy and AUROC (impossible = positive) per category and over all pairs.
    public struct Summary: Codable, Sendable {
        public var category: String
        public var pairs: Int
        public var pairwiseAccuracy: Double?
        public var auroc: Double?
    }

    /// One score per clip of `pair` (NaN when no scored frame falls in the reduction's range).
    public func reduce(_ pair: Pair, _ reduction: Reduction, window: Int = 4) -> (possible: Double, impossible: Double) {
        func reduce(_ s: [Double]) -> Double {
            switch reduction {
            case .max: return s.max() ?? .nan
            case .mean: return s.reduce(0, +) / Double(max(s.count, 1))
            case .atViolation:
                let near = zip(frames, s).filter { $0.0 >= pair.violationFrame && $0.0 < pair.violationFrame + window }.map(\.1)
                return near.max() ?? .nan
            }
        }
        return (reduce(pair.possible), reduce(pair.impossible))
    }

    public func summaries(reduction: Reduction, window: Int = 4) -> [Summary] {
        func summary(_ name: String, _ group: [Pair]) -> Summary {
            let scores = group.map { reduce($0, reduction, window: window) }
            let (hi, lo) = (scores.map(\.impossible), scores.map(\.possible))
            return Summary(category: name, pairs: group.count, pairwiseAccuracy: RankMetrics.pairwiseAccuracy(higher: hi, lower: lo),
                           auroc: RankMetrics.auroc(positives: hi, negatives: lo))
        }
        let perCategory = categories.compactMap { name in
            let group = pairs.filter { $0.category == name }
            return group.isEmpty ? nil : summary(name, group)
        }
        // IntPhys 2's principles, when the file's categories are the balls world's own.
        let principles = ViolationCategory.Principle.allCases.compactMap { principle in
            let group = pairs.filter { ViolationCategory(rawValue: $0.category)?.principle == principle }
            return group.isEmpty ? nil : summary("principle: \(principle.rawValue)", group)
        }
        return perCategory + principles + [summary("overall", pairs)]
    }
}
