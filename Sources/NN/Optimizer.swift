import Tensors

/// A named parameter, as returned by `Module.namedParameters()`; the name is the checkpoint key.
public typealias NamedParameter = (name: String, tensor: Tensor)

/// Common interface of the optimisers: one `step()` per batch after `backward()`.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    /// Number of completed steps.
    var stepCount: Int { get }
    /// Applies one update from the parameters' accumulated gradients (parameters without a gradient are skipped, as in PyTorch).
    func step()
    /// Clears every parameter's gradient.
    func zeroGrad()
    /// Optimiser state keyed by stable names (`exp_avg.<param>`, …), for checkpoints.
    func namedState() -> [NamedParameter]
    /// Restores state written by `namedState()`; names and shapes must match.
    func loadState(_ state: [String: Tensor], stepCount: Int) throws
}

public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
}

/// Parameters split by whether weight decay applies.
public enum WeightDecayRule {
    /// Decay matrices and kernels only: not biases, norm scales (rank < 2), position embeddings
    /// or learned tokens — the convention of I-JEPA/V-JEPA and the PyTorch peer.
    public static func standard(_ name: String, _ tensor: Tensor) -> Bool {
        tensor.rank >= 2 && !name.hasSuffix("pos_embed") && !name.hasSuffix("_token")
    }
}

extension Optimizer {
    func loadBuffers(_ buffers: [(String, Tensor)], from state: [String: Tensor]) throws {
        var problems: [String] = []
        for (key, buffer) in buffers {
            guard let saved = state[key] else { problems.append("missing \(key)"); continue }
            guard saved.shape == buffer.shape else {
                problems.append("\(key): shape \(saved.shape), expected \(buffer.shape)")
                continue
            }
            buffer.assign(saved)
        }
        let known = Set(buffers.map(\.0))
        problems += state.keys.filter { !known.contains($0) }.sorted().map { "unexpected \($0)" }
        if !problems.isEmpty {
            throw OptimizerStateError(description: "optimizer state does not match the parameters: " + problems.joined(separator: "; "))
        }
    }
}

/// Runs `body` over `0..<count` in parallel chunks sized for a light per-element update.
func forEachChunk(_ count: Int, _ body: (Range<Int>) -> Void) {
    Parallel.forChunks(count, cost: 8, body)
}
