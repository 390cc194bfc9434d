import ArgumentParser
import Foundation
import Evaluation
import HDF5
import JEPA
import Tensors

/// `jepa probe`: a quick linear probe of ball positions from a checkpoint's frozen target encoder,
/// next to the same probe on a randomly initialised encoder of the same shape.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Linear probe of true state (default: ball or gripper positions) from a checkpoint's target encoder.")

    @Option(help: ArgumentHelp("Checkpoint (.h5) written by jepa train.", valueName: "path"))
    var checkpoint: String

    @OptionGroup var weights: ForeignWeightOptions

    @Option(help: ArgumentHelp("Dataset to probe on (default: the run's data.path).", valueName: "file.h5"))
    var data: String?

    @Option(help: "State entries to predict, comma-separated (default: ball0.x,ball0.y for video and next_frame runs; gripper.x,gripper.y,object0.x,object0.y for action-conditioned runs).")
    var names: String?

    @Option(help: "Video runs: average the last frame's tokens over a g×g grid before the probe (1 = the mean token).")
    var poolGrid = 2

    @Option(help: "Episodes used to fit the probe (taken from the end of the file, after the test episodes).")
    var trainEpisodes = 2000

    @Option(help: "Held-out episodes the probe is scored on (the last ones of the file).")
    var testEpisodes = 500

    func run() throws {
        let (config, step, trained) = try loadWorldModel(checkpoint: checkpoint, config: weights.modelConfig, strict: weights.strict, log: say)
        let dataPath = data ?? config.data.path
        let total = try HDF5File(path: dataPath, mode: .readOnly).shape(of: "frames")[0]
        guard trainEpisodes + testEpisodes <= total else {
            throw ValidationError("--train-episodes + --test-episodes (\(trainEpisodes + testEpisodes)) exceed the \(total) episodes of \(dataPath)")
        }
        let test = (total - testEpisodes)..<total, train = (total - testEpisodes - trainEpisodes)..<(total - testEpisodes)
        let keys = (names ?? (config.kind == .actionConditioned ? "gripper.x,gripper.y,object0.x,object0.y" : "ball0.x,ball0.y"))
            .split(separator: ",").map(String.init)
        print("probe of \(keys.joined(separator: ", ")) on \(dataPath): fit on episodes \(train), scored on \(test)")
        var rng = RandomGenerator(seed: config.seed &+ 1)
        let random = try makeWorldModel(config, rng: &rng)
        for (label, model) in [("trained (step \(step))", trained), ("random init", random)] {
            let r2: [Double]
            if let video = model as? VideoJEPA {
                r2 = try probeState(of: video, datasetPath: dataPath, names: keys, poolGrid: poolGrid,
                                    trainEpisodes: train, testEpisodes: test).r2
            } else if let action = model as? ActionConditionedJEPA {
                r2 = try probeState(of: action, datasetPath: dataPath, names: keys, trainEpisodes: train, testEpisodes: test).r2
                if model === trained {
                    let e = try rolloutErrors(of: action, datasetPath: dataPath, episodes: test, horizon: 4)
                    print("  open-loop rollout on episodes \(test) from frame 8, energy per step (model / nothing-changes): "
                          + zip(e.model, e.repeatLast).enumerated().map { String(format: "k=%d %.4f / %.4f", $0 + 1, $1.0, $1.1) }.joined(separator: ", "))
                }
            } else {
                throw ValidationError("\(checkpoint): no probe for this model kind")
            }
            print("  \(label): " + zip(keys, r2).map { "R²(\($0)) = \(String(format: "%.3f", $1))" }.joined(separator: "  "))
        }
    }
}
