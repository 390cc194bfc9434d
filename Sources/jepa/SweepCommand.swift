import ArgumentParser
import Config
import Foundation
import JEPA
import Sweeps

/// `jepa sweep FILE`: expand a sweep file, check every run's config, then train and evaluate the
/// runs (each a `jepa train` and a `jepa eval` child process) a few at a time, resumably.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a sweep of configs (grid, random search, seeds): train, evaluate, gather results; resumable.",
        discussion: """
            Runs go to RUNS/sweeps/NAME/run-NNN; results to sweep_results.csv, sweep_results.md and \
            plot-<axis>.png beside them. Finished runs are skipped and interrupted ones resume from \
            their checkpoints when the same command runs again. A failing run is recorded with its \
            error and the others go on. See experiments/sweeps/README.md for the file format.
            """)

    @Argument(help: ArgumentHelp("Sweep file (YAML).", valueName: "sweep.yaml"))
    var file: String

    @Option(help: ArgumentHelp("Directory that holds the runs.", valueName: "dir"))
    var runs = "runs"

    @Flag(help: "Print the plan (every run's overrides) and check every config; run nothing.")
    var dryRun = false

    @Flag(help: "Run failed runs again (by default a recorded failure is kept).")
    var retryFailed = false

    @Option(help: ArgumentHelp("Run only the run with this index (what each SLURM array task does).", valueName: "i"))
    var only: Int?

    @Flag(help: "Only gather the recorded results into the tables and plots.")
    var collect = false

    @Option(help: ArgumentHelp("Write a job script instead of running: slurm (a SLURM array job, one task per run).", valueName: "kind"))
    var emit: EmitKind?

    @Option(help: ArgumentHelp("Where --emit writes the script (default: RUNS/sweeps/NAME/sweep.slurm).", valueName: "path"))
    var out: String?

    enum EmitKind: String, ExpressibleByArgument, CaseIterable { case slurm }

    func run() throws {
        let spec = try ConfigLoader.loadFile(SweepSpec.self, path: file)
        let plan = spec.plan()
        try spec.checkRuns(plan, as: TrainingConfig.self, sweepFile: file)
        let runner = SweepRunner(spec: spec, runsRoot: runs)
        if let only, !plan.indices.contains(only) {
            throw ValidationError("--only \(only): the sweep has runs 0...\(plan.count - 1)")
        }
        if dryRun { return printPlan(spec, plan, runner) }
        if emit == .slurm {
            try FileManager.default.createDirectory(atPath: runner.directory + "/slurm", withIntermediateDirectories: true)
            try runner.recordPlan(plan)
            let path = out ?? runner.directory + "/sweep.slurm"
            try SweepReport.slurmScript(spec: spec, sweepFile: file, runs: plan.count, runsRoot: runs)
                .write(toFile: path, atomically: true, encoding: .utf8)
            return say("wrote \(path): \(plan.count) array tasks; submit with sbatch \(path)")
        }
        try runner.recordPlan(plan)
        if !collect {
            if only == nil { try spec.checkCores(ProcessInfo.processInfo.activeProcessorCount) }
            StopSignal.install()
            let selected = only.map { [plan[$0]] } ?? plan
            say("sweep \(spec.name): \(selected.count) runs, \(spec.workers) at a time × \(spec.threadsPerWorker) threads → \(runner.directory)")
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            _ = try runner.run(selected, retryFailed: retryFailed, shouldStop: { StopSignal.requested }, log: say) { run, _ in
                try execute(run, spec: spec, runner: runner, executable: executable)
            }
            if StopSignal.requested { say("stopped; run the same command again to resume") }
        }
        let results = runner.results(plan)
        let files = try SweepReport.write(results, spec: spec, planned: plan.count, to: runner.directory)
        say("\(results.count) of \(plan.count) runs recorded (\(results.filter { $0.status == .failed }.count) failed): "
            + files.joined(separator: ", "))
    }

    func printPlan(_ spec: SweepSpec, _ plan: [SweepRun], _ runner: SweepRunner) {
        print("sweep \(spec.name): \(plan.count) runs from \(spec.base), \(spec.workers) at a time × \(spec.threadsPerWorker) threads; "
              + "metric \(spec.metric.name) (\(spec.metric.goal.rawValue))")
        for run in plan {
            let state: String = switch runner.state(of: run) {
            case .new: "new"
            case .interrupted(let checkpoint): checkpoint == nil ? "started, no checkpoint" : "interrupted: resumes"
            case .finished(let ok): ok ? "done: skipped" : "failed (--retry-failed runs it again)"
            }
            print("  \(run.name)  [\(state)]  --set " + run.overrides(spec).joined(separator: " --set "))
        }
    }

    /// Trains (new, resumed or restarted) and evaluates one run as child processes; logs go to
    /// RUNS/sweeps/NAME/logs/run-NNN.{train,eval}.log.
    func execute(_ run: SweepRun, spec: SweepSpec, runner: SweepRunner, executable: String) throws {
        let directory = runner.runDirectory(run)
        let logs = runner.directory + "/logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: directory + "/result.json")   // a retried failure
        var train: [String]
        switch runner.state(of: run) {
        case .interrupted(let checkpoint?) where !checkpoint.isEmpty:
            train = ["train", "--resume", directory]
        case .interrupted:
            train = ["train", "--config", spec.base, "--runs", runner.directory, "--force"] + run.overrides(spec).flatMap { ["--set", $0] }
        default:
            train = ["train", "--config", spec.base, "--runs", runner.directory] + run.overrides(spec).flatMap { ["--set", $0] }
        }
        train += ["--threads", "\(spec.threadsPerWorker)"]
        try child(executable, train, log: "\(logs)/\(run.name).train.log", threads: spec.threadsPerWorker)
        guard spec.evaluate else { return }
        guard let latest = (try? String(contentsOfFile: directory + "/checkpoints/latest", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines), !latest.isEmpty else {
            throw SweepError("\(directory) has no checkpoint after training")
        }
        try child(executable, ["eval", "--checkpoint", "\(directory)/checkpoints/\(latest)", "--out", directory + "/eval"] + spec.evalArgs,
                  log: "\(logs)/\(run.name).eval.log", threads: spec.threadsPerWorker)
    }

    /// Runs `executable arguments` with its output appended to `log`; a non-zero exit throws with the log's tail.
    func child(_ executable: String, _ arguments: [String], log: String, threads: Int) throws {
        guard FileManager.default.fileExists(atPath: log) || FileManager.default.createFile(atPath: log, contents: nil) else {
            throw ValidationError("cannot create the log file \(log)")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        defer { try? handle.close() }
        try handle.seekToEnd()
        handle.write(Data("$ jepa \(arguments.joined(separator: " "))\n".utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["JEPA_THREADS"] = "\(threads)"
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
            let reason = lines.last { $0.hasPrefix("Error: ") }.map { String($0.dropFirst(7)) }
                ?? lines.suffix(2).joined(separator: " / ")
            throw SweepError("jepa \(arguments[0]) failed (exit \(process.terminationStatus)): \(reason) (log \(log))")
        }
    }
}
