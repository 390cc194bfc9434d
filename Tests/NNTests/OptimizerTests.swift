import Testing
import Tensors
@testable import NN

/// The inputs of tools/optimizer_reference.py, rebuilt exactly.
private func referenceParameters() -> [NamedParameter] {
    [(name: "layer.weight", tensor: Tensor([0.5, -1.0, 2.0, 1.5, 0.25, -0.75], shape: [2, 3], requiresGrad: true)),
     (name: "layer.bias", tensor: Tensor([0.1, -0.2, 0.3], requiresGrad: true))]
}

private func setReferenceGradients(_ params: [NamedParameter], step: Int) {
    let s = Float(step + 1)
    params[0].tensor.grad = Tensor([0.1, -0.3, 0.5, -0.7, 0.2, 0.05].map { $0 * s }, shape: [2, 3])
    params[1].tensor.grad = Tensor([0.4, -0.1, 0.25].map { $0 / s })
}

private func run(_ make: ([NamedParameter]) -> Optimizer, steps: Int = 3) -> [Float] {
    let params = referenceParameters()
    let opt = make(params)
    for s in 0..<steps {
        setReferenceGradients(params, step: s)
        opt.step()
    }
    return params.flatMap { $0.tensor.scalars }
}

private func expectClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-6, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, sourceLocation: sourceLocation)
    let worst = zip(a, b).map { Swift.abs($0 - $1) / (1 + Swift.abs($1)) }.max() ?? 0
    #expect(worst <= tolerance, "max relative difference \(worst)", sourceLocation: sourceLocation)
}

/// Parity with torch.optim (values from tools/optimizer_reference.py), to float32 rounding (1e-6 relative).
@Suite struct OptimizerParity {
    @Test func adamWWithNoDecayGroupMatchesPyTorch() {
        let got = run { AdamW(parameters: $0, learningRate: 0.05, betas: (0.8, 0.95), eps: 1e-6, weightDecay: 0.1) }
        expectClose(got, adamWReference)
    }

    @Test func sgdMomentumMatchesPyTorch() {
        expectClose(run { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01) }, sgdMomentumReference)
        expectClose(run { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true) }, sgdNesterovReference)
    }

    @Test func clipGradientNormMatchesPyTorch() {
        let params = referenceParameters()
        setReferenceGradients(params, step: 0)
        let norm = clipGradientNorm(params.map(\.tensor), maxNorm: 0.5)
        #expect(Swift.abs(norm - clipNormReference) < 1e-6)
        expectClose(params.flatMap { $0.tensor.grad!.scalars }, clippedGradientsReference)
    }

    @Test func clippingLeavesSmallGradientsAlone() {
        let params = referenceParameters()
        setReferenceGradients(params, step: 0)
        let before = params.flatMap { $0.tensor.grad!.scalars }
        clipGradientNorm(params.map(\.tensor), maxNorm: 10)
        #expect(params.flatMap { $0.tensor.grad!.scalars } == before)
    }

    @Test func parametersWithoutGradientsAreSkipped() {
        let params = referenceParameters()
        let opt = AdamW(parameters: params, weightDecay: 0.5)
        params[0].tensor.grad = Tensor.ones([2, 3])
        opt.step()
        #expect(params[1].tensor.scalars == [0.1, -0.2, 0.3])
    }

    @Test func defaultDecayRuleSkipsBiasesNormsAndEmbeddings() {
        #expect(WeightDecayRule.standard("blocks.0.attn.qkv.weight", Tensor.zeros([6, 2])))
        #expect(!WeightDecayRule.standard("blocks.0.attn.qkv.bias", Tensor.zeros([6])))
        #expect(!WeightDecayRule.standard("norm.weight", Tensor.zeros([2])))
        #expect(!WeightDecayRule.standard("pos_embed", Tensor.zeros([1, 4, 2])))
        #expect(!WeightDecayRule.standard("predictor.mask_token", Tensor.zeros([1, 1, 2])))
    }

    @Test func stateRoundTripsAndMismatchesAreNamed() throws {
        let a = referenceParameters(), b = referenceParameters()
        let optA = AdamW(parameters: a, learningRate: 0.05), optB = AdamW(parameters: b, learningRate: 0.05)
        setReferenceGradients(a, step: 0)
        optA.step()
        try optB.loadState(Dictionary(uniqueKeysWithValues: optA.namedState().map { ($0.name, $0.tensor.copy()) }), stepCount: optA.stepCount)
        for p in b { p.tensor.assign(a.first { $0.name == p.name }!.tensor) }
        setReferenceGradients(a, step: 1)
        setReferenceGradients(b, step: 1)
        optA.step()
        optB.step()
        #expect(a.flatMap { $0.tensor.scalars } == b.flatMap { $0.tensor.scalars })
        #expect(optA.namedState().map(\.name) == ["exp_avg.layer.weight", "exp_avg_sq.layer.weight", "exp_avg.layer.bias", "exp_avg_sq.layer.bias"])
        #expect(throws: OptimizerStateError.self) { try optB.loadState(["exp_avg.layer.weight": Tensor.zeros([3, 2])], stepCount: 1) }
        do {
            try optB.loadState(["exp_avg.layer.weight": Tensor.zeros([3, 2])], stepCount: 1)
        } catch {
            #expect("\(error)".contains("exp_avg.layer.weight: shape [3, 2], expected [2, 3]"))
            #expect("\(error)".contains("missing exp_avg_sq.layer.bias"))
        }
    }
}

