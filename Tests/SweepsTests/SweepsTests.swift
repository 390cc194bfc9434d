import Config
import Foundation
import JEPA
import Testing
@testable import Sweeps

func spec(_ yaml: String, file: String = "sweep.yaml") throws -> SweepSpec {
    try ConfigLoader.load(SweepSpec.self, yaml: yaml, file: file)
}

func scratch(_ function: String = #function) throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("sweeps-\(function.prefix { $0.isLetter })-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct SweepPlanTests {
    @Test func gridTimesSeedsInAStableOrder() throws {
        let s = try spec("""
            name: s
            base: b.yaml
            set: [train.steps=5]
            grid: {optim.lr: [1.0e-3, 3.0e-3], model.encoder_dim: {range: [16, 48, 16]}}
            seeds: [0, 7]
            """)
        let plan = s.plan()
        #expect(plan.count == 2 * 3 * 2)
        #expect(plan.map(\.name).prefix(3) == ["run-000", "run-001", "run-002"])
        #expect(plan[0].overrides(s) == ["train.steps=5", "model.encoder_dim=16", "optim.lr=0.001", "seed=0", "name=run-000"])
        #expect(plan[1].seed == 7 && plan[2].axes.map(\.value) == [.int(16), .double(0.003)])
        #expect(plan[11].axes.map(\.value) == [.int(48), .double(0.003)] && plan[11].seed == 7)
        #expect(s.plan() == plan)
    }

    @Test func listValuesBecomeYAMLLists() throws {
        let s = try spec("name: s\nbase: b.yaml\ngrid: {loss.deep: [[0, 0], [0.5, 0.5]]}\n")
        #expect(s.plan().map { $0.overrides(s)[0] } == ["loss.deep=[0, 0]", "loss.deep=[0.5, 0.5]"])
    }

    @Test func randomSearchDrawsWithinBoundsDeterministically() throws {
        let yaml = """
            name: r
            base: b.yaml
            grid: {model.encoder_dim: [16, 32]}
            random:
              samples: 50
              seed: 3
              axes:
                optim.lr: {log_uniform: [1.0e-4, 1.0e-2]}
                optim.warmup_steps: {int_uniform: [0, 4]}
                model.distance: {choice: [l1, l2]}
            """
        let plan = try spec(yaml).plan()
        #expect(plan.count == 100)
        let lrs = plan.compactMap { $0.axes.first { $0.key == "optim.lr" }?.value.number }
        #expect(lrs.count == 100 && lrs.allSatisfy { $0 >= 1e-4 && $0 <= 1e-2 })
        #expect(lrs.filter { $0 < 1e-3 }.count > 25)          // log-uniform: half the draws below the geometric middle
        let warmups = Set(plan.compactMap { $0.axes.first { $0.key == "optim.warmup_steps" }?.value })
        #expect(warmups == Set((0...4).map { SweepValue.int($0) }))
        #expect(Set(plan.compactMap { $0.axes.first { $0.key == "model.distance" }?.value.description }) == ["l1", "l2"])
        #expect(try spec(yaml).plan() == plan)
        #expect(plan[0].axes.map(\.key) == ["model.encoder_dim", "model.distance", "optim.lr", "optim.warmup_steps"])
    }

    @Test func badSweepsAreRefusedBeforeAnyRun() throws {
        #expect { try spec("name: s\nbase: b.yaml\ngrid: {optim.lr: []}\n") } throws: { error in
            "\(error)".contains("grid.optim.lr") && "\(error)".contains("no values")
        }
        #expect { try spec("name: s\nbase: b.yaml\nworkerz: 2\n") } throws: { "\($0)".contains("workerz: unknown key") }
        #expect { try spec("name: s\nbase: b.yaml\nrandom: {axes: {optim.lr: {log_uniform: [0, 1]}}}\n") } throws: {
            "\($0)".contains("bounds must be positive")
        }
        let wide = try spec("name: s\nbase: b.yaml\nworkers: 2\nthreads_per_worker: 2\n")
        #expect { try wide.checkCores(2) } throws: { "\($0)".contains("= 4 threads, more than the 2 cores") }
        try wide.checkCores(4)
    }

    @Test func everyRunConfigIsCheckedAgainstTheBaseConfig() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = dir + "/base.yaml"
        try "name: b\nmodel: {encoder_dim: 48}\n".write(toFile: base, atomically: true, encoding: .utf8)
        let good = try spec("name: s\nbase: \(base)\ngrid: {optim.lr: [0.1, 0.2]}\n")
        try good.checkRuns(good.plan(), as: TrainingConfig.self, sweepFile: "s.yaml")
        let bad = try spec("name: s\nbase: \(base)\ngrid: {optim.lrr: [0.1]}\n")
        #expect { try bad.checkRuns(bad.plan(), as: TrainingConfig.self, sweepFile: "s.yaml") } throws: { error in
            "\(error)".contains("s.yaml: run-000 (optim.lrr=0.1)") && "\(error)".contains("optim.lrr: unknown key")
        }
        let missing = try spec("name: s\nbase: \(dir)/nope.yaml\n")
        #expect { try missing.checkRuns(missing.plan(), as: TrainingConfig.self, sweepFile: "s.yaml") } throws: {
            "\($0)".contains("base: \(dir)/nope.yaml does not exist")
        }
    }
}

