import Config
@testable import JEPA
import NN
import Tensors
import Testing

/// The recurrent predictor with stacked GRU layers (`model.gru_layers`).
@Suite struct StackedRecurrentTests {
    static func predictor(layers: Int) -> RecurrentPredictor {
        var rng = RandomGenerator(seed: 9)
        let p = RecurrentPredictor(latentDim: 6, actionDim: 0, hidden: 10, layers: layers, window: 5, rng: &rng)
        for t in p.parameters() { t.assign(Tensor.uniform(t.shape, low: -0.4, high: 0.4, using: &rng)) }
        return p
    }

    static func latents() -> Tensor {
        var rng = RandomGenerator(seed: 4)
        return Tensor.uniform([2, 5, 1, 6], low: -1, high: 1, using: &rng)
    }

    /// Frames fed one at a time, each from the state the previous call returned, give what one run
    /// over all of them gives (the scorer and the rollouts rely on it), and the upper layer counts.
    @Test func runningFrameByFrameMatchesOneRun() {
        let p = Self.predictor(layers: 2), x = Self.latents()
        let actions = Tensor.zeros([2, 5, 0])
        let whole = p.run(latents: x, actions: actions, z: nil, from: nil)
        var hidden: Tensor? = nil
        for t in 0..<5 {
            let step = p.run(latents: x.slice(axis: 1, t..<(t + 1)), actions: actions.slice(axis: 1, t..<(t + 1)), z: nil, from: hidden)
            hidden = step.hidden
            let expected = whole.prediction.slice(axis: 1, t..<(t + 1)).scalars
            #expect(maxDifference(step.prediction.scalars, expected) < 1e-5, "frame \(t)")
        }
        #expect(hidden!.shape == [2, 2, 10] && maxDifference(hidden!.scalars, whole.hidden.scalars) < 1e-5)
        let oneLayer = Self.predictor(layers: 1).run(latents: x, actions: actions, z: nil, from: nil)
        #expect(oneLayer.hidden.shape == [2, 1, 10])
        #expect(maxDifference(oneLayer.prediction.scalars, whole.prediction.scalars) > 1e-3)
    }

    @Test func gradientsMatchFiniteDifferences() {
        let p = Self.predictor(layers: 2)
        let bad = GradientCheck.mismatches([p.cell.weightIh, p.upperCells[0].weightHh, p.outProj.weight]) { _ in
            p(latents: Self.latents(), actions: Tensor.zeros([2, 5, 0])).squared().sum()
        }
        #expect(bad.isEmpty, "\(bad.prefix(5))")
    }

    @Test func layersAreCheckpointedAndTheSettingIsChecked() throws {
        #expect(Self.predictor(layers: 3).namedParameters().map(\.name).contains("upper_cells.1.weight_hh"))
        #expect(!Self.predictor(layers: 1).namedParameters().map(\.name).contains { $0.hasPrefix("upper_cells") })
        func load(_ yaml: String) throws -> TrainingConfig { try ConfigLoader.load(TrainingConfig.self, yaml: yaml, file: "nf.yaml") }
        #expect(try load("kind: next_frame\nmodel: {gru_layers: 2}").actionModel.gruLayers == 2)
        func message(_ yaml: String) -> String {
            do { _ = try load(yaml); return "" } catch { return "\(error)" }
        }
        #expect(message("kind: next_frame\nmodel: {gru_layers: 0}").contains("model.gru_layers: must be at least 1"))
        #expect(message("kind: action_conditioned\nmodel: {predictor: gru, gru_layers: 2}").contains("model.gru_layers: stacks the recurrent predictor"))
    }
}

private func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
