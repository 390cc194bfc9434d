#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Statistics of repeated calls, each call timed on its own with a monotonic clock.
struct TimingStats: Sendable, Codable {
    /// Number of timed calls (warm-up calls excluded).
    var reps: Int
    /// Median call time in seconds: the element at index `reps / 2` of the sorted times
    /// (the upper median for an even count, the same convention as `sgemm_peak.c`).
    var median: Double
    /// Fastest call in seconds.
    var best: Double
    /// Sum of all timed calls in seconds.
    var total: Double

    init(times: [Double]) {
        precondition(!times.isEmpty, "TimingStats needs at least one timed call")
        let sorted = times.sorted()
        reps = sorted.count
        median = sorted[sorted.count / 2]
        best = sorted[0]
        total = sorted.reduce(0, +)
    }

    /// Throughput in GFLOP/s of the median and of the best call, for `flops` per call.
    func gflops(_ flops: Double) -> (median: Double, best: Double) {
        (flops / median * 1e-9, flops / best * 1e-9)
    }
}

/// The benchmark timing method shared by every bench section:
/// `warmup` untimed calls, then calls each timed alone until at least `seconds` have passed
/// *and* at least `minReps` calls were made (capped at `maxReps`).
enum Timing {
    static let defaultWarmup = 3
    static let defaultMinReps = 10
    static let maxReps = 100_000

    /// Seconds on CLOCK_MONOTONIC.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func measure(
        warmup: Int = defaultWarmup,
        seconds: Double,
        minReps: Int = defaultMinReps,
        _ body: () throws -> Void
    ) rethrows -> TimingStats {
        for _ in 0..<warmup { try body() }
        var times: [Double] = []
        times.reserveCapacity(max(minReps, 256))
        let start = now()
        while (times.count < minReps || now() - start < seconds) && times.count < maxReps {
            let t0 = now()
            try body()
            times.append(now() - t0)
        }
        return TimingStats(times: times)
    }
}
