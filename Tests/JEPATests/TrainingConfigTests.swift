import Config
import Foundation
import Testing
@testable import JEPA

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The error `yaml` (with `overrides`) gives when loaded as `file`, or "no error".
private func loadError(_ yaml: String, file: String, _ overrides: [String] = []) -> String {
    do {
        _ = try ConfigLoader.load(TrainingConfig.self, yaml: yaml, file: file, overrides: overrides)
        return "no error"
    } catch { return "\(error)" }
}

@Suite struct TrainingConfigTests {
    @Test func embeddedDefaultAndShippedConfigsLoadAndValidate() throws {
        let embedded = try ConfigLoader.load(TrainingConfig.self, yaml: TrainingConfig.embeddedDefaultYAML, file: "<embedded default>")
        #expect(embedded.name == "balls-small" && embedded.kind == .nextFrame && embedded.actionModel.rolloutContext == 4)
        // The embedded default is the dynamics reference with a shorter schedule.
        var dynamicsReference = try ConfigLoader.loadFile(TrainingConfig.self, path: repository.appendingPathComponent("experiments/balls-next-frame-f16.yaml").path)
        #expect(dynamicsReference.actionModel == embedded.actionModel && dynamicsReference.loss == embedded.loss)
        (dynamicsReference.name, dynamicsReference.data.path, dynamicsReference.train, dynamicsReference.optim.warmupSteps) = (embedded.name, embedded.data.path, embedded.train, embedded.optim.warmupSteps)
        #expect(dynamicsReference == embedded)
        for name in ["balls-vjepa.yaml", "balls-vjepa-f16.yaml", "balls-next-frame-f16.yaml", "tiny-balls.yaml", "grasp-ac.yaml", "grasp-ac-gru.yaml", "tiny-grasp-ac.yaml", "balls-next-frame.yaml", "balls-next-frame-p8.yaml", "balls-next-frame-tf.yaml",
                     "balls-next-frame-stack2.yaml", "grasp-ac-gru-d16.yaml", "grasp-ac-gru-p8-d16.yaml", "grasp-ac-gru-p8-d16-proprio.yaml"] {
            let path = repository.appendingPathComponent("experiments/\(name)").path
            _ = try ConfigLoader.loadFile(TrainingConfig.self, path: path)
        }
        let reference = try ConfigLoader.loadFile(TrainingConfig.self, path: repository.appendingPathComponent("experiments/balls-vjepa.yaml").path)
        #expect(reference.model == VideoJEPAConfig())   // the peer's reference size is the model default
        let grasp = try ConfigLoader.loadFile(TrainingConfig.self, path: repository.appendingPathComponent("experiments/grasp-ac.yaml").path)
        #expect(grasp.kind == .actionConditioned && grasp.actionModel.predictor == .transformer && grasp.clipLength == 8)
        #expect(grasp.loss.rollout > 0 && grasp.loss.inverseDynamics > 0)
    }

    @Test func actionConditionedConfigsRoundTripAndCheckTheirKeys() throws {
        let c = try ConfigLoader.load(TrainingConfig.self, yaml: "kind: action_conditioned\nmodel: {predictor: gru, frames: 6}", file: "ac.yaml")
        #expect(c.actionModel.predictor == .gru && c.actionModel.frames == 6 && c.model == VideoJEPAConfig())
        let resolved = try ConfigLoader.resolvedYAML(c)
        #expect(resolved.contains("kind: action_conditioned") && !resolved.contains("mask:") && resolved.contains("rollout_steps"))
        #expect(try ConfigLoader.load(TrainingConfig.self, yaml: resolved, file: "resolved") == c)
        func message(_ yaml: String) -> String { loadError(yaml, file: "ac.yaml") }
        #expect(message("kind: action_conditioned\nmodel: {tubelet: 2}").contains("model.tubelet: unknown key"))
        #expect(message("kind: action_conditioned\nmask: {kind: future}").contains("mask"))
        #expect(message("kind: action_conditioned\nmodel: {rollout_steps: 9}").contains("model.rollout_steps: must lie in [2, model.frames − 1]"))
        #expect(message("kind: action_conditioned\nmodel: {predictor: lstm}").contains("model.predictor"))
        #expect(message("kind: sideways").contains("kind"))
        #expect(message("loss: {rollout: 1}").contains("loss.rollout: applies only to kind: action_conditioned"))
    }

