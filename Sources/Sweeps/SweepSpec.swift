// A sweep file (experiments/sweeps/*.yaml): a base run config, the axes to vary (grid and random
// search over any config key by dotted path), seeds, the metric to rank by, how many runs go at
// once, and SLURM resources. `plan()` expands it into runs, each a list of `--set` overrides.
import Config
import Foundation
import Tensors

/// One value of a swept key, as YAML wrote it (a number, a string, a boolean, or a list of them).
public indirect enum SweepValue: Codable, Sendable, Hashable, CustomStringConvertible {
    case int(Int), double(Double), bool(Bool), string(String), list([SweepValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Int.self) { self = .int(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode([SweepValue].self) { self = .list(v) }
        else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .bool(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        case .list(let v): try c.encode(v)
        }
    }

    /// The value as YAML for a `--set key=value` override.
    public var yaml: String {
        switch self {
        case .int(let v): "\(v)"
        case .double(let v): "\(v)"
        case .bool(let v): "\(v)"
        case .string(let v): "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .list(let v): "[" + v.map(\.yaml).joined(separator: ", ") + "]"
        }
    }

    public var description: String {
        switch self {
        case .string(let v): v
        default: yaml
        }
    }

    /// The value on a plot axis (nil for strings and booleans).
    public var number: Double? {
        switch self {
        case .int(let v): Double(v)
        case .double(let v): v
        default: nil
        }
    }
}

/// A grid axis: a list of values, or an inclusive arithmetic range.
public struct GridAxis: Codable, Sendable, Equatable {
    public var values: [SweepValue]

    enum Keys: String, CodingKey { case range }

    public init(values: [SweepValue]) { self.values = values }

    public init(from decoder: Decoder) throws {
        if let list = try? decoder.singleValueContainer().decode([SweepValue].self) {
            values = list
            return
        }
        let c = try decoder.container(keyedBy: Keys.self)
        let r = try c.decode([Double].self, forKey: .range)
        guard r.count == 3, r[2] > 0, r[1] >= r[0] else {
            throw ConfigError(key: nil, "a range is [start, stop, step] with step > 0 and stop ≥ start, got \(r)")
        }
        let integral = r.allSatisfy { $0 == $0.rounded() }
        let count = Int(((r[1] - r[0]) / r[2] + 1e-9).rounded(.down)) + 1
        values = (0..<count).map { i in
            let v = r[0] + Double(i) * r[2]
            return integral ? .int(Int(v)) : .double(v)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(values)
    }
}

/// A random-search axis: one draw per sample.
public enum RandomAxis: Codable, Sendable, Equatable {
    case uniform(Double, Double)
    case logUniform(Double, Double)
    case intUniform(Int, Int)
    case choice([SweepValue])

    enum Keys: String, CodingKey { case uniform, logUniform = "log_uniform", intUniform = "int_uniform", choice }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw ConfigError(key: nil, "a random axis is one of {uniform: [lo, hi]}, {log_uniform: [lo, hi]}, {int_uniform: [lo, hi]}, {choice: [...]}")
        }
        switch key {
        case .choice:
            let values = try c.decode([SweepValue].self, forKey: .choice)
            guard !values.isEmpty else { throw ConfigError(key: nil, "choice: the list is empty") }
            self = .choice(values)
        case .intUniform:
            let b = try c.decode([Int].self, forKey: .intUniform)
            guard b.count == 2, b[0] <= b[1] else { throw ConfigError(key: nil, "int_uniform: expected [lo, hi] with lo ≤ hi, got \(b)") }
            self = .intUniform(b[0], b[1])
        case .uniform, .logUniform:
            let b = try c.decode([Double].self, forKey: key)
            guard b.count == 2, b[0] <= b[1] else { throw ConfigError(key: nil, "\(key.rawValue): expected [lo, hi] with lo ≤ hi, got \(b)") }
            if key == .logUniform {
                guard b[0] > 0 else { throw ConfigError(key: nil, "log_uniform: bounds must be positive, got \(b)") }
                self = .logUniform(b[0], b[1])
            } else {
                self = .uniform(b[0], b[1])
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .uniform(let a, let b): try c.encode([a, b], forKey: .uniform)
        case .logUniform(let a, let b): try c.encode([a, b], forKey: .logUniform)
        case .intUniform(let a, let b): try c.encode([a, b], forKey: .intUniform)
        case .choice(let v): try c.encode(v, forKey: .choice)
        }
    }

    func draw(_ rng: inout RandomGenerator) -> SweepValue {
        switch self {
        case .uniform(let a, let b): .double(a + (b - a) * Double(rng.uniform()))
        case .logUniform(let a, let b): .double(exp(log(a) + (log(b) - log(a)) * Double(rng.uniform())))
        case .intUniform(let a, let b): .int(a + rng.int(below: b - a + 1))
        case .choice(let v): v[rng.int(below: v.count)]
        }
    }
}

public struct RandomSearch: Codable, Sendable, Equatable {
    public var samples = 1
    public var seed: UInt64 = 0
    public var axes: [String: RandomAxis] = [:]
    enum CodingKeys: String, CodingKey { case samples, seed, axes }
    public init() {}
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self), d = Self()
        samples = try c.decode(.samples, default: d.samples)
        seed = try c.decode(.seed, default: d.seed)
        axes = try c.decode(.axes, default: d.axes)
    }
}

