import Tensors

/// "Predict the future": the context is every token of the first `contextFrames` temporal positions,
/// the target every token of the later ones (as the intuitive-physics evaluation's temporal mask).
///
/// The masks are the same for every clip and do not depend on the generator (which is left untouched).
/// With `T` temporal positions and `S = H·W`: context = `0..<k·S`, target = `k·S..<T·S`.
public struct FutureFrameMask: MaskStrategy, Codable, Equatable {
    /// Temporal positions given as context, in `1..<grid.frames`.
    public var contextFrames: Int

    public init(contextFrames: Int) {
        self.contextFrames = contextFrames
    }

    /// Grid-independent checks: `contextFrames ≥ 1`.
    public func validate() throws {
        if contextFrames < 1 {
            throw MaskConfigError(field: "contextFrames", value: "\(contextFrames)", allowed: "≥ 1")
        }
    }

    public func validate(grid: TokenGrid) throws {
        try validate()
        try grid.validate()
        if contextFrames >= grid.frames {
            throw MaskConfigError(field: "contextFrames", value: "\(contextFrames)",
                                  allowed: "1..<\(grid.frames) (grid.frames; at least one frame must be predicted)")
        }
    }

    public func masks(batch: Int, grid: TokenGrid, rng: inout RandomGenerator) -> MaskedBatch {
        requireValid(batch: batch, grid: grid)
        let split = contextFrames * grid.spatialCount
        let context = Array(0..<split), target = Array(split..<grid.count)
        return MaskedBatch(context: Array(repeating: context, count: batch),
                           target: Array(repeating: target, count: batch))
    }
}
