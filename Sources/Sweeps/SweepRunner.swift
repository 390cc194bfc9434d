// Running a sweep's plan: which runs are done, failed, interrupted or new (read from their
// directories, so a sweep resumes after any stop), a pool of workers that never runs more than
// `workers` at once, and one `result.json` per run with its metrics or its error.
import Foundation

/// What one run produced: status, the metrics gathered from its files, or the error.
public struct SweepResult: Codable, Sendable {
    public enum Status: String, Codable, Sendable { case ok, failed }
    public var run: SweepRun
    public var status: Status
    public var metrics: [String: Double]
    public var error: String?
    public var seconds: Double

    /// Metrics of a finished run directory: `train.<key>` from the last line of metrics.jsonl (a
    /// list, such as the per-level `deep` energies, as `train.<key>.1`, `.2`, …),
    /// and from eval/report.json `probe.<name>.r2` (and `.random_r2`), `collapse.<key>`,
    /// `voe.<reduction>.<category>.accuracy|auroc`, `rollout.…` as flattened numbers.
    public static func metrics(ofRun directory: String) -> [String: Double] {
        var out: [String: Double] = [:]
        if let text = try? String(contentsOfFile: directory + "/metrics.jsonl", encoding: .utf8),
           let last = text.split(separator: "\n").last,
           let line = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] {
            for (key, value) in line { flatten(value, prefix: "train.\(key)", into: &out) }
        }
        guard let data = FileManager.default.contents(atPath: directory + "/eval/report.json"),
              let report = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return out }
        for probe in report["probes"] as? [[String: Any]] ?? [] {
            guard let name = probe["name"] as? String else { continue }
            if let r2 = probe["r2"] as? Double { out["probe.\(name).r2"] = r2 }
            if let r2 = probe["random_encoder_r2"] as? Double { out["probe.\(name).random_r2"] = r2 }
        }
        for (key, value) in report["collapse"] as? [String: Any] ?? [:] {
            if let v = value as? Double { out["collapse.\(key)"] = v }
        }
        if let violations = report["violations"] as? [String: Any], let results = violations["results"] as? [String: Any] {
            for (reduction, rows) in results {
                for row in rows as? [[String: Any]] ?? [] {
                    guard let category = row["category"] as? String else { continue }
                    if let a = row["pairwise_accuracy"] as? Double { out["voe.\(reduction).\(category).accuracy"] = a }
                    if let a = row["auroc"] as? Double { out["voe.\(reduction).\(category).auroc"] = a }
                }
            }
        }
        flatten(report["rollouts"], prefix: "rollout", into: &out)
        return out
    }

    static func flatten(_ value: Any?, prefix: String, into out: inout [String: Double]) {
        switch value {
        case let v as Double: out[prefix] = v
        case let dict as [String: Any]: for (k, v) in dict { flatten(v, prefix: "\(prefix).\(k)", into: &out) }
        case let list as [Any]: for (i, v) in list.enumerated() { flatten(v, prefix: "\(prefix).\(i + 1)", into: &out) }
        default: break
        }
    }
}

/// Where a run stands, from its directory.
public enum RunState: Equatable, Sendable {
    case new
    /// Started, stopped before the end: resume from its latest checkpoint (nil: none yet, start over).
    case interrupted(checkpoint: String?)
    case finished(ok: Bool)
}

public struct SweepRunner: Sendable {
    public let spec: SweepSpec
    /// `<runs>/sweeps/<name>`: one directory per run, and the results.
    public let directory: String

    public init(spec: SweepSpec, runsRoot: String) {
        self.spec = spec
        directory = "\(runsRoot)/sweeps/\(spec.name)"
    }

    public func runDirectory(_ run: SweepRun) -> String { "\(directory)/\(run.name)" }