/// The metric runs are ranked by: `train.<key>` (last line of metrics.jsonl), `probe.<name>.r2`,
/// `collapse.<key>`, `voe.<reduction>.<category>.accuracy|auroc`, … (see `SweepResult.metrics`).
public struct SweepMetric: Codable, Sendable, Equatable {
    public enum Goal: String, Codable, Sendable { case min, max }
    public var name = "train.prediction"
    public var goal = Goal.min
    enum CodingKeys: String, CodingKey { case name, goal }
    public init() {}
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self), d = Self()
        name = try c.decode(.name, default: d.name)
        goal = try c.decode(.goal, default: d.goal)
    }
}

/// Resources of one run on a SLURM cluster (`jepa sweep FILE --emit slurm`).
public struct SlurmSettings: Codable, Sendable, Equatable {
    public var partition: String?
    public var account: String?
    public var time = "01:00:00"
    public var cpusPerTask: Int?
    public var mem = "8G"
    /// Shell lines run before each task (e.g. `module load swift`).
    public var setup: [String] = []
    enum CodingKeys: String, CodingKey { case partition, account, time, cpusPerTask = "cpus_per_task", mem, setup }
    public init() {}
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self), d = Self()
        partition = try c.decodeIfPresent(String.self, forKey: .partition)
        account = try c.decodeIfPresent(String.self, forKey: .account)
        time = try c.decode(.time, default: d.time)
        cpusPerTask = try c.decodeIfPresent(Int.self, forKey: .cpusPerTask)
        mem = try c.decode(.mem, default: d.mem)
        setup = try c.decode(.setup, default: d.setup)
    }
}

public struct SweepSpec: Codable, Sendable, Equatable, ValidatableConfig {
    /// Runs go to `<runs>/sweeps/<name>/run-NNN`.
    public var name: String
    /// The base run config (YAML), relative to the working directory.
    public var base: String
    /// Overrides applied to every run (`key=value`), before the swept ones.
    public var set: [String] = []
    public var grid: [String: GridAxis] = [:]
    public var random: RandomSearch?
    /// Every point runs once per seed (`seed=<s>`); empty keeps the base config's seed.
    public var seeds: [UInt64] = []
    public var metric = SweepMetric()
    /// Runs at once, and worker threads each; workers × threads must not exceed the cores.
    public var workers = 1
    public var threadsPerWorker = 1
    /// Evaluate each run after training (`jepa eval`), with these extra arguments.
    public var evaluate = true
    public var evalArgs: [String] = []
    public var slurm = SlurmSettings()

    enum CodingKeys: String, CodingKey {
        case name, base, set, grid, random, seeds, metric, workers, threadsPerWorker = "threads_per_worker",
             evaluate, evalArgs = "eval_args", slurm
    }

