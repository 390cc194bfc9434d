import Foundation
import Testing
@testable import Config

// A sample nested run configuration using the defaults pattern: every field has a default, so a
// YAML file states only what it changes. Keys are snake_case in YAML.

struct ModelConfig: Codable, Equatable, Sendable, ValidatableConfig {
    var dim = 192
    var depth = 6
    var widths = [64, 128, 256]
    var activation = "gelu"

    enum CodingKeys: String, CodingKey { case dim, depth, widths, activation }

    init() {}
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Self()
        dim = try c.decode(.dim, default: d.dim)
        depth = try c.decode(.depth, default: d.depth)
        widths = try c.decode(.widths, default: d.widths)
        activation = try c.decode(.activation, default: d.activation)
    }

    func validate() throws {
        try check(depth >= 1, key: "depth", "must be at least 1, got \(depth)")
        for (i, w) in widths.enumerated() {
            try check(w > 0, key: "widths.\(i)", "must be positive, got \(w)")
        }
    }
}

struct OptimConfig: Codable, Equatable, Sendable, ValidatableConfig {
    var lr = 1e-4
    var weightDecay = 0.04
    var betas = [0.9, 0.999]

    enum CodingKeys: String, CodingKey { case lr, weightDecay = "weight_decay", betas }

    init() {}
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Self()
        lr = try c.decode(.lr, default: d.lr)
        weightDecay = try c.decode(.weightDecay, default: d.weightDecay)
        betas = try c.decode(.betas, default: d.betas)
    }

    func validate() throws {
        try check(lr > 0, key: "lr", "must be positive, got \(lr)")
        try check(betas.count == 2, key: "betas", "needs 2 values, got \(betas.count)")
    }
}

struct RunConfig: Codable, Equatable, Sendable, ValidatableConfig {
    var name: String                 // required: no default
    var model = ModelConfig()
    var optim = OptimConfig()
    var seed = 0
    var notes: String? = nil
    var tags: [String: Double] = [:]

    enum CodingKeys: String, CodingKey { case name, model, optim, seed, notes, tags }

    init(name: String) { self.name = name }
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Self(name: "")
        name = try c.decode(String.self, forKey: .name)
        model = try c.decode(.model, default: d.model)
        optim = try c.decode(.optim, default: d.optim)
        seed = try c.decode(.seed, default: d.seed)
        notes = try c.decode(.notes, default: d.notes)
        tags = try c.decode(.tags, default: d.tags)
    }

    func validate() throws {
        try check(seed >= 0, key: "seed", "must not be negative, got \(seed)")
        try validate(model, at: "model")
        try validate(optim, at: "optim")
    }
}

let file = "experiments/balls-vjepa.yaml"

let sample = """
name: balls
model:
  dim: 256
  widths: [32, 64]
optim:
  lr: 3.0e-4
  weight_decay: 0.05
seed: 7

"""

func configError(_ body: () throws -> Void) -> ConfigError? {
    do {
        try body()
        return nil
    } catch let error as ConfigError {
        return error
    } catch {
        Issue.record("expected a ConfigError, got \(error)")
        return nil
    }
}

@Test func defaultsFillMissingKeys() throws {
    let run = try ConfigLoader.load(RunConfig.self, yaml: sample, file: file)
    #expect(run.name == "balls")
    #expect(run.model.dim == 256)
    #expect(run.model.depth == 6)                  // default
    #expect(run.model.widths == [32, 64])
    #expect(run.model.activation == "gelu")        // default
    #expect(run.optim.lr == 3e-4)
    #expect(run.optim.weightDecay == 0.05)         // snake_case key
    #expect(run.optim.betas == [0.9, 0.999])       // default
    #expect(run.seed == 7)
    #expect(run.notes == nil)

    let minimal = try ConfigLoader.load(RunConfig.self, yaml: "name: x\n", file: file)
    #expect(minimal == RunConfig(name: "x"))
}

@Test func embeddedDefault() throws {
    let embedded = "name: default-run\noptim: {lr: 0.001}\n"
    let run = try ConfigLoader.load(RunConfig.self, yaml: embedded, file: "<embedded default>",
                                    overrides: ["seed=3"])
    #expect(run.optim.lr == 0.001)
    #expect(run.seed == 3)
    let error = configError { _ = try ConfigLoader.load(RunConfig.self, yaml: embedded + "sed: 1\n", file: "<embedded default>") }
    #expect(error?.description == "<embedded default>:3: sed: unknown key; known keys: model, name, optim, seed, tags")
}

