import Foundation

/// A float32 n-dimensional array with contiguous row-major storage and reverse-mode autodiff.
///
/// Tensors are reference types: autodiff needs identity, and views (reshapes, `detached()`)
/// share storage. Ops never modify their inputs; optimisers update parameters in place through
/// `withUnsafeMutableBufferPointer`.
public final class Tensor {
    public let shape: [Int]
    public let count: Int
    public let storage: TensorStorage
    public let offset: Int

    /// Whether gradients flow to this tensor. Leaves with `requiresGrad` receive `grad` on `backward()`.
    public var requiresGrad: Bool
    /// Accumulated gradient of a leaf (summed over `backward()` calls until cleared).
    public var grad: Tensor?

    /// The op that produced this tensor, while its graph is alive.
    var node: Node?
    /// Set when `backward()` released the graph through this tensor.
    var graphReleased = false

    init(shape: [Int], storage: TensorStorage, offset: Int = 0, requiresGrad: Bool = false) {
        let n = shapeCount(shape)
        precondition(offset + n <= storage.count, "tensor of shape \(shape) does not fit its storage")
        self.shape = shape
        self.count = n
        self.storage = storage
        self.offset = offset
        self.requiresGrad = requiresGrad
    }

    /// A tensor whose contents the caller will overwrite completely.
    init(uninitialized shape: [Int]) {
        let n = shapeCount(shape)
        self.shape = shape
        self.count = n
        self.storage = TensorStorage(count: n)
        self.offset = 0
        self.requiresGrad = false
    }

    public convenience init(_ values: [Float], shape: [Int], requiresGrad: Bool = false) {
        precondition(values.count == shapeCount(shape),
                     "Tensor: \(values.count) values do not fill shape \(shape) (\(shapeCount(shape)) elements)")
        self.init(uninitialized: shape)
        values.withUnsafeBufferPointer { ptr.update(from: $0.baseAddress!, count: values.count) }
        self.requiresGrad = requiresGrad
    }

    public convenience init(_ values: [Float], requiresGrad: Bool = false) {
        self.init(values, shape: [values.count], requiresGrad: requiresGrad)
    }

    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init([scalar], shape: [], requiresGrad: requiresGrad)
    }

    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, storage: TensorStorage(repeating: value, count: shapeCount(shape)),
                  requiresGrad: requiresGrad)
    }

    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(repeating: 0, shape: shape, requiresGrad: requiresGrad)
    }

    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(repeating: 1, shape: shape, requiresGrad: requiresGrad)
    }

    /// Samples from Normal(mean, std).
    public static func randn(_ shape: [Int], mean: Float = 0, std: Float = 1,
                             using rng: inout RandomGenerator, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count { t.ptr[i] = mean + std * rng.normal() }
        t.requiresGrad = requiresGrad
        return t
    }

    /// Samples uniformly from [low, high).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                               using rng: inout RandomGenerator, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count { t.ptr[i] = rng.uniform(low, high) }
        t.requiresGrad = requiresGrad
        return t
    }

    /// Normal(0, std) truncated at ±2 std (the intent of timm's `trunc_normal_(std=.02)`).
    public static func truncatedNormal(_ shape: [Int], std: Float, using rng: inout RandomGenerator,
                                       requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count { t.ptr[i] = rng.truncatedNormal(std: std) }
        t.requiresGrad = requiresGrad
        return t
    }

    public var rank: Int { shape.count }

    /// The first element's address. Storage is contiguous from here for `count` elements.
    @inlinable public var ptr: UnsafeMutablePointer<Float> { storage.base + offset }

    /// A copy of the elements in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: ptr, count: count)) }

    /// The value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs a one-element tensor, got shape \(shape)")
        return ptr[0]
    }

    /// Element at a multi-index (for tests and small lookups, not hot loops).
    public subscript(_ index: Int...) -> Float {
        precondition(index.count == rank, "index \(index) does not match rank \(rank) of shape \(shape)")
        var flat = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "index \(index) out of range for shape \(shape)")
            flat = flat * d + i
        }
        return ptr[flat]
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: ptr, count: count))
    }

    /// In-place access, for optimisers and loaders. Bypasses autodiff.
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: ptr, count: count))
    }

    /// The same values with no autodiff history, sharing storage.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage, offset: offset) }

    /// A new tensor with its own storage and no autodiff history.
    public func copy() -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.ptr.update(from: ptr, count: count)
        return t
    }

    /// Overwrites this tensor's values in place (no autodiff), e.g. to load weights.
    public func assign(_ other: Tensor) {
        precondition(other.shape == shape, "assign: shape \(other.shape) does not match \(shape)")
        ptr.update(from: other.ptr, count: count)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String(format: "%.4g", Double($0)) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", …" : "")])"
    }
}

@inlinable func shapeCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

/// Row-major strides of a shape.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}

/// Resolves a possibly negative axis against a rank, with a clear message on failure.
func normalizeAxis(_ axis: Int, rank: Int, op: String) -> Int {
    let a = axis < 0 ? axis + rank : axis
    precondition(a >= 0 && a < rank, "\(op): axis \(axis) is out of range for rank \(rank)")
    return a
}
