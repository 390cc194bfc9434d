import Checkpoints
import Config
import Tensors

/// The world model a run config describes, randomly initialised from `rng`.
public func makeWorldModel(_ config: TrainingConfig, rng: inout RandomGenerator) throws -> any WorldModel {
    switch config.kind {
    case .video: return try VideoJEPA(config: config.model, rng: &rng)
    case .actionConditioned, .nextFrame: return try ActionConditionedJEPA(config: config.actionModel, rng: &rng)
    }
}

/// A trained world model, in evaluation mode, with its run config and step.
///
/// `path` is a jepa-swift checkpoint (its config attribute says what to build; `configPath` is not
/// needed) or another tool's weight file (PyTorch via `tools/torch_to_hdf5.py`, Keras), which
/// carries no hyperparameters: then `configPath` names the run config whose model it is, every
/// shape is checked against it, and `strict` decides whether missing, unexpected or mis-shaped
/// keys are refused or reported through `log`. Foreign files load as step 0.
public func loadWorldModel(checkpoint path: String, config configPath: String? = nil, strict: Bool = true,
                           log: (String) -> Void = { _ in }) throws -> (config: TrainingConfig, step: Int, model: any WorldModel) {
    let format = try WeightFile.format(of: path)
    if format == .jepa {
        let saved = try CheckpointIO.read(path)
        let config = try ConfigLoader.load(TrainingConfig.self, yaml: saved.config, file: path + " (config attribute)")
        var rng = RandomGenerator(seed: config.seed)
        let model = try makeWorldModel(config, rng: &rng)
        try CheckpointIO.restore(saved, from: path, into: model.checkpointModules, optimizer: nil)
        for module in model.checkpointModules.values { module.eval() }
        return (config, saved.step, model)
    }
    guard let configPath else {
        throw CheckpointError(.unsupported, path: path, "\(path) is a \(format.rawValue) weight file, which does not say how the model is built (heads, LayerNorm eps, GELU flavour): name a run config with --config")
    }
    let config = try ConfigLoader.loadFile(TrainingConfig.self, path: configPath)
    var rng = RandomGenerator(seed: config.seed)
    let model = try makeWorldModel(config, rng: &rng)
    try initialiseWeights(model, from: path, strict: strict, log: log)
    for module in model.checkpointModules.values { module.eval() }
    return (config, 0, model)
}

/// Loads weights from `path` (our checkpoint or a foreign file) into `model`'s modules by name,
/// for `jepa train --init-from` and foreign checkpoints. Optimiser state is not touched. Strict
/// refuses any missing, unexpected or mis-shaped key (all listed); otherwise what matches is
/// loaded and each problem goes to `log`. Returns the mapping (for reports).
@discardableResult
public func initialiseWeights(_ model: any WorldModel, from path: String, strict: Bool,
                              kerasTarget: String = "context_encoder",
                              log: (String) -> Void = { _ in }) throws -> WeightMapping {
    let file = try WeightFile.read(path)
    let mapping = WeightMapping(file, onto: model.checkpointModules, kerasTarget: kerasTarget)
    let problems = try mapping.load(into: model.checkpointModules, strict: strict, path: path)
    for note in mapping.notes { log("\(path): \(note)") }
    for problem in problems { log("\(path): not loaded: \(problem)") }
    return mapping
}
