import Foundation

/// A seeded generator whose streams are identical across runs and platforms:
/// xoshiro256** seeded through SplitMix64, uniforms built from the top 24 bits,
/// normals by Box–Muller computed in Double and rounded once to Float.
public struct RandomGenerator: Sendable {
    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// The generator's full state, to save with a checkpoint; `init(state:)` resumes the stream exactly.
    public var state: [UInt64] { [s0, s1, s2, s3] }

    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 },
                     "RandomGenerator(state:): needs 4 words, not all zero, got \(state)")
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
    }

    @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = Self.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t
        s3 = Self.rotl(s3, 45)
        return result
    }

    /// An independent generator derived from this one (for per-worker or per-episode streams).
    public mutating func split() -> RandomGenerator { RandomGenerator(seed: next()) }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Uniform integer in 0..<bound (Lemire's unbiased multiply-shift).
    public mutating func int(below bound: Int) -> Int {
        precondition(bound > 0, "RandomGenerator.int(below:) needs a positive bound, got \(bound)")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Standard normal.
    public mutating func normal() -> Float {
        let u1 = (Double(next() >> 11) + 1) * 0x1p-53   // (0, 1]: log never sees 0
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    /// Normal(mean, std) truncated to [mean + a·std, mean + b·std] by rejection.
    public mutating func truncatedNormal(mean: Float = 0, std: Float, a: Float = -2, b: Float = 2) -> Float {
        while true {
            let z = normal()
            if z >= a && z <= b { return mean + std * z }
        }
    }

    /// Fisher–Yates shuffle driven by this generator (stable across Swift versions, unlike `shuffle(using:)`).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, int(below: i + 1))
        }
    }

    /// A random permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }
}
