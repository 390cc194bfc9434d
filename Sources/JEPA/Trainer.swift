import Checkpoints
import Checksums
import Distributed
import Foundation
import NN
import Tensors
import Worlds

/// One line of `metrics.jsonl`.
public struct TrainingRecord: Codable, Sendable {
    public var step: Int
    public var loss: Float, prediction: Float, variance: Float, covariance: Float, sigreg: Float
    /// Action-conditioned runs only: rollout energy, inverse-dynamics MSE, and the energy of the
    /// "nothing changes" prediction the model must beat.
    public var rollout: Float?, inverseDynamics: Float?, copyBaseline: Float?
    /// Runs with V-JEPA 2.1 objectives: the dense energy (context tokens, or the stepped-from frame) and each deep level's.
    public var dense: Float?, deep: [Float]?
    /// With proprioception: the predicted proprio part's distance, and that of "it does not change".
    public var proprio: Float?, proprioCopyBaseline: Float?
    public var learningRate: Float, momentum: Float
    public var targetStd: Float, targetMinStd: Float, deadFraction: Float
    public var effectiveRank: Double
    public var seconds: Double
}

/// What the trainer tells its caller as it goes.
public enum TrainingEvent {
    case step(TrainingRecord)
    case checkpoint(path: String, step: Int)
    case collapseWarning(step: Int, targetStd: Float)
}

/// The explicit training loop of a JEPA world model (video or action-conditioned): sample clips
/// (and masks), predict, step AdamW, move the EMA target, log, checkpoint. Every piece of state that decides the next step (parameters,
/// optimiser moments, mask RNG, data-loader position, step) is in each checkpoint, so a resumed run
/// computes exactly what an uninterrupted one would.
public final class Trainer {
    public let config: TrainingConfig
    public let runDirectory: String
    public let model: any WorldModel
    public let optimizer: AdamW
    public private(set) var step = 0
    public private(set) var lastCheckpoint: String?
    /// The data-parallel ranks (one process by default). Every rank reads the same batches and
    /// trains on its slice of each; gradients are averaged, so all ranks keep identical
    /// parameters and EMA targets; only rank 0 writes metrics and checkpoints.
    public let communicator: any Communicator

    let configYAML: String
    /// The tensors gradient clipping scales (reflection over the modules is too slow to repeat per step).
    let trainable: [Tensor]
    let loader: ClipLoader
    /// The masks of a video run (nil for action-conditioned runs) and the token grid they cover.
    let masks: (strategy: any MaskStrategy, grid: TokenGrid)?
    var maskRNG: RandomGenerator
    let rotation: CheckpointRotation
    let learningRates: WarmupCosine
    let momenta: CosineSchedule
    let start = Date()
    /// Flat gradients of every trainable tensor, reused each step for the all-reduce.
    var gradientBuffer: [Float] = []
    /// Forward and backward of a batch over the worker threads.
    let parallelStep: DataParallelStep

