// What a sweep leaves behind: sweep_results.csv (every run, every metric), sweep_results.md
// (runs sorted by the chosen metric) and one PNG per swept axis (the metric against its values),
// and the SLURM array-job script that runs the same sweep on a cluster.
import Foundation
import Imaging

public enum SweepReport {
    /// Writes the CSV, the Markdown table and the plots into `directory`; returns the files written.
    @discardableResult
    public static func write(_ results: [SweepResult], spec: SweepSpec, planned: Int, to directory: String) throws -> [String] {
        let axes = spec.axisKeys
        let metricKeys = Set(results.flatMap { $0.metrics.keys }).sorted()
        var csv = (["run", "status", "seed"] + axes + metricKeys + ["seconds", "error"]).map(csvField).joined(separator: ",") + "\n"
        for r in results {
            let values = Dictionary(r.run.axes.map { ($0.key, $0.value.description) }, uniquingKeysWith: { a, _ in a })
            var row = [r.run.name, r.status.rawValue, r.run.seed.map(String.init) ?? ""]
            row += axes.map { values[$0] ?? "" }
            row += metricKeys.map { r.metrics[$0].map { "\($0)" } ?? "" }
            row += [String(format: "%.1f", r.seconds), r.error ?? ""]
            csv += row.map(csvField).joined(separator: ",") + "\n"
        }
        let csvPath = directory + "/sweep_results.csv"
        try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)

        let mdPath = directory + "/sweep_results.md"
        try markdown(results, spec: spec, planned: planned).write(toFile: mdPath, atomically: true, encoding: .utf8)

        var files = [csvPath, mdPath]
        let scored = results.filter { $0.status == .ok && $0.metrics[spec.metric.name] != nil }
        for key in axes {
            let points = scored.compactMap { r -> (Double, Double)? in
                guard let v = r.run.axes.first(where: { $0.key == key })?.value.number else { return nil }
                return (v, r.metrics[spec.metric.name]!)
            }
            guard !points.isEmpty else { continue }
            let path = "\(directory)/plot-\(key).png"
            try writePNG(pointPlot(x: points.map(\.0), y: points.map(\.1)), to: path)
            files.append(path)
        }
        return files
    }

    /// Runs sorted by the metric (best first; runs without it, then failed runs, last).
    public static func markdown(_ results: [SweepResult], spec: SweepSpec, planned: Int) -> String {
        let metric = spec.metric.name
        let ranked = results.sorted { a, b in
            switch (a.metrics[metric], b.metrics[metric]) {
            case let (x?, y?): return spec.metric.goal == .max ? x > y : x < y
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.run.index < b.run.index
            }
        }
        let failed = results.filter { $0.status == .failed }.count
        var lines = ["# Sweep \(spec.name)", "",
                     "Base `\(spec.base)`; \(results.count) of \(planned) runs recorded, \(failed) failed. "
                     + "Sorted by `\(metric)` (\(spec.metric.goal == .max ? "higher" : "lower") is better).", "",
                     "| rank | run | " + spec.axisKeys.map { "`\($0)`" }.joined(separator: " | ") + (spec.axisKeys.isEmpty ? "" : " | ")
                     + "seed | \(metric) | status |",
                     "|---|---|" + String(repeating: "---|", count: spec.axisKeys.count) + "---|---|---|"]
        for (rank, r) in ranked.enumerated() {
            let values = Dictionary(r.run.axes.map { ($0.key, $0.value.description) }, uniquingKeysWith: { a, _ in a })
            let cells = spec.axisKeys.map { values[$0] ?? "" }
            let value = r.metrics[metric].map { String(format: "%.4g", $0) } ?? "–"
            let status = r.status == .ok ? "ok" : "failed: " + (r.error?.split(separator: "\n").first.map(String.init) ?? "")
            lines.append("| \(rank + 1) | \(r.run.name) | " + cells.joined(separator: " | ") + (cells.isEmpty ? "" : " | ")
                         + "\(r.run.seed.map(String.init) ?? "") | \(value) | \(status.replacingOccurrences(of: "|", with: "\\|")) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// A SLURM array job: task i runs `jepa sweep FILE --only i` (train and evaluate run i); a
    /// final `jepa sweep FILE --collect` gathers the results. Resources come from `spec.slurm`;
    /// each task gets the cores of one worker.
    public static func slurmScript(spec: SweepSpec, sweepFile: String, runs: Int, runsRoot: String, jepa: String = "jepa") -> String {
        let s = spec.slurm
        let logs = "\(runsRoot)/sweeps/\(spec.name)/slurm"
        var lines = ["#!/bin/bash",
                     "# SLURM array job for sweep \(spec.name) (\(runs) runs), written by `jepa sweep \(sweepFile) --emit slurm`.",
                     "# Submit from the project directory (\(logs)/ must exist; --emit creates it): sbatch <this file>;",
                     "# afterwards gather the results with: \(jepa) sweep \(sweepFile) --runs \(runsRoot) --collect",
                     "#SBATCH --job-name=jepa-\(spec.name)",
                     "#SBATCH --array=0-\(runs - 1)",
                     "#SBATCH --cpus-per-task=\(s.cpusPerTask ?? spec.threadsPerWorker)",
                     "#SBATCH --mem=\(s.mem)",
                     "#SBATCH --time=\(s.time)",
                     "#SBATCH --output=\(logs)/%A_%a.out"]
        if let partition = s.partition { lines.append("#SBATCH --partition=\(partition)") }
        if let account = s.account { lines.append("#SBATCH --account=\(account)") }
        lines += ["set -euo pipefail"] + s.setup
        lines += ["export JEPA_THREADS=\"${SLURM_CPUS_PER_TASK:-\(spec.threadsPerWorker)}\"",
                  "\(jepa) sweep \(sweepFile) --runs \(runsRoot) --only \"$SLURM_ARRAY_TASK_ID\""]
        return lines.joined(separator: "\n") + "\n"
    }
}
