import Tensors

/// A gated recurrent unit step with PyTorch `nn.GRUCell` semantics and keys
/// (`weight_ih` [3H, in], `weight_hh` [3H, H], `bias_ih` [3H], `bias_hh` [3H]; gate order r, z, n):
///
///     r = σ(W_ir x + b_ir + W_hr h + b_hr)
///     z = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
///     h' = (1 − z) ⊙ n + z ⊙ h
///
/// Init as PyTorch: every parameter U(−1/√H, 1/√H).
public final class GRUCell: Module {
    public let weightIh: Tensor
    public let weightHh: Tensor
    public let biasIh: Tensor?
    public let biasHh: Tensor?

    public var inputSize: Int { weightIh.shape[1] }
    public var hiddenSize: Int { weightHh.shape[1] }

    public init(_ inputSize: Int, _ hiddenSize: Int, bias: Bool = true, rng: inout RandomGenerator) {
        let k = 1 / Float(hiddenSize).squareRoot()
        weightIh = Init.uniform([3 * hiddenSize, inputSize], bound: k, rng: &rng)
        weightHh = Init.uniform([3 * hiddenSize, hiddenSize], bound: k, rng: &rng)
        biasIh = bias ? Init.uniform([3 * hiddenSize], bound: k, rng: &rng) : nil
        biasHh = bias ? Init.uniform([3 * hiddenSize], bound: k, rng: &rng) : nil
    }

    /// `x`: [..., in], `h`: [..., H] (zeros when nil) → h' [..., H].
    public func callAsFunction(_ x: Tensor, _ h: Tensor? = nil) -> Tensor {
        let hs = hiddenSize
        let h = h ?? Tensor.zeros(Array(x.shape.dropLast()) + [hs])
        precondition(h.shape.last == hs, "GRUCell: hidden state shape \(h.shape) does not end in \(hs)")
        let gi = x.linear(weight: weightIh, bias: biasIh)   // [..., 3H]
        let gh = h.linear(weight: weightHh, bias: biasHh)
        func gate(_ t: Tensor, _ g: Int) -> Tensor { t.slice(axis: -1, (g * hs)..<((g + 1) * hs)) }
        let r = (gate(gi, 0) + gate(gh, 0)).sigmoid()
        let z = (gate(gi, 1) + gate(gh, 1)).sigmoid()
        let n = (gate(gi, 2) + r * gate(gh, 2)).tanh()
        return n + z * (h - n)
    }
}