/// Counts concurrent calls.
final class Gauge: @unchecked Sendable {
    let lock = NSLock()
    var current = 0, peak = 0, calls: [String] = []
    func enter(_ name: String) { lock.lock(); current += 1; peak = max(peak, current); calls.append(name); lock.unlock() }
    func leave() { lock.lock(); current -= 1; lock.unlock() }
}

@Suite struct SweepRunnerTests {
    @Test func runsInParallelRecordsFailuresAndResumes() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = try spec("name: s\nbase: b.yaml\ngrid: {optim.lr: [1, 2, 3, 4, 5, 6]}\nworkers: 3\n")
        let runner = SweepRunner(spec: s, runsRoot: dir)
        let plan = s.plan()
        try runner.recordPlan(plan)
        let gauge = Gauge()
        let results = try runner.run(plan) { run, state in
            gauge.enter(run.name)
            defer { gauge.leave() }
            #expect(state == .new)
            Thread.sleep(forTimeInterval: 0.05)
            try FileManager.default.createDirectory(atPath: runner.runDirectory(run), withIntermediateDirectories: true)
            try "{\"prediction\": \(run.index)}\n".write(toFile: runner.runDirectory(run) + "/metrics.jsonl", atomically: true, encoding: .utf8)
            if run.index == 2 { throw SweepError("boom") }
        }
        #expect(gauge.peak == 3)
        #expect(results.count == 6)
        #expect(results[2].status == .failed && results[2].error == "boom")
        #expect(results[4].status == .ok && results[4].metrics["train.prediction"] == 4)

        // Run again: nothing to do; with retryFailed only the failure runs again.
        let again = Gauge()
        _ = try runner.run(plan) { run, _ in again.enter(run.name) }
        #expect(again.calls.isEmpty)
        _ = try runner.run(plan, retryFailed: true) { run, state in
            again.enter(run.name)
            #expect(state == .finished(ok: false))
        }
        #expect(again.calls == ["run-002"])
        #expect(runner.results(plan).allSatisfy { $0.status == .ok })
    }

    @Test func interruptedRunsAreFoundFromTheirDirectories() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = try spec("name: s\nbase: b.yaml\ngrid: {optim.lr: [1, 2]}\n")
        let runner = SweepRunner(spec: s, runsRoot: dir)
        let plan = s.plan()
        #expect(runner.state(of: plan[0]) == .new)
        try FileManager.default.createDirectory(atPath: runner.runDirectory(plan[0]) + "/checkpoints", withIntermediateDirectories: true)
        #expect(runner.state(of: plan[0]) == .interrupted(checkpoint: nil))
        try "step_20.h5\n".write(toFile: runner.runDirectory(plan[0]) + "/checkpoints/latest", atomically: true, encoding: .utf8)
        #expect(runner.state(of: plan[0]) == .interrupted(checkpoint: runner.runDirectory(plan[0]) + "/checkpoints/step_20.h5"))
    }

    @Test func aChangedSweepFileIsNotMixedWithOldResults() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try spec("name: s\nbase: b.yaml\ngrid: {optim.lr: [1, 2]}\n")
        try SweepRunner(spec: first, runsRoot: dir).recordPlan(first.plan())
        try SweepRunner(spec: first, runsRoot: dir).recordPlan(first.plan())
        let changed = try spec("name: s\nbase: b.yaml\ngrid: {optim.lr: [1, 3]}\n")
        #expect { try SweepRunner(spec: changed, runsRoot: dir).recordPlan(changed.plan()) } throws: {
            "\($0)".contains("planned differently")
        }
    }

    @Test func metricsAreGatheredFromTrainingAndEvaluationFiles() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/eval", withIntermediateDirectories: true)
        try "{\"loss\": 2}\n{\"loss\": 0.5, \"step\": 40, \"deep\": [0.25, 0.125]}\n".write(toFile: dir + "/metrics.jsonl", atomically: true, encoding: .utf8)
        try """
            {"probes": [{"name": "ball0.x", "r2": 0.9, "random_encoder_r2": 0.5}],
             "collapse": {"effective_rank": 12.5},
             "violations": {"results": {"max": [{"category": "teleport", "pairwise_accuracy": 0.75, "auroc": 0.8}]}}}
            """.write(toFile: dir + "/eval/report.json", atomically: true, encoding: .utf8)
        let m = SweepResult.metrics(ofRun: dir)
        #expect(m == ["train.loss": 0.5, "train.step": 40, "train.deep.1": 0.25, "train.deep.2": 0.125, "probe.ball0.x.r2": 0.9, "probe.ball0.x.random_r2": 0.5,
                      "collapse.effective_rank": 12.5, "voe.max.teleport.accuracy": 0.75, "voe.max.teleport.auroc": 0.8])
    }
}

