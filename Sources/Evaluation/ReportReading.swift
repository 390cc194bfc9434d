// One paragraph that reads an evaluation report for a newcomer: what the model knows about where
// things are, how they move and what cannot happen — computed from the report's own figures.
import Foundation

extension EvaluationReport {
    /// The paragraph; chance and the baselines are named next to every figure.
    public var reading: String {
        func f(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }
        var sentences: [String] = []
        if let d = dynamics {
            let position = d.positionR2.min() ?? .nan
            sentences.append("Position is read from one frame's latent with R² \(f(position)) (1 = perfect; a linear probe on held-out episodes).")
            let named = Dictionary(zip(d.stateNames, d.stateR2), uniquingKeysWith: { a, _ in a })
            if let vx = named["vx"], let vy = named["vy"] {
                let verdict = min(vx, vy) >= 0.9 ? "the model's state carries how things move"
                    : min(vx, vy) >= 0.7 ? "the state carries motion only partly" : "the state carries little of the motion"
                sentences.append("Velocity from the model's state: vx R² \(f(vx)), vy \(f(vy)) — \(verdict).")
            }
            let horizons = d.model.indices
            let beatsCV = horizons.filter { d.model[$0] < d.constantVelocity[$0] }.map { $0 + 1 }
            let beatsRepeat = horizons.allSatisfy { d.model[$0] < d.repeatLast[$0] }
            let shown = Array(Set([4, 8, d.model.count].filter { $0 <= d.model.count })).sorted()
            let curve = shown.map { "k = \($0): \(f(d.model[$0 - 1], 1)) px against \(f(d.constantVelocity[$0 - 1], 1))" }.joined(separator: ", ")
            let fromWhere: String
            if let first = beatsCV.first, beatsCV == Array(first...d.model.count) {
                fromWhere = first == 1 ? "at every horizon" : "from horizon \(first) on"
            } else if beatsCV.isEmpty {
                fromWhere = "at no horizon"
            } else {
                fromWhere = "at horizons \(beatsCV.map(String.init).joined(separator: ", "))"
            }
            sentences.append("Imagining \(d.model.count) frames ahead with its eyes closed, its predicted positions (\(curve) for a "
                + "constant-velocity guess from the true positions) beat constant velocity \(fromWhere) — past a few frames that "
                + "needs gravity and bounces — and \(beatsRepeat ? "beat" : "do not always beat") \"the ball stays where it was\".")
        } else if let v = videoState, case let named = Dictionary(zip(v.stateNames, v.stateR2), uniquingKeysWith: { a, _ in a }),
                  let vx = named["vx"], let vy = named["vy"] {
            let verdict = min(vx, vy) >= 0.9 ? "the model's state carries how things move"
                : min(vx, vy) >= 0.7 ? "the state carries motion only partly" : "the state carries little of the motion"
            sentences.append("From the context it predicts from, position is read with R² \(f(min(named["x"] ?? .nan, named["y"] ?? .nan))) and "
                + "velocity with vx \(f(vx)), vy \(f(vy))"
                + (v.randomEncoderR2.map { " (an untrained model of the same shape: vx \(f($0[2])), vy \(f($0[3])))" } ?? "") + " — \(verdict).")
        } else if let best = probes.max(by: { $0.r2 < $1.r2 }) {
            sentences.append("The best-read quantity of the state is \(best.name) (probe R² \(f(best.r2)) against \(f(best.randomEncoderR2)) for a random encoder).")
        }
        if let v = calibratedViolations ?? violations, let rows = v.results["at_violation"], let overall = rows.first(where: { $0.category == "overall" }),
           let accuracy = overall.pairwiseAccuracy {
            let categories = rows.filter { $0.category != "overall" && !$0.category.hasPrefix("principle") && $0.pairwiseAccuracy != nil }
            let weakest = categories.min { $0.pairwiseAccuracy! < $1.pairwiseAccuracy! }
            let verdict = accuracy >= 0.9 ? "clearly tells possible from impossible" : accuracy >= 0.7 ? "mostly tells possible from impossible"
                : accuracy > 0.55 ? "is only a little better than chance at telling possible from impossible" : "cannot tell possible from impossible"
            sentences.append("Shown a clip and its impossible twin, it is more surprised by the impossible one in \(f(100 * accuracy, 0)) % of "
                + "\(overall.pairs) pairs (chance 50 %; AUROC \(overall.auroc.map { f($0) } ?? "–"))"
                + (v.calibration == nil ? "" : " with the calibrated energy")
                + " — it \(verdict)"
                + (weakest.map { "; its weakest category is \($0.category) (\(f(100 * $0.pairwiseAccuracy!, 0)) %)" } ?? "") + ".")
        }
        if collapse.effectiveRank < 2 {
            sentences.append("Warning: the features have collapsed (effective rank \(f(collapse.effectiveRank, 1))).")
        }
        return sentences.joined(separator: " ")
    }
}