    public func state(of run: SweepRun) -> RunState {
        let dir = runDirectory(run)
        if let data = FileManager.default.contents(atPath: dir + "/result.json"),
           let result = try? JSONDecoder().decode(SweepResult.self, from: data) {
            return .finished(ok: result.status == .ok)
        }
        guard FileManager.default.fileExists(atPath: dir) else { return .new }
        let latest = (try? String(contentsOfFile: dir + "/checkpoints/latest", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return .interrupted(checkpoint: latest.flatMap { $0.isEmpty ? nil : "\(dir)/checkpoints/\($0)" })
    }

    /// Records the plan (`plan.json`) the first time; later invocations must plan the same runs,
    /// so results in the directory always belong to the sweep file as it is.
    public func recordPlan(_ runs: [SweepRun]) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/plan.json"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(runs)
        if let existing = FileManager.default.contents(atPath: path) {
            guard let old = try? JSONDecoder().decode([SweepRun].self, from: existing), old == runs else {
                throw SweepError("\(directory) holds a sweep planned differently (plan.json); the sweep file changed since — give it a new name, or delete \(directory)")
            }
            return
        }
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Runs every run that is not finished (failed ones too with `retryFailed`) on `spec.workers`
    /// threads, each through `execute` (train, evaluate); a throwing `execute` records a failed run
    /// and the others go on. `shouldStop` is checked before each run starts. Returns every run's
    /// result that exists (finished before or now), in plan order.
    public func run(_ runs: [SweepRun], retryFailed: Bool = false, shouldStop: @escaping @Sendable () -> Bool = { false },
                    log: @escaping @Sendable (String) -> Void = { _ in },
                    execute: @escaping @Sendable (SweepRun, RunState) throws -> Void) throws -> [SweepResult] {
        let pending = runs.filter { run in
            switch state(of: run) {
            case .finished(let ok): return !ok && retryFailed
            default: return true
            }
        }
        if pending.count < runs.count { log("\(runs.count - pending.count) of \(runs.count) runs already finished: skipped") }
        let queue = WorkQueue(pending)
        let threads = (0..<min(spec.workers, max(pending.count, 1))).map { _ in
            Thread { [self] in
                while !shouldStop(), let run = queue.next() {
                    let start = Date()
                    let prior = state(of: run)
                    log("start \(run.name) (\(run.axes.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))\(run.seed.map { ", seed=\($0)" } ?? ""))")
                    var result: SweepResult
                    do {
                        try execute(run, prior)
                        result = SweepResult(run: run, status: .ok, metrics: SweepResult.metrics(ofRun: runDirectory(run)),
                                             error: nil, seconds: Date().timeIntervalSince(start))
                    } catch {
                        result = SweepResult(run: run, status: .failed, metrics: SweepResult.metrics(ofRun: runDirectory(run)),
                                             error: "\(error)", seconds: Date().timeIntervalSince(start))
                    }
                    if shouldStop() && result.status == .failed { continue }   // stopped, not failed: resumes next time
                    do {
                        try write(result)
                        log("\(result.status == .ok ? "done" : "FAILED") \(run.name) in \(Int(result.seconds)) s"
                            + (result.error.map { ": \($0.split(separator: "\n").first ?? "")" } ?? ""))
                    } catch {
                        log("cannot record \(run.name): \(error)")
                    }
                }
                queue.finished()
            }
        }
        threads.forEach { $0.start() }
        queue.waitUntilFinished(workers: threads.count)
        return results(runs)
    }

    func write(_ result: SweepResult) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(atPath: runDirectory(result.run), withIntermediateDirectories: true)
        try encoder.encode(result).write(to: URL(fileURLWithPath: runDirectory(result.run) + "/result.json"), options: .atomic)
    }

    /// The recorded results of `runs`, in plan order.
    public func results(_ runs: [SweepRun]) -> [SweepResult] {
        runs.compactMap { run in
            FileManager.default.contents(atPath: runDirectory(run) + "/result.json")
                .flatMap { try? JSONDecoder().decode(SweepResult.self, from: $0) }
        }
    }
}

/// Hands out runs to worker threads; counts the workers that are done.
final class WorkQueue: @unchecked Sendable {   // all state behind `lock`
    private var items: [SweepRun]
    private var done = 0
    private let lock = NSCondition()

    init(_ items: [SweepRun]) { self.items = items.reversed() }

    func next() -> SweepRun? {
        lock.lock(); defer { lock.unlock() }
        return items.popLast()
    }

    func finished() {
        lock.lock(); done += 1; lock.broadcast(); lock.unlock()
    }

    func waitUntilFinished(workers: Int) {
        lock.lock()
        while done < workers { lock.wait() }
        lock.unlock()
    }
}
