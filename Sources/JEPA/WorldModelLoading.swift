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

/// A trained world model read back from a checkpoint written by `Trainer` (the file is read once),
/// in evaluation mode, with its run config and step.
public func loadWorldModel(checkpoint path: String) throws -> (config: TrainingConfig, step: Int, model: any WorldModel) {
    let saved = try CheckpointIO.read(path)
    let config = try ConfigLoader.load(TrainingConfig.self, yaml: saved.config, file: path + " (config attribute)")
    var rng = RandomGenerator(seed: config.seed)
    let model = try makeWorldModel(config, rng: &rng)
    try CheckpointIO.restore(saved, from: path, into: model.checkpointModules, optimizer: nil)
    for module in model.checkpointModules.values { module.eval() }
    return (config, saved.step, model)
}
