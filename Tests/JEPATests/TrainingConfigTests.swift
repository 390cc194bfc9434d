import Config
import Foundation
import Testing
@testable import JEPA

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite struct TrainingConfigTests {
    @Test func embeddedDefaultAndShippedConfigsLoadAndValidate() throws {
        let embedded = try ConfigLoader.load(TrainingConfig.self, yaml: TrainingConfig.embeddedDefaultYAML, file: "<embedded default>")
        #expect(embedded.name == "balls-small" && embedded.model.encoderDim == 96 && embedded.mask.maskedSpatialFraction == 0.5)
        for name in ["balls-vjepa.yaml", "tiny-balls.yaml"] {
            let path = repository.appendingPathComponent("experiments/\(name)").path
            _ = try ConfigLoader.loadFile(TrainingConfig.self, path: path)
        }
        let reference = try ConfigLoader.loadFile(TrainingConfig.self, path: repository.appendingPathComponent("experiments/balls-vjepa.yaml").path)
        #expect(reference.model == VideoJEPAConfig())   // the peer's reference size is the model default
    }

    @Test func missingKeysTakeDefaultsAndResolvedYAMLRoundTrips() throws {
        let c = try ConfigLoader.load(TrainingConfig.self, yaml: "name: x\noptim: {lr: 0.01}", file: "t.yaml")
        #expect(c.optim.lr == 0.01 && c.optim.weightDecay == TrainingConfig().optim.weightDecay && c.train == TrainingConfig().train)
        let again = try ConfigLoader.load(TrainingConfig.self, yaml: ConfigLoader.resolvedYAML(c), file: "resolved")
        #expect(again == c)
    }

    @Test func errorsNameTheKeyAndFile() {
        func message(_ yaml: String, _ overrides: [String] = []) -> String {
            do {
                _ = try ConfigLoader.load(TrainingConfig.self, yaml: yaml, file: "run.yaml", overrides: overrides)
                return "no error"
            } catch { return "\(error)" }
        }
        #expect(message("optim: {learning_rate: 1}").contains("run.yaml") && message("optim: {learning_rate: 1}").contains("optim.learning_rate: unknown key"))
        #expect(message("train: {steps: many}").contains("train.steps"))
        #expect(message("model: {patch: 7}").contains("model.patch: must divide model.image_size"))
        #expect(message("", ["optim.lr=-1"]).contains("optim.lr: must be positive"))
        #expect(message("mask: {kind: random}").contains("mask.kind"))
    }
}
