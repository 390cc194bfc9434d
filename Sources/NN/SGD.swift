import Tensors

/// Stochastic gradient descent with momentum, matching `torch.optim.SGD`:
/// g ← g + wd·p; b ← μb + (1−dampening)g (b = g on the first step); g ← g + μb (Nesterov) or b; p ← p − lr·g.
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool
    public private(set) var stepCount = 0

    let parameters: [NamedParameter]
    let buffers: [Tensor]

    public init(parameters: [NamedParameter], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(learningRate >= 0 && momentum >= 0 && weightDecay >= 0, "SGD: lr \(learningRate), momentum \(momentum) and weight decay \(weightDecay) must be non-negative")
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum needs momentum > 0 and zero dampening")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        buffers = momentum > 0 ? parameters.map { Tensor.zeros($0.tensor.shape) } : []
    }

    public func step() {
        let first = stepCount == 0
        stepCount += 1
        let (lr, mu, damp, wd, nesterov) = (learningRate, momentum, dampening, weightDecay, self.nesterov)
        for (i, p) in parameters.enumerated() {
            guard let g = p.tensor.grad else { continue }
            let pp = p.tensor.ptr, pg = g.ptr
            let pb = mu > 0 ? buffers[i].ptr : nil
            forEachChunk(p.tensor.count) { r in
                for j in r {
                    var d = pg[j] + wd * pp[j]
                    if let pb {
                        pb[j] = first ? d : mu * pb[j] + (1 - damp) * d
                        d = nesterov ? d + mu * pb[j] : pb[j]
                    }
                    pp[j] -= lr * d
                }
            }
        }
    }

    public func zeroGrad() { for p in parameters { p.tensor.grad = nil } }

    public func namedState() -> [NamedParameter] {
        zip(parameters, buffers).map { (name: "momentum_buffer.\($0.name)", tensor: $1) }
    }

    public func loadState(_ state: [String: Tensor], stepCount: Int) throws {
        try loadBuffers(namedState().map { ($0.name, $0.tensor) }, from: state)
        self.stepCount = stepCount
    }
}