@Test func integerWhereDoubleExpected() throws {
    let run = try ConfigLoader.load(RunConfig.self, yaml: "name: a\noptim: {lr: 1, weight_decay: 0}\n", file: file)
    #expect(run.optim.lr == 1.0)
    #expect(run.optim.weightDecay == 0.0)
}

@Test func overridesOfScalarsListsAndNestedKeys() throws {
    let run = try ConfigLoader.load(RunConfig.self, yaml: sample, file: file, overrides: [
        "optim.lr=3e-4",
        "seed=42",
        "name=\"run 2\"",
        "model.widths=[2, 4, 8]",
        "model.widths.1=5",
        "model.widths.3=16",           // appends
        "optim.betas=[0.8, 0.99]",
        "model.activation=relu",
        "tags={a: 1, b: 2.5}",
    ])
    #expect(run.optim.lr == 3e-4)
    #expect(run.seed == 42)
    #expect(run.name == "run 2")
    #expect(run.model.widths == [2, 5, 8, 16])
    #expect(run.optim.betas == [0.8, 0.99])
    #expect(run.model.activation == "relu")
    #expect(run.tags == ["a": 1, "b": 2.5])
    // New keys are created where the type has them (depth is not in the file).
    let deeper = try ConfigLoader.load(RunConfig.self, yaml: "name: a\n", file: file,
                                       overrides: ["model.depth=12", "optim.weight_decay=0"])
    #expect(deeper.model.depth == 12)
    #expect(deeper.optim.weightDecay == 0)
    // Later overrides win.
    let twice = try ConfigLoader.load(RunConfig.self, yaml: sample, file: file, overrides: ["seed=1", "seed=2"])
    #expect(twice.seed == 2)
}

@Test func unknownKeys() {
    let top = configError { _ = try ConfigLoader.load(RunConfig.self, yaml: sample + "epochs: 3\n", file: file) }
    #expect(top?.key == "epochs")
    #expect(top?.file == file)
    #expect(top?.line == 9)
    #expect(top?.description.hasPrefix("experiments/balls-vjepa.yaml:9: epochs: unknown key") == true)

    let nested = configError {
        _ = try ConfigLoader.load(RunConfig.self, yaml: "name: a\noptim:\n  lr: 1\n  momentum: 0.9\n", file: file)
    }
    #expect(nested?.key == "optim.momentum")
    #expect(nested?.line == 4)
    #expect(nested?.description == "experiments/balls-vjepa.yaml:4: optim.momentum: unknown key; known keys: betas, lr, weight_decay")

    let camel = configError {
        _ = try ConfigLoader.load(RunConfig.self, yaml: "name: a\noptim: {weightDecay: 0.1}\n", file: file)
    }
    #expect(camel?.key == "optim.weightDecay")
    #expect(camel?.message == "unknown key; did you mean weight_decay?")

    let viaOverride = configError {
        _ = try ConfigLoader.load(RunConfig.self, yaml: sample, file: file, overrides: ["optim.lrr=0.1"])
    }
    #expect(viaOverride?.key == "optim.lrr")
    #expect(viaOverride?.file == file)
    #expect(viaOverride?.line == nil)
    #expect(viaOverride?.message.contains("override \"optim.lrr=0.1\"") == true)

    let newSection = configError {
        _ = try ConfigLoader.load(RunConfig.self, yaml: sample, file: file, overrides: ["data.path=/tmp/x"])
    }
    #expect(newSection?.key == "data")
    #expect(newSection?.message.contains("override \"data.path=/tmp/x\"") == true)

    // A nil Optional may be written as null.
    #expect(throws: Never.self) { try ConfigLoader.load(RunConfig.self, yaml: "name: a\nnotes: null\n", file: file) }
}