@Suite struct ScheduleTests {
    @Test func warmupCosine() {
        let s = WarmupCosine(start: 0, peak: 1, final: 0.1, warmupSteps: 10, totalSteps: 110)
        #expect(s.value(at: 0) == 0)
        #expect(Swift.abs(s.value(at: 5) - 0.5) < 1e-6)
        #expect(Swift.abs(s.value(at: 10) - 1) < 1e-6)
        #expect(Swift.abs(s.value(at: 60) - 0.55) < 1e-6)   // halfway down the cosine
        #expect(Swift.abs(s.value(at: 110) - 0.1) < 1e-6)
        #expect(Swift.abs(s.value(at: 500) - 0.1) < 1e-6)
    }

    @Test func momentumSchedules() {
        let c = CosineSchedule(from: 0.996, to: 1, steps: 100)
        #expect(Swift.abs(c.value(at: 0) - 0.996) < 1e-7)
        #expect(Swift.abs(c.value(at: 50) - 0.998) < 1e-7)
        #expect(c.value(at: 100) == 1)
        let l = LinearSchedule(from: 0.996, to: 1, steps: 4)
        #expect(Swift.abs(l.value(at: 1) - 0.997) < 1e-7)
        #expect(l.value(at: 9) == 1)
        #expect(ConstantSchedule(3).value(at: 7) == 3)
    }
}

@Suite struct EMATests {
    @Test func movesTargetTowardSourceByName() {
        let target: [NamedParameter] = [(name: "a", tensor: Tensor([0, 0])), (name: "b", tensor: Tensor([1]))]
        let source: [NamedParameter] = [(name: "b", tensor: Tensor([3])), (name: "a", tensor: Tensor([10, -10]))]
        let ema = EMA(target: target)
        ema.update(from: source, momentum: 0.9)
        #expect(Swift.abs(target[0].tensor.scalars[0] - 1) < 1e-6 && Swift.abs(target[0].tensor.scalars[1] + 1) < 1e-6)
        #expect(Swift.abs(target[1].tensor.scalars[0] - 1.2) < 1e-6)
        ema.update(from: source, momentum: 1)
        #expect(Swift.abs(target[1].tensor.scalars[0] - 1.2) < 1e-6)
        #expect(!target[0].tensor.requiresGrad)
    }
}

// Values printed by tools/optimizer_reference.py (torch.optim, float32).
private let adamWReference: [Float] = [0.3454724848270416, -0.838009238243103, 1.8230839967727661, 1.624678373336792, 0.09920324385166168, -0.8858701586723328, -0.03852573782205582, -0.061475545167922974, 0.16147451102733612]
private let sgdMomentumReference: [Float] = [0.4090924859046936, -0.7299354076385498, 1.5481204986572266, 2.109773635864258, 0.07217183709144592, -0.7901379466056824, -0.05497860163450241, -0.1603250950574875, 0.20187589526176453]
private let sgdNesterovReference: [Float] = [0.3505675494670868, -0.5557202100753784, 1.2568553686141968, 2.5058515071868896, -0.042838554829359055, -0.8166811466217041, -0.1174129918217659, -0.144240602850914, 0.16220854222774506]
private let clipNormReference: Float = 1.0559356212615967
private let clippedGradientsReference: [Float] = [0.047351326793432236, -0.1420539915561676, 0.23675663769245148, -0.33145928382873535, 0.09470265358686447, 0.023675663396716118, 0.18940530717372894, -0.047351326793432236, 0.11837831884622574]
