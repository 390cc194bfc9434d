import ArgumentParser
import Evaluation
import Foundation
import HDF5
import Imaging
import JEPA
import Tensors
import Worlds

/// `jepa eval`: the evaluation suite of a trained world model on held-out data — state probes next
/// to a random encoder, open-loop rollouts next to "repeat the last latent" (and shuffled actions),
/// violation-of-expectation pairs, collapse diagnostics — written as report.json, report.md and
/// PNG plots.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint: probes, rollouts, violation of expectation, collapse diagnostics.",
        discussion: "Held-out data is generated under --out/data with --seed (which must differ from the training "
            + "data's seed) unless --probe-data / --violations name existing files. Video and next-frame models are scored on the "
            + "violation pairs twice: with the model's own energy and with the calibrated energy (see jepa score), fitted on "
            + "--calibration clips or on ordinary clips generated with --calibration-seed. The balls probe uses one-ball "
            + "episodes (with several balls, 'ball0' is not identifiable from the image); the world's other settings "
            + "are those of the training data when its file is present. Sections by model kind: video — probes, "
            + "state (position and velocity from the context it predicts from), violations, collapse; next_frame — all four; action_conditioned — probes, rollouts with true and "
            + "shuffled actions, collapse.")

    @Option(help: ArgumentHelp("Checkpoint (.h5) written by jepa train.", valueName: "path"))
    var checkpoint: String

    @OptionGroup var weights: ForeignWeightOptions

    @Option(help: ArgumentHelp("Report directory (default: the run's eval/ directory).", valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp("Held-out episodes for probes, rollouts and collapse diagnostics (default: generated).", valueName: "file.h5"))
    var probeData: String?

    @Option(help: ArgumentHelp("Violation pairs written by jepa data violations (default: generated; video and next_frame models).", valueName: "file.h5"))
    var violations: String?

    @Option(help: "Seed of the generated held-out data.")
    var seed: UInt64 = 1000

    @Option(help: "Episodes of the generated probe set (80% fit the probe, 20% score it).")
    var probeEpisodes = 600

    @Option(help: "Violation pairs generated (spread evenly over the categories).")
    var pairs = 50 * ViolationCategory.allCases.count

    @Option(help: "Rollout horizon (steps).")
    var horizon = 8

    @Option(help: "Steps ahead of its context each frame's surprise is predicted, open loop (next_frame models; default \(defaultSurpriseHorizon), fewer for the first frames of a growing context).")
    var surpriseHorizon: Int?

    @Option(help: "Context frames of each surprise window (default: next_frame — growing from 4 frames to the predictor's window, each frame scored from all the frames up to the surprise horizon before it; video — half the clip).")
    var context: Int?

    @Option(help: "Frames from the violation frame on that the at_violation reduction looks at.")
    var window = 4

    @Option(help: "Clips per batch.")
    var batch = 16

    @OptionGroup var calibration: CalibrationOptions

    @Option(help: "Seed of the generated calibration clips (without --calibration).")
    var calibrationSeed: UInt64 = 3000

    func validate() throws {
        guard probeEpisodes >= 20 else { throw ValidationError("--probe-episodes must be at least 20, got \(probeEpisodes)") }
        let categories = ViolationCategory.allCases.count
        guard pairs >= categories else { throw ValidationError("--pairs must be at least \(categories) (one per category), got \(pairs)") }
        guard horizon >= 1, (surpriseHorizon ?? 1) >= 1, window >= 1, batch >= 2 else {
            throw ValidationError("--horizon, --surprise-horizon and --window must be at least 1, --batch at least 2")
        }
    }

    func run() throws {
        let started = Date()
        let (config, step, trained) = try loadWorldModel(checkpoint: checkpoint, config: weights.modelConfig, strict: weights.strict, log: say)
        var rng = RandomGenerator(seed: config.seed &+ 1)
        let random = try makeWorldModel(config, rng: &rng)
        let outDirectory = out ?? defaultOutDirectory()
        try FileManager.default.createDirectory(atPath: outDirectory + "/data", withIntermediateDirectories: true)
        let isGrasp = config.kind == .actionConditioned
        let trainingData = try? HDF5File(path: config.data.path, mode: .readOnly)
        if let trainingSeed = try? trainingData?.intAttribute("seed"), UInt64(trainingSeed) == seed, probeData == nil || (violations == nil && !isGrasp) {
            throw ValidationError("--seed \(seed) is the seed of the training data (\(config.data.path)); held-out data needs another")
        }
        let worldJSON = try? trainingData?.stringAttribute("config")

        // Held-out data.
        let probePath = try probeData ?? generateProbeSet(grasp: isGrasp, worldJSON: worldJSON, directory: outDirectory + "/data")
        let probeFile = try HDF5File(path: probePath, mode: .readOnly)
        let episodes = try probeFile.shape(of: "frames")[0]
        let testCount = max(episodes / 5, 1)
        let train = 0..<(episodes - testCount), test = (episodes - testCount)..<episodes

        // Probes.
        let names = isGrasp ? ["gripper.x", "gripper.y", "gripper.opening", "object0.x", "object0.y", "object0.held"]
                            : ["ball0.x", "ball0.y", "ball0.vx", "ball0.vy"]
        say("probes of \(names.joined(separator: ", ")) on \(probePath): fit on \(train.count) episodes, scored on \(test.count)")
        func probe(_ model: any WorldModel) throws -> (ProbeResult, Int) {
            switch model {
            case let video as VideoJEPA:
                return (try probeState(of: video, datasetPath: probePath, names: names, trainEpisodes: train, testEpisodes: test), 1)
            case let frameModel as ActionConditionedJEPA:
                let frames = [3, 11, 19, 27]
                return (try probeState(of: frameModel, datasetPath: probePath, names: names, frameIndices: frames,
                                       trainEpisodes: train, testEpisodes: test), frames.count)
            default: throw ValidationError("no probe for this model kind")
            }
        }
        let (trainedProbe, perEpisode) = try probe(trained)
        let (randomProbe, _) = try probe(random)
        let probes = names.indices.map { EvaluationReport.Probe(name: names[$0], r2: trainedProbe.r2[$0], randomEncoderR2: randomProbe.r2[$0]) }
        for p in probes { say(String(format: "  R²(%@) = %.3f  (random encoder %.3f)", p.name, p.r2, p.randomEncoderR2)) }
        for (i, name) in names.enumerated() {
            let column = trainedProbe.column(i)
            try writePNG(scatterPlot(x: column.actual, y: column.predicted), to: outDirectory + "/probe_\(name).png")
        }

        // Rollouts.
        var rollouts: EvaluationReport.Rollouts?
        if let frameModel = trained as? ActionConditionedJEPA {
            let context = frameModel.predictor.window == 1 ? 1 : min(frameModel.predictor.window, 4)
            let start = 8
            let errors = try rolloutErrors(of: frameModel, datasetPath: probePath, episodes: test, context: context,
                                           clipStart: start, horizon: horizon, batch: batch)
            rollouts = .init(contextFrames: context, startFrame: start, episodes: test.count, errors: errors)
            for k in 0..<horizon {
                say(String(format: "  rollout k=%d: model %.4f, repeat last %.4f", k + 1, errors.model[k], errors.repeatLast[k])
                    + (errors.shuffledActions.map { String(format: ", shuffled actions %.4f", $0[k]) } ?? ""))
            }
            var series: [(values: [Double], color: RGB)] = [(errors.model, (200, 40, 40)), (errors.repeatLast, (90, 90, 90))]
            if let shuffled = errors.shuffledActions { series.append((shuffled, (40, 90, 200))) }
            try writePNG(linePlot(x: (1...horizon).map(Double.init), series: series), to: outDirectory + "/rollout.png")
        }

        // Dynamics: velocity from the model's state, rollouts decoded to positions (passive models, one-ball probe set).
        var dynamics: DynamicsEvaluation?
        if let frameModel = trained as? ActionConditionedJEPA, frameModel.config.actionDim == 0 {
            let d = try evaluateDynamics(of: frameModel, datasetPath: probePath, train: train, test: test, batch: batch)
            dynamics = d
            say(String(format: "  dynamics: position from one latent R² x %.3f y %.3f (λ %g); from the model's state x %.3f y %.3f vx %.3f vy %.3f (λ %g)",
                       d.positionR2[0], d.positionR2[1], d.positionLambda, d.stateR2[0], d.stateR2[1], d.stateR2[2], d.stateR2[3], d.stateLambda))
            for k in d.model.indices where [0, 3, 7, 11, 15].contains(k) {
                say(String(format: "  position error k=%d (px, median): model %.2f, constant velocity %.2f, repeat last %.2f, probe on true latents %.2f",
                           k + 1, d.model[k], d.constantVelocity[k], d.repeatLast[k], d.decodedTruth[k]))
            }
            try writePNG(linePlot(x: d.model.indices.map { Double($0 + 1) },
                                  series: [(d.model, (200, 40, 40)), (d.constantVelocity, (40, 90, 200)), (d.repeatLast, (90, 90, 90)),
                                           (d.decodedTruth, (60, 160, 60))]),
                         to: outDirectory + "/rollout_positions.png")
        }

        // The surprise scorer of the violation pairs; its context is also the video JEPA's state.
        let scorer = isGrasp ? nil : try makeSurpriseScorer(for: trained, contextFrames: context, horizon: surpriseHorizon)

        // A video JEPA's state: position and velocity from the context it predicts from.
        var videoState: VideoStateEvaluation?
        if let video = trained as? VideoJEPA, let scorer {
            var v = try evaluateVideoState(of: video, contextFrames: scorer.contextFrames, datasetPath: probePath, train: train, test: test, batch: batch)
            if let untrained = random as? VideoJEPA {
                v.randomEncoderR2 = try evaluateVideoState(of: untrained, contextFrames: scorer.contextFrames, datasetPath: probePath,
                                                           train: train, test: test, batch: batch).stateR2
            }
            videoState = v
            say(String(format: "  state (the %d context frames): x %.3f y %.3f vx %.3f vy %.3f (λ %g)",
                       v.contextFrames, v.stateR2[0], v.stateR2[1], v.stateR2[2], v.stateR2[3], v.stateLambda)
                + (v.randomEncoderR2.map { String(format: "; random encoder x %.3f y %.3f vx %.3f vy %.3f", $0[0], $0[1], $0[2], $0[3]) } ?? ""))
        }

        // Continuations: what one frame leaves open, and what the latent variable takes up.
        var continuations: EvaluationReport.Continuations?
        if let frameModel = trained as? ActionConditionedJEPA, frameModel.config.actionDim == 0 {
            let contexts = Array(Set([1, min(frameModel.predictor.window, 4)])).sorted(), start = 8, steps = 3
            let energies = try continuationEnergies(of: frameModel, datasetPath: probePath, episodes: test, contexts: contexts,
                                                    clipStart: start, horizon: steps, batch: batch, seed: seed)
            let c = frameModel.config
            continuations = .init(startFrame: start, horizon: steps, episodes: test.count, latentDim: c.zDim,
                                  latentSamples: c.zDim > 0 ? c.zSamples : 1, energies: energies)
            for e in energies {
                say(String(format: "  continuation from %d frame(s): z = 0 %.4f", e.contextFrames, e.atZero)
                    + (e.minOverZ.map { String(format: ", min over z %.4f", $0) } ?? ""))
            }
        }

        // Violation of expectation, with the model's energy and the calibrated one.
        var voe: EvaluationReport.Violations?, calibratedVoE: EvaluationReport.Violations?
        if let scorer {
            let path = try violations ?? generateViolations(worldJSON: worldJSON, directory: outDirectory + "/data")
            voe = try violationOfExpectation(scorer, path: path, directory: outDirectory, calibration: nil)
            // The fit stored by jepa train when it is for these settings, else one fitted here.
            let stored = calibration.calibration == nil ? try SurpriseCalibration.stored(at: checkpoint) : nil
            if let frameScorer = scorer as? NextFrameSurpriseScorer, let stored, let calibrated = stored.applied(to: frameScorer) {
                say("  calibrated energy: the fit stored in the checkpoint (\(stored.settings), \(stored.clips) clips of \(stored.source))")
                calibratedVoE = try violationOfExpectation(
                    calibrated, path: path, directory: outDirectory,
                    calibration: .init(path: stored.source, clips: stored.clips, frames: stored.samples,
                                       shrinkage: stored.main.shrinkage, stored: true))
            } else {
                let calibrationPath = try calibration.calibration
                    ?? generateCalibrationClips(worldJSON: worldJSON, trainingSeed: try? trainingData?.intAttribute("seed"),
                                                directory: outDirectory + "/data")
                let (calibrated, samples, shrinkage) = try calibration.calibrate(scorer, on: calibrationPath, batch: batch)
                calibratedVoE = try violationOfExpectation(
                    calibrated, path: path, directory: outDirectory,
                    calibration: .init(path: calibrationPath, clips: min(calibration.calibrationClips, try ClipFile(path: calibrationPath).count),
                                       frames: samples, shrinkage: shrinkage, stored: false))
            }
        }

        // Collapse diagnostics on held-out frames.
        let collapse = try collapseDiagnostics(trained, probePath: probePath, episodes: test)
        say(String(format: "  collapse: mean std %.3f, min std %.3f, dead %.3f, effective rank %.1f of %d",
                   collapse.meanStd, collapse.minStd, collapse.deadFraction, collapse.effectiveRank, collapse.dimensions))

        let report = EvaluationReport(checkpoint: checkpoint, kind: config.kind.rawValue, step: step, probeData: probePath,
                                      probeTrainSamples: train.count * perEpisode, probeTestSamples: test.count * perEpisode,
                                      probes: probes, rollouts: rollouts, dynamics: dynamics, videoState: videoState, violations: voe, calibratedViolations: calibratedVoE, continuations: continuations, collapse: collapse,
                                      seconds: Date().timeIntervalSince(started))
        try report.json().write(to: URL(fileURLWithPath: outDirectory + "/report.json"), options: .atomic)
        try Data(report.markdown.utf8).write(to: URL(fileURLWithPath: outDirectory + "/report.md"), options: .atomic)
        say("wrote \(outDirectory)/report.json, report.md and plots (\(String(format: "%.0f", report.seconds)) s)")
        say("\nReading: \(report.reading)")
    }

    /// `runs/NAME/eval` for a checkpoint under `runs/NAME/checkpoints/`, else `eval` beside the file.
    func defaultOutDirectory() -> String { (runDirectory(ofCheckpoint: checkpoint) as NSString).appendingPathComponent("eval") }

    /// The held-out probe set (reused when already generated with the same settings).
    func generateProbeSet(grasp: Bool, worldJSON: String?, directory: String) throws -> String {
        let path = directory + "/probe-\(grasp ? "grasp" : "balls1")-seed\(seed)-\(probeEpisodes).h5"
        if FileManager.default.fileExists(atPath: path) { return path }
        var overlay = worldJSON
        if !grasp {
            // One ball, so that ball0 is the ball in the image.
            var object = worldJSON.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? [:]
            object["minBalls"] = 1
            object["maxBalls"] = 1
            overlay = String(data: try JSONSerialization.data(withJSONObject: object), encoding: .utf8)
        }
        let world = try WorldRegistry.makeWorld(name: grasp ? "grasp" : "balls", configJSON: overlay)
        say("generating \(path): \(probeEpisodes) episodes × 32 frames, seed \(seed)")
        _ = try generateDataset(world: world, episodes: probeEpisodes, frames: 32, seed: seed, to: path)
        return path
    }

    /// Held-out violation pairs (reused when already generated with the same settings).
    func generateViolations(worldJSON: String?, directory: String) throws -> String {
        let path = directory + "/violations-seed\(seed)-\(pairs).h5"
        if FileManager.default.fileExists(atPath: path) { return path }
        let world = try BallsWorld(config: WorldRegistry.config(BallsConfig(), overlay: worldJSON))
        say("generating \(path): \(pairs) violation pairs × 32 frames, seed \(seed)")
        try writeViolationSet(world: world, pairs: pairs, frames: 32, seed: seed, to: path, overwrite: false,
                              workers: Parallel.threads)
        return path
    }

    /// Scores the violation pairs at `path`, prints the summaries and plots one pair per category
    /// (`energy_<category>.png`, `energy_calibrated_<category>.png` with a calibrated energy).
    func violationOfExpectation(_ scorer: any SurpriseScorer, path: String, directory: String,
                                calibration: EvaluationReport.Violations.Calibration?) throws -> EvaluationReport.Violations {
        let label = calibration == nil ? "" : "calibrated "
        let line = CountLine()
        let scores = try ViolationScores(path: path, scorer: scorer, batch: batch) { done, total in
            line.show("  scoring violation clips (\(label)energy) \(done)/\(total)", done: done, total: total)
        }
        let unscored = scores.pairs.filter { p in !scores.frames.contains { $0 >= p.violationFrame && $0 < p.violationFrame + window } }
        if !unscored.isEmpty, let first = scores.frames.first {
            say("  note: \(unscored.count) of \(scores.pairs.count) pairs have no scored frame within \(window) frames of their violation (the first frame "
                + "these settings score is \(first): context \(scorer.contextFrames), horizon \(scorer.horizon)); at_violation has no figure for their "
                + "categories — the default growing context scores them")
        }
        var results: [String: [ViolationScores.Summary]] = [:]
        for reduction in ViolationScores.Reduction.allCases {
            results[reduction.rawValue] = scores.summaries(reduction: reduction, window: window)
            say("  violations, \(label)\(reduction.rawValue): " + results[reduction.rawValue]!.map {
                String(format: "%@ %.2f/%.2f", $0.category, $0.pairwiseAccuracy ?? .nan, $0.auroc ?? .nan)
            }.joined(separator: ", ") + "  (accuracy/AUROC)")
        }
        for category in scores.categories {
            guard let pair = scores.pairs.first(where: { $0.category == category }) else { continue }
            let image = linePlot(x: scores.frames.map(Double.init),
                                 series: [(pair.possible, (40, 90, 200)), (pair.impossible, (200, 40, 40))],
                                 markers: [(Double(pair.violationFrame), (150, 150, 150))])
            try writePNG(image, to: directory + "/energy_\(calibration == nil ? "" : "calibrated_")\(category).png")
        }
        return .init(path: path, contextFrames: scorer.contextFrames, minimumContext: (scorer as? NextFrameSurpriseScorer)?.minimumContext,
                     horizon: scorer.horizon, window: window,
                     results: results, calibration: calibration)
    }

    /// Ordinary clips of the training world for the calibrated energy (reused when already
    /// generated with the same settings).
    func generateCalibrationClips(worldJSON: String?, trainingSeed: Int?, directory: String) throws -> String {
        guard calibrationSeed != seed, trainingSeed.map({ UInt64($0) != calibrationSeed }) ?? true else {
            throw ValidationError("--calibration-seed \(calibrationSeed) is the seed of the held-out or the training data; calibration clips need their own")
        }
        let path = directory + "/calibration-balls-seed\(calibrationSeed)-\(calibration.calibrationClips).h5"
        if FileManager.default.fileExists(atPath: path) { return path }
        let world = try WorldRegistry.makeWorld(name: "balls", configJSON: worldJSON)
        say("generating \(path): \(calibration.calibrationClips) episodes × 32 frames, seed \(calibrationSeed)")
        _ = try generateDataset(world: world, episodes: calibration.calibrationClips, frames: 32, seed: calibrationSeed, to: path)
        return path
    }

    /// Feature statistics of the target encoder on the first frames of held-out episodes.
    func collapseDiagnostics(_ model: any WorldModel, probePath: String, episodes: Range<Int>) throws -> EvaluationReport.Collapse {
        let clips = try ClipFile(path: probePath)
        let rows = episodes.lowerBound..<min(episodes.upperBound, episodes.lowerBound + 64)
        let features: Tensor
        switch model {
        case let video as VideoJEPA:
            let f = video.config.frames
            features = video.targetFeatures(try clips.read(rows).slice(axis: 1, 0..<f).permuted([0, 2, 1, 3, 4]))
        case let frameModel as ActionConditionedJEPA:
            features = frameModel.encode(try clips.read(rows).slice(axis: 1, 0..<8))
        default: throw ValidationError("no collapse diagnostics for this model kind")
        }
        let flat = features.reshaped([-1, features.shape[features.rank - 1]])
        let stats = CollapseStats(flat)
        return .init(dimensions: flat.shape[1], samples: flat.shape[0], meanStd: Double(stats.meanStd), minStd: Double(stats.minStd),
                     deadFraction: Double(stats.deadFraction), effectiveRank: effectiveRank(flat))
    }
}
