import Tensors

/// Two-layer perceptron `fc2(act(fc1(x)))`, as timm's `Mlp` (keys `fc1`, `fc2`).
public final class MLP: Module {
    public let fc1: Linear
    public let fc2: Linear
    public let activation: Activation

    public init(_ dim: Int, hidden: Int, out: Int? = nil, activation: Activation = .gelu,
                initialization: WeightInit = .pytorch, rng: inout RandomGenerator) {
        fc1 = Linear(dim, hidden, initialization: initialization, rng: &rng)
        fc2 = Linear(hidden, out ?? dim, initialization: initialization, rng: &rng)
        self.activation = activation
    }

    /// `residual` (the output's shape) is added to the output inside the `fc2` product.
    public func callAsFunction(_ x: Tensor, residual: Tensor? = nil) -> Tensor {
        fc2(activation(fc1(x)), residual: residual)
    }
}