    /// Builds the model and data pipeline; with `resume`, restores the newest checkpoint of the run.
    /// With several ranks, `data.batch_size` is the global batch (each rank takes batch / size
    /// clips of it) and every rank must pass the same config.
    public init(config: TrainingConfig, runDirectory: String, configYAML: String, resume: Bool,
                communicator: any Communicator = SingleProcess()) throws {
        self.config = config
        self.communicator = communicator
        if communicator.size > 1 { try Self.checkRanksAgree(config, configYAML, communicator) }
        self.runDirectory = runDirectory
        self.configYAML = configYAML
        var rng = RandomGenerator(seed: config.seed)
        model = try makeWorldModel(config, rng: &rng)
        if let video = model as? VideoJEPA {
            let g = video.contextEncoder.patchEmbed.grid
            let grid = TokenGrid(frames: g[0], height: g[1], width: g[2])
            let strategy = config.mask.strategy()
            try strategy.validate(grid: grid)
            masks = (strategy, grid)
        } else {
            masks = nil
        }
        let expectedFrame = config.frameShape
        optimizer = AdamW(parameters: model.trainableParameters, learningRate: config.optim.lr,
                          weightDecay: config.optim.weightDecay)
        trainable = model.trainableParameters.map(\.tensor)
        parallelStep = DataParallelStep(trainable: trainable)
        maskRNG = rng.split()
        loader = try ClipLoader(path: config.data.path, options: ClipLoaderOptions(
            batchSize: config.data.batchSize, clipLength: config.clipLength, seed: rng.next()))
        let shape = loader.frameShape
        guard shape == expectedFrame else {
            throw TrainingError.mismatchedData("\(config.data.path): frames are \(shape) (C, H, W), the model expects \(expectedFrame)")
        }
        if config.kind == .actionConditioned, loader.actionCount != config.actionModel.actionDim {
            throw TrainingError.mismatchedData("\(config.data.path): episodes carry \(loader.actionCount) action values per frame, model.action_dim is \(config.actionModel.actionDim)"
                + (loader.actionCount == 0 ? " (a passive dataset: action-conditioned training needs an action-labelled world such as grasp)" : ""))
        }
        if loader.stateCount < config.actionModel.proprioDim {
            throw TrainingError.mismatchedData("\(config.data.path): episodes carry \(loader.stateCount) state values per frame; model.proprio reads the first \(config.actionModel.proprioDim) (model.proprio_scale)")
        }
        learningRates = WarmupCosine(start: 0, peak: config.optim.lr, final: config.optim.minLr,
                                     warmupSteps: config.optim.warmupSteps, totalSteps: max(config.train.steps, config.optim.warmupSteps + 1))
        momenta = CosineSchedule(from: config.ema.start, to: config.ema.end, steps: max(config.train.steps, 1))
        rotation = CheckpointRotation(directory: runDirectory + "/checkpoints", keepLast: config.train.keepLast)
        if communicator.rank == 0 {
            try FileManager.default.createDirectory(atPath: runDirectory + "/checkpoints", withIntermediateDirectories: true)
        }
        if resume { try restoreLatest() }
    }

    var modules: [String: Module] { model.checkpointModules }

    /// Refuses a batch that does not split over the ranks, and ranks started with different configs.
    static func checkRanksAgree(_ config: TrainingConfig, _ yaml: String, _ communicator: any Communicator) throws {
        let (batch, ranks) = (config.data.batchSize, communicator.size)
        guard batch % ranks == 0 else {
            throw TrainingError.mismatchedData("data.batch_size \(batch) does not split evenly over \(ranks) ranks (each rank trains on batch_size / ranks clips)")
        }
        let hash = Double(CRC32.checksum(Array(yaml.utf8)))
        var extremes = [hash, -hash]
        try communicator.allReduceMax(&extremes)
        guard extremes[0] == hash, extremes[1] == -hash else {
            throw TrainingError.mismatchedData("the \(ranks) ranks were started with different configs (rank \(communicator.rank)'s resolved config differs from another's); launch every rank with the same --config and --set")
        }
    }

    /// This rank's rows of a global batch of `count`.
    func shard(_ count: Int) -> Range<Int> {
        let per = count / communicator.size
        return (communicator.rank * per)..<((communicator.rank + 1) * per)
    }

