import Tensors

/// Each batch masked by one of several strategies, drawn with the given probabilities (V-JEPA
/// likewise mixes mask generators): spatial tubes teach the predictor to fill in space, "predict the
/// future" to extrapolate in time, which energy-based surprise needs.
public struct MixedMask: MaskStrategy {
    public let strategies: [any MaskStrategy]
    public let probabilities: [Double]

    public init(_ choices: [(strategy: any MaskStrategy, probability: Double)]) {
        strategies = choices.map(\.strategy)
        probabilities = choices.map(\.probability)
    }

    public func validate(grid: TokenGrid) throws {
        guard !strategies.isEmpty, probabilities.allSatisfy({ $0 >= 0 }),
              abs(probabilities.reduce(0, +) - 1) < 1e-9 else {
            throw MaskConfigError(field: "probabilities", value: "\(probabilities)", allowed: "non-negative, summing to 1")
        }
        for strategy in strategies { try strategy.validate(grid: grid) }
    }

    public func masks(batch: Int, grid: TokenGrid, rng: inout RandomGenerator) -> MaskedBatch {
        requireValid(batch: batch, grid: grid)
        let u = Double(rng.uniform())
        var cumulative = 0.0
        for (strategy, p) in zip(strategies, probabilities) {
            cumulative += p
            if u < cumulative { return strategy.masks(batch: batch, grid: grid, rng: &rng) }
        }
        return strategies[probabilities.lastIndex { $0 > 0 }!].masks(batch: batch, grid: grid, rng: &rng)
    }
}
