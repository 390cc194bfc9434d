import ArgumentParser
import Foundation

/// `jepa bench`: throughput of the building blocks, per thread count, as one aligned table.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark raw OpenBLAS sgemm, the toolkit's matrix products and a ViT block forward+backward, per thread count.",
        discussion: """
            Every case: \(Timing.defaultWarmup) untimed calls, then calls each timed alone on \
            CLOCK_MONOTONIC until at least --seconds have passed and at least \(Timing.defaultMinReps) \
            calls were made. The table gives the median and the best call; a GEMM counts 2·M·N·K FLOPs. \
            Peak memory is getrusage's ru_maxrss at the end of the run. \
            Sections: \(BenchSections.all.map(\.id).joined(separator: ", ")).
            """)

    @Option(help: ArgumentHelp(
        "Thread counts to measure, comma-separated (default: $\(WorkerThreads.environmentVariable) if set, else 1,2).",
        valueName: "n,..."))
    var threads: IntList?

    @Option(help: ArgumentHelp("Minimum timed seconds per case.", valueName: "s"))
    var seconds: Double = 2

    @Option(help: ArgumentHelp("Square sizes for the raw sgemm section, comma-separated.", valueName: "n,..."))
    var sizes = IntList([256, 512, 1024])

    @Option(help: ArgumentHelp("Sections to run, comma-separated (default: all).", valueName: "id,..."))
    var sections: NameList?

    @Option(help: ArgumentHelp("Also write every row as JSON to this file.", valueName: "path"))
    var json: String?

    func validate() throws {
        if let threads {
            try WorkerThreads.validate(threads.values, source: "--threads")
        } else {
            _ = try WorkerThreads.fromEnvironment()
        }
        guard seconds.isFinite, seconds > 0, seconds <= 3600 else {
            throw ValidationError("--seconds must be in (0, 3600]; got \(seconds)")
        }
        for n in sizes.values where !(1...8192).contains(n) {
            throw ValidationError("--sizes: \(n) is out of range 1...8192")
        }
        let known = BenchSections.all.map(\.id)
        for id in sections?.values ?? [] where !known.contains(id) {
            throw ValidationError("--sections: unknown section '\(id)'; known: \(known.joined(separator: ", "))")
        }
        if let json {
            let directory = URL(fileURLWithPath: json).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory),
                  isDirectory.boolValue else {
                throw ValidationError("--json: directory '\(directory)' does not exist")
            }
        }
    }

    func run() throws {
        let threadCounts = try threads?.values ?? WorkerThreads.fromEnvironment() ?? [1, 2]
        let selected = BenchSections.all.filter { sections?.values.contains($0.id) ?? true }
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        let date = ISO8601DateFormatter().string(from: Date())

        say("jepa bench \(Jepa.configuration.version)  \(date)")
        say("OpenBLAS config: \(OpenBLAS.config)")
        say("OpenBLAS core:   \(OpenBLAS.coreName)")
        say("CPUs online:     \(cpus)")
        say("Method: \(Timing.defaultWarmup) untimed calls, then calls each timed alone until >= \(seconds) s "
            + "and >= \(Timing.defaultMinReps) calls; median and best call; GEMM FLOPs = 2*M*N*K.")

        let table = TextTable(columns: [
            .init("case", width: 14, .left), .init("shape", width: 24, .left), .init("reps", width: 5),
            .init("median ms", width: 9), .init("best ms", width: 9),
            .init("median GFLOP/s"), .init("best GFLOP/s"), .init("note", .left),
        ])
        var rows: [BenchRow] = []
        for threadCount in threadCounts {
            let context = BenchContext(threads: threadCount, seconds: seconds, sizes: sizes.values)
            say("")
            say("== \(threadCount) thread\(threadCount == 1 ? "" : "s")"
                + (threadCount > cpus ? " (more than the \(cpus) online CPUs)" : "") + " ==")
            say(table.header)
            say(table.rule)
            for section in selected {
                say("# \(section.title)")
                let sectionRows = try section.run(context)
                for row in sectionRows {
                    say(table.line(cells(row)))
                }
                rows += sectionRows
            }
        }

        say("")
        say("== summary: median GFLOP/s (or median ms) per thread count ==")
        say(summary(rows, threadCounts: threadCounts))

        let peak = peakRSSMiB()
        say("")
        say("peak RSS: \(fixed(peak, 1)) MiB (getrusage ru_maxrss)")

        if let json {
            let report = BenchReport(
                version: Jepa.configuration.version, date: date, openblasConfig: OpenBLAS.config,
                openblasCore: OpenBLAS.coreName, cpus: cpus, warmup: Timing.defaultWarmup,
                minReps: Timing.defaultMinReps, seconds: seconds, threads: threadCounts,
                rows: rows, peakRSSMiB: peak)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json), options: .atomic)
            say("wrote \(json)")
        }
    }

    private func cells(_ row: BenchRow) -> [String] {
        [row.name, row.shape, String(row.reps), fixed(row.medianMs, 3), fixed(row.bestMs, 3),
         row.medianGFLOPS.map { fixed($0, 1) } ?? "", row.bestGFLOPS.map { fixed($0, 1) } ?? "",
         row.note ?? ""]
    }

    /// One line per case, one column per thread count.
    private func summary(_ rows: [BenchRow], threadCounts: [Int]) -> String {
        var keys: [String] = []
        var byKey: [String: [Int: BenchRow]] = [:]
        for row in rows {
            let key = row.section + "\u{0}" + row.name
            if byKey[key] == nil { keys.append(key) }
            byKey[key, default: [:]][row.threads] = row
        }
        let counts = threadCounts.reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
        var table = TextTable(columns: [.init("case", .left), .init("shape", .left)]
            + counts.map { .init("\($0) thr") })
        let lines: [[String]] = keys.map { key in
            let perThreads = byKey[key]!
            let any = perThreads.values.first!
            return [any.name, any.shape] + counts.map { t in
                guard let row = perThreads[t] else { return "" }
                return row.medianGFLOPS.map { fixed($0, 1) } ?? fixed(row.medianMs, 2) + " ms"
            }
        }
        table.fit(lines)
        return ([table.header, table.rule] + lines.map(table.line)).joined(separator: "\n")
    }
}

/// The JSON written by `jepa bench --json`.
struct BenchReport: Codable {
    var version: String
    var date: String
    var openblasConfig: String
    var openblasCore: String
    var cpus: Int
    var warmup: Int
    var minReps: Int
    var seconds: Double
    var threads: [Int]
    var rows: [BenchRow]
    var peakRSSMiB: Double
}

/// Prints a line and flushes, so progress shows when stdout is a pipe (CI logs).
func say(_ line: String) {
    print(line)
    fflush(nil)  // all output streams; naming `stdout` is not concurrency-safe in Swift 6
}
