import Foundation

/// What `jepa plan` measured, written as `plan_report.json` and summarised as `plan_report.md`.
public struct PlanReport: Codable, Sendable {
    /// One policy's results over the episodes.
    public struct PolicyResult: Codable, Sendable {
        public var policy: String
        public var episodes: Int, successes: Int
        public var successRate: Double
        /// 95 % Wilson interval of the success rate.
        public var interval95: [Double]
        /// Mean actions executed in the successful episodes.
        public var meanStepsToSuccess: Double?
        /// Seconds per decision (a re-plan for a planner, one forward pass for the actor): median and 95th percentile.
        public var planSecondsMedian: Double?, planSecondsP95: Double?
        public var replans: Int
        /// Lift and place: episodes in which the object was ever held, held off the floor, held over the target
        /// (place), and the object's releases summed over the episodes — where the failures stopped.
        public var held: Int, offTheFloor: Int, overTarget: Int, releases: Int
        /// Place: the median over episodes of where the object ended, |x − target x| in px.
        public var medianFinalDistance: Double?
        /// Every episode: its seed, outcome, actions executed and milestones (a failure's own story).
        public var episodeResults: [Episode]

        public struct Episode: Codable, Sendable {
            public var seed: UInt64
            public var success: Bool
            public var steps: Int
            public var milestones: GraspMilestones
        }

        public init(policy: String, outcomes: [GraspEpisodeResult], planSeconds: [Double]) {
            self.policy = policy
            episodes = outcomes.count
            let won = outcomes.filter(\.success)
            successes = won.count
            successRate = episodes > 0 ? Double(successes) / Double(episodes) : 0
            let ci = wilsonInterval(successes: successes, trials: episodes)
            interval95 = [ci.low, ci.high]
            meanStepsToSuccess = won.isEmpty ? nil : Double(won.map(\.steps).reduce(0, +)) / Double(won.count)
            let sorted = planSeconds.sorted()
            replans = sorted.count
            planSecondsMedian = sorted.isEmpty ? nil : quantile(sorted, 0.5)
            planSecondsP95 = sorted.isEmpty ? nil : quantile(sorted, 0.95)
            let m = outcomes.map(\.milestones)
            held = m.filter { $0.firstHeld != nil }.count
            offTheFloor = m.filter { $0.firstOffTheFloor != nil }.count
            overTarget = m.filter { $0.firstOverTarget != nil }.count
            releases = m.map(\.releases).reduce(0, +)
            let distances = m.compactMap(\.finalDistanceToTarget).map(Double.init).sorted()
            medianFinalDistance = distances.isEmpty ? nil : quantile(distances, 0.5)
            episodeResults = outcomes.map { Episode(seed: $0.seed, success: $0.success, steps: $0.steps, milestones: $0.milestones) }
        }
    }

    public var checkpoint: String
    public var step: Int
    public var task: String
    /// The planner and its settings, as `name: value` lines (`jepa plan` options).
    public var settings: [String: String]
    public var seed: UInt64
    public var maxSteps: Int
    public var results: [PolicyResult]
    public var seconds: Double

    public init(checkpoint: String, step: Int, task: String, settings: [String: String], seed: UInt64, maxSteps: Int,
                results: [PolicyResult], seconds: Double) {
        (self.checkpoint, self.step, self.task, self.settings, self.seed) = (checkpoint, step, task, settings, seed)
        (self.maxSteps, self.results, self.seconds) = (maxSteps, results, seconds)
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(self)
    }

    public var markdown: String {
        func f(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "–" }
        var md = "# Planning: \(task)\n\n\(checkpoint) (step \(step)); episodes from seed \(seed), at most \(maxSteps) actions each; "
        md += String(format: "%.0f s.\n\n", seconds)
        md += settings.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n\n"
        md += "| policy | success | 95% interval | mean steps to success | median s / decision | p95 s / decision |\n|---|---:|---:|---:|---:|---:|\n"
        for r in results {
            md += "| \(r.policy) | \(r.successes)/\(r.episodes) (\(String(format: "%.0f", 100 * r.successRate)) %) "
            md += "| \(String(format: "%.0f–%.0f %%", 100 * r.interval95[0], 100 * r.interval95[1])) "
            md += "| \(f(r.meanStepsToSuccess, "%.1f")) | \(f(r.planSecondsMedian, "%.3f")) | \(f(r.planSecondsP95, "%.3f")) |\n"
        }
        guard task == "lift" || task == "place" else { return md }
        let place = task == "place"
        md += "\nHow far the episodes got (true state): episodes in which the object was ever held, held off the floor"
        md += place ? ", held over the target; releases summed over episodes; median final |x − target| of the object.\n\n"
            : "; releases summed over episodes.\n\n"
        md += "| policy | held | off the floor |\(place ? " over target |" : "") releases |\(place ? " median final distance (px) |" : "")\n"
        md += "|---|---:|---:|\(place ? "---:|" : "")---:|\(place ? "---:|" : "")\n"
        for r in results {
            md += "| \(r.policy) | \(r.held) | \(r.offTheFloor) |\(place ? " \(r.overTarget) |" : "") \(r.releases) |"
            md += place ? " \(f(r.medianFinalDistance, "%.1f")) |\n" : "\n"
        }
        return md
    }
}

/// Linear interpolation between order statistics of sorted values (numpy's default).
func quantile(_ sorted: [Double], _ q: Double) -> Double {
    let position = q * Double(sorted.count - 1)
    let i = Int(position), frac = position - Double(i)
    return i + 1 < sorted.count ? sorted[i] + frac * (sorted[i + 1] - sorted[i]) : sorted[i]
}