@Suite struct SweepReportTests {
    func result(_ index: Int, _ lr: Double, _ metric: Double?, failed: Bool = false) -> SweepResult {
        SweepResult(run: SweepRun(index: index, name: String(format: "run-%03d", index),
                                  axes: [.init(key: "optim.lr", value: .double(lr))], seed: 0),
                    status: failed ? .failed : .ok, metrics: metric.map { ["probe.ball0.x.r2": $0] } ?? [:],
                    error: failed ? "jepa train failed (exit 64): data.path: x, y does not exist" : nil, seconds: 1)
    }

    @Test func tablesAreSortedByTheMetricAndPlotted() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var s = try spec("name: s\nbase: b.yaml\ngrid: {optim.lr: [1, 2, 3]}\nmetric: {name: probe.ball0.x.r2, goal: max}\n")
        let results = [result(0, 0.1, 0.5), result(1, 0.2, 0.9), result(2, 0.3, nil, failed: true)]
        let files = try SweepReport.write(results, spec: s, planned: 4, to: dir)
        #expect(files.map { ($0 as NSString).lastPathComponent } == ["sweep_results.csv", "sweep_results.md", "plot-optim.lr.png"])
        let md = try String(contentsOfFile: dir + "/sweep_results.md", encoding: .utf8)
        #expect(md.contains("3 of 4 runs recorded, 1 failed"))
        let rows = md.split(separator: "\n").filter { $0.hasPrefix("| 1 ") || $0.hasPrefix("| 2 ") || $0.hasPrefix("| 3 ") }
        #expect(rows[0].contains("run-001") && rows[1].contains("run-000") && rows[2].contains("failed: jepa train failed"))
        s.metric.goal = .min
        #expect(SweepReport.markdown(results, spec: s, planned: 3).split(separator: "\n").first { $0.hasPrefix("| 1 ") }!.contains("run-000"))
        let csv = try String(contentsOfFile: dir + "/sweep_results.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv[0] == "run,status,seed,optim.lr,probe.ball0.x.r2,seconds,error")
        #expect(csv[3] == "run-002,failed,0,0.3,,1.0,\"jepa train failed (exit 64): data.path: x, y does not exist\"")
    }

    @Test func slurmScriptRunsOneArrayTaskPerRun() throws {
        let s = try spec("""
            name: big
            base: experiments/x.yaml
            grid: {optim.lr: [1, 2, 3]}
            seeds: [0, 1]
            threads_per_worker: 4
            slurm: {partition: cpu, account: lab, time: "02:00:00", mem: 16G, setup: ["module load swift"]}
            """)
        let script = SweepReport.slurmScript(spec: s, sweepFile: "experiments/sweeps/big.yaml", runs: s.plan().count, runsRoot: "runs")
        for line in ["#!/bin/bash", "#SBATCH --job-name=jepa-big", "#SBATCH --array=0-5", "#SBATCH --cpus-per-task=4",
                     "#SBATCH --mem=16G", "#SBATCH --time=02:00:00", "#SBATCH --partition=cpu", "#SBATCH --account=lab",
                     "#SBATCH --output=runs/sweeps/big/slurm/%A_%a.out", "module load swift",
                     "jepa sweep experiments/sweeps/big.yaml --runs runs --only \"$SLURM_ARRAY_TASK_ID\""] {
            #expect(script.split(separator: "\n").contains { $0 == line }, "missing line: \(line)")
        }
        #expect(script.hasPrefix("#!/bin/bash\n"))
    }
}
