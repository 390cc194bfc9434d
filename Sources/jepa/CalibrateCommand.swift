import ArgumentParser
import Evaluation
import Foundation
import JEPA

/// `jepa calibrate`: what `jepa train` does when a next-frame run ends, for a checkpoint that
/// was written without it (or to refit on other clips).
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit a next-frame checkpoint's calibrated surprise energy and store it in the checkpoint.",
        discussion: "The Gaussians of the model's prediction errors under the default scoring settings (growing context, "
            + "\(defaultSurpriseHorizon) steps ahead; one per number of steps ahead) on the first --clips-used clips of --clips (default: the run's training data); jepa score "
            + "and jepa eval use it by default. jepa train does this itself when a next-frame run ends "
            + "(train.calibration_clips). The checkpoint is rewritten atomically; weights and training state are kept.")

    @Option(help: ArgumentHelp("Checkpoint (.h5) of a next-frame model, written by jepa train.", valueName: "path"))
    var checkpoint: String

    @Option(help: ArgumentHelp("Clips of ordinary physics (default: the run's data.path).", valueName: "clips.h5"))
    var clips: String?

    @Option(help: "Clips of the file used (the first ones).")
    var clipsUsed = 400

    func validate() throws {
        guard clipsUsed >= 2 else { throw ValidationError("--clips-used must be at least 2, got \(clipsUsed)") }
    }

    func run() throws {
        let (config, _, model) = try loadWorldModel(checkpoint: checkpoint)
        guard config.kind == .nextFrame, let frameModel = model as? ActionConditionedJEPA else {
            throw ValidationError("\(checkpoint) is a \(config.kind.rawValue) model; only next-frame models have a calibrated surprise")
        }
        try storeSurpriseCalibration(frameModel, checkpoint: checkpoint, clips: clips ?? config.data.path, count: clipsUsed)
    }
}

/// Fits the surprise calibration of `model` on `clips` and stores it in `checkpoint`.
func storeSurpriseCalibration(_ model: ActionConditionedJEPA, checkpoint: String, clips: String, count: Int) throws {
    let line = CountLine()
    let fit = try SurpriseCalibration.fit(model: model, clips: clips, count: count) { done, total in
        line.show("calibrating the surprise energy on \(clips) \(done)/\(total)", done: done, total: total)
    }
    try fit.store(in: checkpoint)
    say("stored in \(checkpoint): the surprise calibration (\(fit.settings)) fitted on \(fit.samples) prediction errors of \(fit.clips) clips")
}