@Test func wrongTypes() {
    let word = configError {
        _ = try ConfigLoader.load(RunConfig.self, yaml: "name: a\noptim:\n  lr: fast\n", file: file)
    }
    #expect(word?.key == "optim.lr")
    #expect(word?.line == 3)
    #expect(word?.description == "experiments/balls-vjepa.yaml:3: optim.lr: expected a number, found \"fast\"")

    let fraction = configError { _ = try ConfigLoader.load(RunConfig.self, yaml: "name: a\nmodel: {depth: 2.5}\n", file: file) }
    #expect(fraction?.key == "model.depth")
    #expect(fraction?.message == "expected an integer, found 2.5")

    let element = configError { _ = try ConfigLoader.load(RunConfig.self, yaml: "name: a\nmodel: {widths: [1, two]}\n", file: file) }
    #expect(element?.key == "model.widths.1")
    #expect(element?.message == "expected an integer, found \"two\"")

    let notAList = configError { _ = try ConfigLoader.load(RunConfig.self, yaml: "name: a\noptim: {betas: 0.9}\n", file: file) }
    #expect(notAList?.key == "optim.betas")
    #expect(notAList?.message.hasPrefix("expected a list") == true)

    let notAMapping = configError { _ = try ConfigLoader.load(RunConfig.self, yaml: "name: a\nmodel: 3\n", file: file) }
    #expect(notAMapping?.key == "model")

    let viaOverride = configError {
        _ = try ConfigLoader.load(RunConfig.self, yaml: sample, file: file, overrides: ["optim.lr=fast"])
    }
    #expect(viaOverride?.description == "experiments/balls-vjepa.yaml: optim.lr: expected a number, found \"fast\" (override \"optim.lr=fast\")")

    let missing = configError { _ = try ConfigLoader.load(RunConfig.self, yaml: "seed: 1\n", file: file) }
    #expect(missing?.key == "name")
    #expect(missing?.message == "missing required key")
}

@Test func validationErrorsNameKeyAndFile() {
    let lr = configError { _ = try ConfigLoader.load(RunConfig.self, yaml: "name: a\noptim:\n  lr: -1\n", file: file) }
    #expect(lr?.description == "experiments/balls-vjepa.yaml:3: optim.lr: must be positive, got -1.0")

    let width = configError {
        _ = try ConfigLoader.load(RunConfig.self, yaml: sample, file: file, overrides: ["model.widths.1=0"])
    }
    #expect(width?.key == "model.widths.1")
    #expect(width?.file == file)
    #expect(width?.message == "must be positive, got 0 (override \"model.widths.1=0\")")

    let seed = configError { _ = try ConfigLoader.load(RunConfig.self, yaml: "name: a\n", file: file, overrides: ["seed=-1"]) }
    #expect(seed?.key == "seed")
}

@Test func malformedYAMLNamesFileAndLine() {
    let badIndent = configError {
        _ = try ConfigLoader.load(RunConfig.self, yaml: "name: a\noptim:\n  lr: 1\n bad: 2\n", file: file)
    }
    #expect(badIndent?.file == file)
    #expect(badIndent?.line == 4)
    #expect(badIndent?.description.hasPrefix("experiments/balls-vjepa.yaml:4: invalid YAML") == true)

    let unclosed = configError { _ = try ConfigLoader.load(RunConfig.self, yaml: "name: a\nmodel: {dim: 3\nseed: 1\n", file: file) }
    #expect(unclosed?.file == file)
    #expect(unclosed?.line != nil)

    let duplicate = configError { _ = try ConfigLoader.load(RunConfig.self, yaml: "name: a\nseed: 1\nseed: 2\n", file: file) }
    #expect(duplicate?.file == file)
    #expect(duplicate?.message.contains("seed") == true)
}

@Test func malformedOverrides() {
    for bad in ["optim.lr", "=3", " =3", "optim..lr=3", ".lr=3", "optim.lr=[1, 2", "seed.x=1"] {
        let error = configError { _ = try ConfigLoader.load(RunConfig.self, yaml: sample, file: file, overrides: [bad]) }
        #expect(error != nil, "override \(bad)")
        #expect(error?.message.contains(bad) == true, "\(String(describing: error))")
    }
    let noEquals = configError { _ = try ConfigLoader.parseOverride("optim.lr") }
    #expect(noEquals?.message == "invalid override \"optim.lr\": expected key.path=value")
    let outOfRange = configError { _ = try ConfigLoader.load(RunConfig.self, yaml: sample, file: file, overrides: ["model.widths.5=1"]) }
    #expect(outOfRange?.key == "model.widths.5")
}

