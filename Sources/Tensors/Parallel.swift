import Dispatch
import Foundation

/// How elementwise and matrix work is split across cores.
///
/// OpenBLAS is always driven single-threaded; the toolkit splits matrix products and
/// elementwise loops itself, so the two never oversubscribe the cores.
public enum Parallel {
    nonisolated(unsafe) private static var _threads: Int = defaultThreads()

    /// Set inside a data-parallel worker, which owns one core: its ops run on the calling thread.
    @TaskLocal static var localThreads: Int?

    /// Worker count for every parallel loop and matrix product (default: `JEPA_THREADS` or the core
    /// count; 1 inside a data-parallel worker, see `DataParallel`).
    public static var threads: Int {
        get { localThreads ?? _threads }
        set {
            precondition(newValue >= 1, "Parallel.threads must be at least 1, got \(newValue)")
            _threads = newValue
        }
    }

    static func defaultThreads() -> Int {
        if let s = ProcessInfo.processInfo.environment["JEPA_THREADS"], let n = Int(s), n >= 1 { return n }
        return Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Below this many elements a loop runs on the calling thread: dispatch costs more than it saves.
    public static let minParallelElements = 1 << 15

    /// Runs `body` over `0..<count` split into at most `threads` contiguous chunks.
    /// `cost` is the approximate work per index in "element operations".
    public static func forChunks(_ count: Int, cost: Int = 1, _ body: (Range<Int>) -> Void) {
        let workers = Swift.min(threads, count, Swift.max(1, count * cost / minParallelElements))
        if workers <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        forEach(workers) { w in
            let lo = count * w / workers, hi = count * (w + 1) / workers
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Runs `body(i)` for each worker index `0..<n`, in parallel when `n > 1`.
    public static func forEach(_ n: Int, _ body: (Int) -> Void) {
        if n == 1 { body(0); return }
        // Workers write disjoint parts of raw buffers, which the type system cannot see.
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: n) { work.value($0) }
        }
    }
}

struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
