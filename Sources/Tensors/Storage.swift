import Foundation

/// A contiguous float buffer shared by a tensor and its views (reshapes, detached copies).
/// Owned manually rather than by `[Float]` so hot loops work on raw pointers without
/// copy-on-write checks or exclusivity bookkeeping.
public final class TensorStorage: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Float>
    public let count: Int
    let capacity: Int

    init(count: Int) {
        self.count = count
        (base, capacity) = BufferPool.allocate(count)
    }

    convenience init(repeating value: Float, count: Int) {
        self.init(count: count)
        base.initialize(repeating: value, count: count)
    }

    deinit { BufferPool.release(base, capacity: capacity) }

    /// Returns recycled buffers to the system (as `torch.cuda.empty_cache()` does for its pool).
    public static func releaseCachedBuffers() { BufferPool.trim(to: 0) }

    /// Bytes held by recycled buffers waiting for reuse.
    public static var cachedBytes: Int { BufferPool.cachedBytes() }
}

/// Recycles large buffers by size class. Training allocates the same activation sizes every
/// step; giving them back to the allocator lets glibc unmap them, and mapping them again costs
/// a page fault per 4 KiB (measured at ~20% of a ViT block's forward+backward). Small buffers
/// go straight to malloc.
enum BufferPool {
    /// Buffers below this many floats (256 KiB) are not pooled.
    static let minPooledCount = 1 << 16
    /// Recycled memory beyond this is freed.
    static let maxCachedBytes = 1 << 30

    nonisolated(unsafe) private static var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    nonisolated(unsafe) private static var cached = 0
    private static let lock = NSLock()

    /// Rounds up to one of 8 size classes per power of two (at most 12.5% slack).
    static func sizeClass(_ count: Int) -> Int {
        guard count > minPooledCount else { return count }
        let top = Int.bitWidth - 1 - count.leadingZeroBitCount
        let step = 1 << (top - 3)
        return (count + step - 1) / step * step
    }

    static func allocate(_ count: Int) -> (UnsafeMutablePointer<Float>, Int) {
        let capacity = sizeClass(Swift.max(count, 1))
        if capacity > minPooledCount {
            lock.lock()
            defer { lock.unlock() }
            if let p = free[capacity]?.popLast() {
                cached -= capacity * MemoryLayout<Float>.stride
                return (p, capacity)
            }
        }
        return (.allocate(capacity: capacity), capacity)
    }

    static func release(_ p: UnsafeMutablePointer<Float>, capacity: Int) {
        let bytes = capacity * MemoryLayout<Float>.stride
        guard capacity > minPooledCount else { p.deallocate(); return }
        lock.lock()
        defer { lock.unlock() }
        guard cached + bytes <= maxCachedBytes else { p.deallocate(); return }
        free[capacity, default: []].append(p)
        cached += bytes
    }

    static func trim(to limit: Int) {
        lock.lock()
        defer { lock.unlock() }
        for (capacity, buffers) in free {
            var kept = buffers
            while cached > limit, let p = kept.popLast() {
                p.deallocate()
                cached -= capacity * MemoryLayout<Float>.stride
            }
            free[capacity] = kept
        }
    }

    static func cachedBytes() -> Int {
        lock.lock()
        defer { lock.unlock() }
        return cached
    }
}
