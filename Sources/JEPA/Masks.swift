import Tensors

// Masking strategies for JEPA training: which tokens of a clip the context encoder sees and which
// the predictor must predict. Token indices follow `PatchEmbed3D`'s order (time, then row-major),
// so the lists feed `Tensor.gather(batchIndices:)` directly.

/// The token layout of one clip after patch/tubelet embedding.
///
/// Token index = `(t * height + h) * width + w`, as `PatchEmbed3D` and the 3-D sin-cos position
/// embedding order them (time, then row-major).
public struct TokenGrid: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    /// Temporal positions (frames / tubelet).
    public var frames: Int
    /// Patch rows per frame.
    public var height: Int
    /// Patch columns per frame.
    public var width: Int

    public init(frames: Int, height: Int, width: Int) {
        self.frames = frames
        self.height = height
        self.width = width
    }

    /// Spatial positions per temporal position (`height · width`).
    public var spatialCount: Int { height * width }
    /// Tokens per clip (`frames · height · width`).
    public var count: Int { frames * height * width }

    /// The token index of temporal position `t`, row `h`, column `w`.
    @inlinable public func index(t: Int, h: Int, w: Int) -> Int { (t * height + h) * width + w }

    /// Throws a `MaskConfigError` unless every extent is ≥ 1.
    public func validate() throws {
        if frames < 1 { throw MaskConfigError(field: "grid.frames", value: "\(frames)", allowed: "≥ 1") }
        if height < 1 { throw MaskConfigError(field: "grid.height", value: "\(height)", allowed: "≥ 1") }
        if width < 1 { throw MaskConfigError(field: "grid.width", value: "\(width)", allowed: "≥ 1") }
    }

    public var description: String { "\(frames)×\(height)×\(width)" }
}

/// Context and target token indices for every clip of a batch.
///
/// Invariants (checked by the tests, relied on by `gather(batchIndices:)`): per clip both lists are
/// sorted ascending, disjoint, non-empty and inside `0..<grid.count`; every clip has the same number
/// of context tokens and the same number of target tokens. Context ∪ target may be a strict subset of
/// the grid (tokens dropped to equalise counts across the batch are in neither list).
public struct MaskedBatch: Sendable, Equatable {
    /// Per clip, the token indices the context encoder sees.
    public var context: [[Int]]
    /// Per clip, the token indices the predictor must predict.
    public var target: [[Int]]

    public init(context: [[Int]], target: [[Int]]) {
        precondition(context.count == target.count, "MaskedBatch: \(context.count) context lists, \(target.count) target lists")
        self.context = context
        self.target = target
    }

    /// Number of clips.
    public var batch: Int { context.count }
    /// Context tokens per clip (the same for every clip).
    public var contextCount: Int { context.first?.count ?? 0 }
    /// Target tokens per clip (the same for every clip).
    public var targetCount: Int { target.first?.count ?? 0 }
}

/// An impossible mask configuration: which field, its value, and what would be allowed.
public struct MaskConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The configuration field at fault, e.g. "spatialScale".
    public var field: String
    /// The offending value, as text.
    public var value: String
    /// The allowed range or rule, as text.
    public var allowed: String

    public init(field: String, value: String, allowed: String) {
        self.field = field
        self.value = value
        self.allowed = allowed
    }

    public var description: String { "invalid mask configuration: \(field) = \(value); allowed: \(allowed)" }
}

/// A way to split each clip's tokens into context and target.
public protocol MaskStrategy: Sendable {
    /// Throws a `MaskConfigError` naming the field if this strategy cannot mask `grid`
    /// (including grid-independent checks).
    func validate(grid: TokenGrid) throws

    /// Masks for `batch` clips over `grid`, drawing only from `rng`: the same generator state gives the
    /// same masks. Traps (precondition) if `validate(grid:)` would throw or `batch < 1`.
    func masks(batch: Int, grid: TokenGrid, rng: inout RandomGenerator) -> MaskedBatch
}

extension MaskStrategy {
    /// Traps with the validation message; used by `masks` implementations.
    func requireValid(batch: Int, grid: TokenGrid) {
        precondition(batch >= 1, "\(Self.self).masks: batch must be ≥ 1, got \(batch)")
        do { try validate(grid: grid) } catch { preconditionFailure("\(Self.self).masks(grid: \(grid)): \(error)") }
    }
}

/// Draws `k` of `sortedIndices` at random, returned sorted ascending.
func randomSubset(_ sortedIndices: [Int], keep k: Int, rng: inout RandomGenerator) -> [Int] {
    if k >= sortedIndices.count { return sortedIndices }
    var pool = sortedIndices
    // Partial Fisher–Yates: the first k slots become a uniform random k-subset.
    for i in 0..<k { pool.swapAt(i, i + rng.int(below: pool.count - i)) }
    return pool[0..<k].sorted()
}
