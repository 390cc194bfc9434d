import Foundation
import Tensors

/// Adam with decoupled weight decay, matching `torch.optim.AdamW` (amsgrad off):
/// p ← p·(1 − lr·wd); m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
/// p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
/// Weight decay applies to the parameters `decays` selects (default: `WeightDecayRule.standard`).
public final class AdamW: Optimizer {
    public var learningRate: Float
    public var weightDecay: Float
    public let beta1: Float, beta2: Float, eps: Float
    public private(set) var stepCount = 0

    let parameters: [NamedParameter]
    let decayed: [Bool]
    let expAvg: [Tensor], expAvgSq: [Tensor]

    public init(parameters: [NamedParameter], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                eps: Float = 1e-8, weightDecay: Float = 0.01,
                decays: (String, Tensor) -> Bool = WeightDecayRule.standard) {
        precondition(learningRate >= 0 && weightDecay >= 0 && eps > 0, "AdamW: lr \(learningRate), weight decay \(weightDecay) and eps \(eps) must be non-negative (eps positive)")
        precondition((0..<1).contains(betas.0) && (0..<1).contains(betas.1), "AdamW: betas \(betas) must lie in [0, 1)")
        self.parameters = parameters
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        (beta1, beta2) = betas
        self.eps = eps
        decayed = parameters.map { decays($0.name, $0.tensor) }
        expAvg = parameters.map { Tensor.zeros($0.tensor.shape) }
        expAvgSq = parameters.map { Tensor.zeros($0.tensor.shape) }
    }

    public func step() {
        stepCount += 1
        let t = Double(stepCount)
        let stepSize = learningRate / Float(1 - pow(Double(beta1), t))
        let bc2Sqrt = Float((1 - pow(Double(beta2), t)).squareRoot())
        let (b1, b2, eps) = (beta1, beta2, self.eps)
        for (i, p) in parameters.enumerated() {
            guard let g = p.tensor.grad else { continue }
            let shrink = decayed[i] ? 1 - learningRate * weightDecay : 1
            let pp = p.tensor.ptr, pg = g.ptr, pm = expAvg[i].ptr, pv = expAvgSq[i].ptr
            forEachChunk(p.tensor.count) { r in
                for j in r {
                    let gj = pg[j]
                    let m = b1 * pm[j] + (1 - b1) * gj
                    let v = b2 * pv[j] + (1 - b2) * gj * gj
                    pm[j] = m
                    pv[j] = v
                    pp[j] = pp[j] * shrink - stepSize * m / (v.squareRoot() / bc2Sqrt + eps)
                }
            }
        }
    }

    public func zeroGrad() { for p in parameters { p.tensor.grad = nil } }

    public func namedState() -> [NamedParameter] {
        zip(parameters, zip(expAvg, expAvgSq)).flatMap { p, s in
            [(name: "exp_avg.\(p.name)", tensor: s.0), (name: "exp_avg_sq.\(p.name)", tensor: s.1)]
        }
    }

    public func loadState(_ state: [String: Tensor], stepCount: Int) throws {
        try loadBuffers(namedState().map { ($0.name, $0.tensor) }, from: state)
        self.stepCount = stepCount
    }
}