    /// `kind: next_frame` takes the action-conditioned model section with passive defaults (no
    /// actions, recurrent predictor) and refuses what needs actions or cannot see motion.
    @Test func nextFrameConfigsDefaultToNoActions() throws {
        let c = try ConfigLoader.load(TrainingConfig.self, yaml: "kind: next_frame\nmodel: {frames: 6}", file: "nf.yaml")
        #expect(c.actionModel.actionDim == 0 && c.actionModel.predictor == .recurrent && c.actionModel.frames == 6 && c.clipLength == 6)
        #expect(try ConfigLoader.load(TrainingConfig.self, yaml: ConfigLoader.resolvedYAML(c), file: "resolved") == c)
        let omitted = try ConfigLoader.load(TrainingConfig.self, yaml: "kind: next_frame", file: "nf.yaml")
        #expect(omitted.actionModel == ActionJEPAConfig.passive)
        func message(_ yaml: String) -> String { loadError(yaml, file: "nf.yaml") }
        #expect(message("kind: next_frame\nmodel: {action_dim: 3}").contains("model.action_dim: must be 0 for kind: next_frame"))
        #expect(message("kind: next_frame\nmodel: {predictor: gru}").contains("model.predictor: gru reads one frame"))
        #expect(message("kind: next_frame\nloss: {inverse_dynamics: 1}").contains("loss.inverse_dynamics: needs actions"))
        #expect(message("kind: action_conditioned\nmodel: {action_dim: 0}").contains("model.action_dim: must be at least 1"))
        #expect(message("kind: next_frame\nmodel: {frame_stack: 0}").contains("model.frame_stack: must be at least 1"))
        #expect(message("kind: next_frame\nmodel: {frames: 6, rollout_steps: 3, rollout_context: 4}")
            .contains("model.rollout_context: must lie in [1, model.frames − model.rollout_steps] = [1, 3]"))
        let stacked = try ConfigLoader.load(TrainingConfig.self, yaml: "kind: next_frame\nmodel: {frame_stack: 2}", file: "nf.yaml")
        #expect(stacked.actionModel.encoderChannels == 2 && stacked.frameShape == [1, 64, 64])
    }

    @Test func missingKeysTakeDefaultsAndResolvedYAMLRoundTrips() throws {
        let c = try ConfigLoader.load(TrainingConfig.self, yaml: "name: x\noptim: {lr: 0.01}", file: "t.yaml")
        #expect(c.optim.lr == 0.01 && c.optim.weightDecay == TrainingConfig().optim.weightDecay && c.train == TrainingConfig().train)
        let again = try ConfigLoader.load(TrainingConfig.self, yaml: ConfigLoader.resolvedYAML(c), file: "resolved")
        #expect(again == c)
    }

    @Test func errorsNameTheKeyAndFile() {
        func message(_ yaml: String, _ overrides: [String] = []) -> String { loadError(yaml, file: "run.yaml", overrides) }
        #expect(message("optim: {learning_rate: 1}").contains("run.yaml") && message("optim: {learning_rate: 1}").contains("optim.learning_rate: unknown key"))
        #expect(message("train: {steps: many}").contains("train.steps"))
        #expect(message("model: {patch: 7}").contains("model.patch: must divide model.image_size"))
        #expect(message("", ["optim.lr=-1"]).contains("optim.lr: must be positive"))
        #expect(message("mask: {kind: random}").contains("mask.kind"))
    }
}