@Test func resolvedYAMLRoundTrips() throws {
    var run = try ConfigLoader.load(RunConfig.self, yaml: sample, file: file,
                                    overrides: ["optim.lr=3e-4", "notes=\"ünïcode: ok\"", "tags={b: 0.1, a: 1e-7}"])
    #expect(run.notes == "ünïcode: ok")
    run.optim.weightDecay = 0.1 + 0.2            // needs 17 significant digits
    let yaml = try ConfigLoader.resolvedYAML(run)
    let back = try ConfigLoader.load(RunConfig.self, yaml: yaml, file: "resolved.yaml")
    #expect(back == run)
    #expect(try ConfigLoader.resolvedYAML(back) == yaml)     // stable
    #expect(yaml.hasPrefix("model:"))                        // sorted keys
    #expect(yaml.contains("weight_decay: 0.30000000000000004"))

    // Strings that look like numbers or booleans stay strings.
    var tricky = RunConfig(name: "123")
    tricky.notes = "true"
    tricky.model.activation = ""
    let trickyYAML = try ConfigLoader.resolvedYAML(tricky)
    #expect(try ConfigLoader.load(RunConfig.self, yaml: trickyYAML, file: nil) == tricky)
    #expect(trickyYAML == """
    model:
      activation: ''
      depth: 6
      dim: 192
      widths: [64, 128, 256]
    name: '123'
    notes: 'true'
    optim:
      betas: [0.9, 0.999]
      lr: 0.0001
      weight_decay: 0.04
    seed: 0
    tags: {}

    """)
}

@Test func dottedPathHelpers() throws {
    #expect(try ConfigLoader.value(at: "optim.lr", in: sample) == "3.0e-4")
    #expect(try ConfigLoader.value(at: "model.widths", in: sample) == "[32, 64]")
    #expect(try ConfigLoader.value(at: "model.widths.1", in: sample) == "64")
    #expect(try ConfigLoader.value(at: "model.depth", in: sample) == nil)
    #expect(try ConfigLoader.value(at: "optim", in: sample) == "{lr: 3.0e-4, weight_decay: 0.05}")

    let changed = try ConfigLoader.setting("optim.betas", to: "[0.5, 0.6]", in: sample)
    #expect(try ConfigLoader.value(at: "optim.betas", in: changed) == "[0.5, 0.6]")
    #expect(try ConfigLoader.value(at: "optim.lr", in: changed) == "3.0e-4")
    let created = try ConfigLoader.setting("a.b.c", to: "1", in: "")
    #expect(try ConfigLoader.value(at: "a.b.c", in: created) == "1")
}

enum Precision: String, Codable { case fp32, bf16 }
struct Stage: Codable, Equatable { var name: String; var epochs: Int }
struct Schedule: Codable, Equatable {
    var precision: Precision
    var stages: [Stage]
}

@Test func listElementsEnumsAndUnrelatedOverrides() {
    let yaml = "precision: fp32\nstages:\n  - {name: warmup, epochs: 1}\n  - {name: main, epochs: 9, lr: 2}\n"
    let unknown = configError { _ = try ConfigLoader.load(Schedule.self, yaml: yaml, file: "s.yaml") }
    #expect(unknown?.description == "s.yaml:4: stages.1.lr: unknown key; known keys: epochs, name")

    let badEnum = configError { _ = try ConfigLoader.load(Schedule.self, yaml: "precision: fp8\nstages: []\n", file: "s.yaml") }
    #expect(badEnum?.description == "s.yaml:1: precision: invalid value \"fp8\"")

    let viaOverride = configError {
        _ = try ConfigLoader.load(Schedule.self, yaml: yaml, file: "s.yaml", overrides: ["stages.0.epochs=many"])
    }
    #expect(viaOverride?.description == "s.yaml: stages.0.epochs: expected an integer, found \"many\" (override \"stages.0.epochs=many\")")

    // An error elsewhere in the file does not blame an unrelated override.
    let unrelated = configError {
        _ = try ConfigLoader.load(RunConfig.self, yaml: "name: a\noptim:\n  lr: fast\n", file: file, overrides: ["optim.betas=[1, 2]"])
    }
    #expect(unrelated?.description == "experiments/balls-vjepa.yaml:3: optim.lr: expected a number, found \"fast\"")
    let missing = configError { _ = try ConfigLoader.load(RunConfig.self, yaml: "seed: 1\n", file: file, overrides: ["optim.lr=1"]) }
    #expect(missing?.description == "experiments/balls-vjepa.yaml: name: missing required key")
}

@Test func loadFileNamesThePath() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("config-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("run.yaml").path
    try (sample + "optim_lr: 1\n").write(toFile: path, atomically: true, encoding: .utf8)

    let error = configError { _ = try ConfigLoader.loadFile(RunConfig.self, path: path) }
    #expect(error?.description.hasPrefix("\(path):9: optim_lr: unknown key") == true)
    try sample.write(toFile: path, atomically: true, encoding: .utf8)
    let run = try ConfigLoader.loadFile(RunConfig.self, path: path, overrides: ["optim.lr=0.5"])
    #expect(run.optim.lr == 0.5)

    let missing = configError { _ = try ConfigLoader.loadFile(RunConfig.self, path: dir.appendingPathComponent("nope.yaml").path) }
    #expect(missing?.file?.hasSuffix("nope.yaml") == true)
    #expect(missing?.message.hasPrefix("cannot read the file") == true)
}
