import Tensors

/// Inverted dropout with probability `p`, active only in training mode. Owns its random
/// stream (seeded at construction), so runs are reproducible.
public final class Dropout: Module {
    public let p: Float
    private var _rng: RandomGenerator

    public init(_ p: Float, seed: UInt64 = 0) {
        precondition(p >= 0 && p < 1, "Dropout: probability must be in [0, 1), got \(p)")
        self.p = p
        _rng = RandomGenerator(seed: seed)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.dropout(p, training: isTraining, using: &_rng)
    }
}
