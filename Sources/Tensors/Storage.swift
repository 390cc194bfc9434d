/// A contiguous float buffer shared by a tensor and its views (reshapes, detached copies).
/// Owned manually rather than by `[Float]` so hot loops work on raw pointers without
/// copy-on-write checks or exclusivity bookkeeping.
public final class TensorStorage: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Float>
    public let count: Int

    init(count: Int) {
        self.count = count
        base = .allocate(capacity: Swift.max(count, 1))
    }

    convenience init(repeating value: Float, count: Int) {
        self.init(count: count)
        base.initialize(repeating: value, count: count)
    }

    deinit { base.deallocate() }
}