    public init(name: String, base: String) {
        self.name = name
        self.base = base
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self), d = Self(name: "", base: "")
        name = try c.decode(String.self, forKey: .name)
        base = try c.decode(String.self, forKey: .base)
        set = try c.decode(.set, default: d.set)
        grid = try c.decode(.grid, default: d.grid)
        random = try c.decodeIfPresent(RandomSearch.self, forKey: .random)
        seeds = try c.decode(.seeds, default: d.seeds)
        metric = try c.decode(.metric, default: d.metric)
        workers = try c.decode(.workers, default: d.workers)
        threadsPerWorker = try c.decode(.threadsPerWorker, default: d.threadsPerWorker)
        evaluate = try c.decode(.evaluate, default: d.evaluate)
        evalArgs = try c.decode(.evalArgs, default: d.evalArgs)
        slurm = try c.decode(.slurm, default: d.slurm)
    }

    public func validate() throws {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw ConfigError(key: "name", "a sweep name is a non-empty directory name, got \"\(name)\"")
        }
        for (key, axis) in grid where axis.values.isEmpty {
            throw ConfigError(key: "grid.\(key)", "the grid axis has no values")
        }
        if let random {
            guard random.samples >= 1 else { throw ConfigError(key: "random.samples", "must be at least 1, got \(random.samples)") }
            guard !random.axes.isEmpty else { throw ConfigError(key: "random.axes", "random search needs at least one axis") }
            if let both = random.axes.keys.first(where: { grid[$0] != nil }) {
                throw ConfigError(key: "random.axes.\(both)", "the key is also a grid axis")
            }
        }
        guard workers >= 1 else { throw ConfigError(key: "workers", "must be at least 1, got \(workers)") }
        guard threadsPerWorker >= 1 else { throw ConfigError(key: "threads_per_worker", "must be at least 1, got \(threadsPerWorker)") }
    }

    /// Checks that the runs fit the machine: workers × threads per worker ≤ `cores`.
    public func checkCores(_ cores: Int) throws {
        guard workers * threadsPerWorker <= cores else {
            throw SweepError("workers (\(workers)) × threads_per_worker (\(threadsPerWorker)) = \(workers * threadsPerWorker) threads, more than the \(cores) cores of this machine; lower one of them")
        }
    }

    /// Every run, in a stable order: grid points (keys sorted, last key fastest) × random samples × seeds.
    public func plan() -> [SweepRun] {
        var points: [[(String, SweepValue)]] = [[]]
        for key in grid.keys.sorted() {
            points = points.flatMap { point in grid[key]!.values.map { point + [(key, $0)] } }
        }
        if let random {
            var rng = RandomGenerator(seed: random.seed)
            let samples = (0..<random.samples).map { _ in random.axes.keys.sorted().map { ($0, random.axes[$0]!.draw(&rng)) } }
            points = points.flatMap { point in samples.map { point + $0 } }
        }
        let seedList: [UInt64?] = seeds.isEmpty ? [nil] : seeds
        var runs: [SweepRun] = []
        for point in points {
            for seed in seedList {
                let index = runs.count
                runs.append(SweepRun(index: index, name: String(format: "run-%03d", index),
                                     axes: point.map { SweepRun.Setting(key: $0.0, value: $0.1) }, seed: seed))
            }
        }
        return runs
    }

    /// Loads every run's config (base + its overrides) as `type` before anything runs, so an
    /// unknown key or a bad value stops the sweep naming the run, the key and the file.
    public func checkRuns<T: Codable>(_ runs: [SweepRun], as type: T.Type, sweepFile: String) throws {
        guard FileManager.default.fileExists(atPath: base) else {
            throw SweepError("\(sweepFile): base: \(base) does not exist")
        }
        for run in runs {
            do {
                _ = try ConfigLoader.loadFile(type, path: base, overrides: run.overrides(self))
            } catch {
                throw SweepError("\(sweepFile): \(run.name) (\(run.axes.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))): \(error)")
            }
        }
    }

    /// The swept keys, in plan order (grid then random).
    public var axisKeys: [String] { grid.keys.sorted() + (random?.axes.keys.sorted() ?? []) }
}

/// One run of a sweep: its swept values and seed.
public struct SweepRun: Codable, Sendable, Equatable {
    public struct Setting: Codable, Sendable, Equatable {
        public var key: String
        public var value: SweepValue
    }
    public var index: Int
    public var name: String
    public var axes: [Setting]
    public var seed: UInt64?

    /// `--set` overrides for `jepa train`: the sweep's fixed ones, the swept values, the seed, the run name.
    public func overrides(_ spec: SweepSpec) -> [String] {
        spec.set + axes.map { "\($0.key)=\($0.value.yaml)" } + (seed.map { ["seed=\($0)"] } ?? []) + ["name=\(name)"]
    }
}

public struct SweepError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