    /// Averages the gradients over the ranks (one all-reduce of all of them, flattened).
    func averageGradients() throws {
        guard communicator.size > 1 else { return }
        let total = trainable.reduce(0) { $0 + $1.count }
        if gradientBuffer.count != total { gradientBuffer = [Float](repeating: 0, count: total) }
        try gradientBuffer.withUnsafeMutableBufferPointer { flat in
            var offset = 0
            for t in trainable {
                if let g = t.grad { g.withUnsafeBufferPointer { flat.baseAddress!.advanced(by: offset).update(from: $0.baseAddress!, count: t.count) } }
                else { flat.baseAddress!.advanced(by: offset).update(repeating: 0, count: t.count) }
                offset += t.count
            }
            try communicator.allReduceSum(flat)
            let scale = 1 / Float(communicator.size)
            offset = 0
            for t in trainable {
                if t.grad == nil { t.grad = Tensor.zeros(t.shape) }
                t.grad!.withUnsafeMutableBufferPointer { g in
                    for i in 0..<t.count { g[i] = flat[offset + i] * scale }
                }
                offset += t.count
            }
        }
    }

    /// Runs until `config.train.steps` or until `shouldStop()` returns true (checked after each step);
    /// writes a checkpoint at every `checkpointEvery` steps and when it returns.
    public func run(shouldStop: () -> Bool = { false }, report: (TrainingEvent) -> Void = { _ in }) throws {
        let writer = communicator.rank == 0
        let metricsURL = URL(fileURLWithPath: runDirectory + "/metrics.jsonl")
        if writer, !FileManager.default.fileExists(atPath: metricsURL.path),
           !FileManager.default.createFile(atPath: metricsURL.path, contents: nil) {
            throw TrainingError.io("cannot create \(metricsURL.path)")
        }
        let metrics = writer ? try FileHandle(forWritingTo: metricsURL) : nil
        defer { try? metrics?.close() }
        try metrics?.seekToEnd()
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = .sortedKeys
        while step < config.train.steps {
            let result = try trainStep()
            let stop = shouldStop()   // asked once per step: with several ranks it is a collective decision
            if writer && (step % config.train.logEvery == 0 || step == config.train.steps) {
                let record = self.record(result)
                try metrics?.write(contentsOf: encoder.encode(record) + Data("\n".utf8))
                report(.step(record))
                if record.targetStd < config.train.collapseFloor { report(.collapseWarning(step: step, targetStd: record.targetStd)) }
            }
            if writer && (step % config.train.checkpointEvery == 0 || step == config.train.steps || stop) {
                report(.checkpoint(path: try saveCheckpoint(metric: Double(result.prediction)), step: step))
            }
            if stop { break }
        }
    }

    /// What one step leaves for logging.
    struct StepResult {
        let loss: JEPALoss
        let learningRate: Float, momentum: Float
        /// Total loss and prediction energy averaged over the ranks (this rank's alone in one process).
        let total: Float, prediction: Float
    }

    /// One optimisation step: this rank's rows of the batch, split over the worker threads.
    func trainStep() throws -> StepResult {
        let full = try loader.next()
        let rows = shard(full.frames.shape[0])
        let lr = learningRates.value(at: step), momentum = momenta.value(at: step)
        optimizer.learningRate = lr
        let sigregSeed = config.seed &+ UInt64(step)
        // Masks for the whole global batch, so every rank (and worker count) draws the same stream.
        let mask = masks.map { $0.strategy.masks(batch: full.frames.shape[0], grid: $0.grid, rng: &maskRNG) }
        if model is ActionConditionedJEPA, config.kind == .actionConditioned, full.actions == nil {
            throw TrainingError.mismatchedData("\(config.data.path): the batch does not fit a \(config.kind.rawValue) model")
        }
        let loss = parallelStep.run(batch: rows.count) { shardRows in
            let r = (rows.lowerBound + shardRows.lowerBound)..<(rows.lowerBound + shardRows.upperBound)
            return batchLoss(full, rows: r, mask: mask, sigregSeed: sigregSeed)
        }
        var logged = [Double(loss.total.item), Double(loss.prediction)]
        try communicator.allReduceSum(&logged)
        let value = Float(logged[0] / Double(communicator.size))
        guard value.isFinite else {
            throw TrainingError.nonFiniteLoss(step: step, value: value, lastCheckpoint: lastCheckpoint)
        }
        try averageGradients()
        if config.optim.gradClip > 0 { clipGradientNorm(trainable, maxNorm: config.optim.gradClip) }
        optimizer.step()
        optimizer.zeroGrad()
        model.updateTarget(momentum: momentum)
        step += 1
        return StepResult(loss: loss, learningRate: lr, momentum: momentum,
                          total: value, prediction: Float(logged[1] / Double(communicator.size)))
    }

