import Foundation
import Testing

/// `jepa plan`'s settings that do not fit the checkpoint or each other are clear errors naming
/// the option, before any episode runs.
@Suite(.serialized) struct PlanCommandTests {
    /// Tiny grasp data and a 2-step action-conditioned checkpoint with proprioception (gru predictor).
    static func checkpoint() throws -> (directory: String, checkpoint: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plan-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let made = JepaCommand.run([JepaCommand.path, "data", "generate", "--world", "grasp", "--episodes", "8", "--frames", "4",
                                    "--out", "\(dir)/grasp.h5"], in: dir)
        #expect(made.status == 0, "\(made.output)")
        let config = JepaCommand.repository.appendingPathComponent("experiments/tiny-grasp-ac.yaml").path
        let trained = JepaCommand.run([JepaCommand.path, "train", "--config", config, "--set", "data.path=\(dir)/grasp.h5",
                                       "--set", "model.predictor=gru", "--set", "model.pooled_dim=8", "--set", "model.proprio=true",
                                       "--set", "train.steps=2", "--set", "optim.warmup_steps=1", "--set", "train.checkpoint_every=2",
                                       "--set", "name=plan-cli", "--runs", "\(dir)/runs"], in: dir)
        #expect(trained.status == 0, "\(trained.output)")
        return (dir, "\(dir)/runs/plan-cli/checkpoints/step_2.h5")
    }

    @Test func badPlanSettingsAreClearErrors() throws {
        let (dir, checkpoint) = try Self.checkpoint()
        let base = [JepaCommand.path, "plan", "--checkpoint", checkpoint, "--episodes", "1", "--no-baselines", "--out", "\(dir)/plan"]
        for (arguments, message) in [
            (["--task", "place", "--regrasp"], "--regrasp: needs --task place with --lift-then-carry"),
            (["--task", "place", "--lift-then-carry", "--regrasp"], "--regrasp: needs --agent with a hold probe"),
            (["--task", "lift", "--lift-then-carry", "--regrasp"], "--regrasp: needs --task place"),
            (["--task", "place", "--drop-penalty", "1"], "need --agent"),
            (["--task", "place", "--phase-subgoals", "--lift-then-carry"], "--phase-subgoals and --lift-then-carry"),
            (["--task", "place", "--set-down"], "--set-down: needs --task place with --lift-then-carry"),
            (["--task", "lift", "--lift-then-carry", "--set-down"], "--set-down: needs --task place"),
            (["--task", "grasp"], "task"),
            (["--task", "reach", "--latent-samples", "4"], "--latent-samples: "),
            (["--task", "reach", "--latent-samples", "0"], "--latent-samples must be at least 1"),
        ] {
            let result = JepaCommand.run(base + arguments, in: dir)
            #expect(result.status != 0 && result.output.contains(message), "\(arguments): \(result.output)")
            #expect(!result.output.contains("Fatal error"), "\(arguments): \(result.output)")
        }
    }
}