    /// The loss of rows `rows` of a batch (runs on a worker thread).
    func batchLoss(_ batch: ClipBatch, rows: Range<Int>, mask: MaskedBatch?, sigregSeed: UInt64) -> JEPALoss {
        func take(_ t: Tensor) -> Tensor { t.slice(axis: 0, rows) }   // a view: no copy
        let frames = take(batch.frames)
        if let video = model as? VideoJEPA, let mask {
            return video.loss(clips: frames.permuted([0, 2, 1, 3, 4]),                // [B, C, T, H, W]
                              contextIndices: Array(mask.context[rows]), targetIndices: Array(mask.target[rows]),
                              weights: config.loss, sigregSeed: sigregSeed)
        }
        let action = model as! ActionConditionedJEPA
        if config.kind == .nextFrame {
            return action.loss(frames: frames, actions: Tensor.zeros([frames.shape[0], frames.shape[1], 0]),
                               weights: config.loss, sigregSeed: sigregSeed)
        }
        return action.loss(frames: frames, actions: take(batch.actions!), proprio: action.config.proprio ? take(batch.states) : nil,
                           weights: config.loss, sigregSeed: sigregSeed)
    }

    /// The metrics line of the step just taken; collapse diagnostics come from that step's targets.
    func record(_ r: StepResult) -> TrainingRecord {
        let targets = r.loss.targets
        let stats = CollapseStats(targets)
        return TrainingRecord(
            step: step, loss: r.total, prediction: r.prediction, variance: r.loss.variance,
            covariance: r.loss.covariance, sigreg: r.loss.sigreg, rollout: r.loss.parts.rollout,
            inverseDynamics: r.loss.parts.inverseDynamics, copyBaseline: r.loss.parts.copyBaseline,
            dense: r.loss.parts.dense, deep: r.loss.parts.deep,
            proprio: r.loss.parts.proprio, proprioCopyBaseline: r.loss.parts.proprioCopyBaseline,
            learningRate: r.learningRate, momentum: r.momentum,
            targetStd: stats.meanStd, targetMinStd: stats.minStd, deadFraction: stats.deadFraction,
            effectiveRank: effectiveRank(targets), seconds: Date().timeIntervalSince(start))
    }

    @discardableResult
    public func saveCheckpoint(metric: Double?) throws -> String {
        let position = loader.position
        let checkpoint = Checkpoint(step: step, config: configYAML, modules: modules, optimizer: optimizer, state: [
            "mask_rng": .ints(maskRNG.state.map { Int64(bitPattern: $0) }),
            "loader_epoch": .int(position.epoch),
            "loader_batch": .int(position.batch),
        ], metric: metric)
        let path = try rotation.save(checkpoint, metric: metric)
        lastCheckpoint = path
        return path
    }

    func restoreLatest() throws {
        guard let path = try rotation.latest() else { return }
        let checkpoint = try CheckpointIO.restore(path, into: modules, optimizer: optimizer)
        guard case let .ints(words)? = checkpoint.state["mask_rng"],
              case let .int(epoch)? = checkpoint.state["loader_epoch"],
              case let .int(batch)? = checkpoint.state["loader_batch"] else {
            throw TrainingError.mismatchedData("\(path): the checkpoint has no training state (mask_rng, loader position)")
        }
        maskRNG = RandomGenerator(state: words.map { UInt64(bitPattern: $0) })
        try loader.seek(to: LoaderPosition(epoch: epoch, batch: batch))
        step = checkpoint.step
        lastCheckpoint = path
    }
}
