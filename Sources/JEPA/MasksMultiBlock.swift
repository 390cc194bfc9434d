import Foundation
import Tensors

/// V-JEPA's "multiblock3d" mask, as tubes: the target is a union of `blocks` random boxes, each a
/// spatial rectangle repeated over a run of consecutive temporal positions; the context is the rest.
///
/// Sampling, per call (one batch):
/// 1. **Block shape, once per batch** (as V-JEPA's `MaskCollator`, so clips get comparable mask sizes
///    and little is lost when counts are equalised): spatial scale `s` uniform in `spatialScale`,
///    aspect ratio `a = h/w` log-uniform in `aspectRatio`, temporal scale `τ` uniform in
///    `temporalScale`. Then `h = round(√(s·H·W·a))`, `w = round(√(s·H·W/a))`, `t = round(τ·T)`, each
///    clamped to `1...H`, `1...W`, `1...T`.
/// 2. **Per clip, `blocks` boxes** of that shape at independent uniform positions: top in
///    `0...H−h`, left in `0...W−w`, first temporal position in `0...T−t` (with `temporalScale` 1 every
///    box spans all frames: a tube mask). Boxes may overlap; their union is the target.
///
/// **Fixed masked count** (`maskedSpatialFraction == nil`, V-JEPA style): if the union covers the whole
/// clip, the clip's boxes are redrawn (up to `maxAttempts` times); if it still does, one random spatial
/// position is unmasked in every frame (or, on a 1×1 spatial grid, one random frame), so each clip keeps
/// ≥ 1 context token and (boxes being ≥ 1×1×1) ≥ 1 target token. Counts are then equalised across the
/// batch as in V-JEPA: every clip's context is cut to the batch minimum and its target to the batch
/// minimum, dropping *random* surplus tokens (V-JEPA keeps the first ones); dropped tokens are in
/// neither list. The minima are ≥ 1, so the guarantee holds after equalising.
///
/// **Exact spatial fraction** (`maskedSpatialFraction = f`, as the peer's `make_masks`): boxes are
/// spatial only; the number of masked spatial positions is `m = round(f·H·W)` clamped to `1...H·W−1`.
/// After the `blocks` boxes, more boxes of the same shape are added while the union has fewer than `m`
/// positions (at most `4·H·W` extra; `blocks` is then a minimum), then the union is trimmed at random
/// to exactly `m` (or, if the extra boxes ran out, padded with random other positions). These `m`
/// positions are masked in every frame of one temporal run of length `t` (drawn as above; the whole clip
/// when `temporalScale` is 1). Every clip has exactly `m·t` target and `T·H·W − m·t` context tokens, so
/// nothing is dropped.
///
/// Defaults: 8 blocks × 0.15 spatial scale, aspect 0.75–1.5, temporal scale 1 (V-JEPA's short-range
/// masks). `MultiBlockTubeMask.peer` is the peer configuration (50 % of spatial positions, all frames).
public struct MultiBlockTubeMask: MaskStrategy, Codable, Equatable {
    /// Boxes per clip (≥ 1); a minimum when `maskedSpatialFraction` is set.
    public var blocks: Int = 8
    /// Fraction of the `H·W` spatial positions one box covers, sampled uniformly; in (0, 1].
    public var spatialScale: ClosedRange<Double> = 0.15...0.15
    /// Box height/width ratio, sampled log-uniformly; positive.
    public var aspectRatio: ClosedRange<Double> = 0.75...1.5
    /// Fraction of the temporal positions one box spans, sampled uniformly; in (0, 1].
    public var temporalScale: ClosedRange<Double> = 1.0...1.0
    /// If set, exactly `round(f·H·W)` spatial positions are masked (see the type's documentation); in (0, 1).
    public var maskedSpatialFraction: Double? = nil
    /// Redraws of a clip whose union covers everything (fixed-count mode only); ≥ 0.
    public var maxAttempts: Int = 10

    public init(blocks: Int = 8, spatialScale: ClosedRange<Double> = 0.15...0.15,
                aspectRatio: ClosedRange<Double> = 0.75...1.5, temporalScale: ClosedRange<Double> = 1.0...1.0,
                maskedSpatialFraction: Double? = nil, maxAttempts: Int = 10) {
        self.blocks = blocks
        self.spatialScale = spatialScale
        self.aspectRatio = aspectRatio
        self.temporalScale = temporalScale
        self.maskedSpatialFraction = maskedSpatialFraction
        self.maxAttempts = maxAttempts
    }

    /// The peer's tube mask: exactly half the spatial positions, masked in all frames
    /// (4×8×8 grid → 128 context + 128 target tokens).
    public static let peer = MultiBlockTubeMask(maskedSpatialFraction: 0.5)

    private enum CodingKeys: String, CodingKey {
        case blocks, spatialScale, aspectRatio, temporalScale, maskedSpatialFraction, maxAttempts
    }

    /// Decodes with every key optional (missing keys take the defaults). Ranges are `[low, high]`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = MultiBlockTubeMask()
        blocks = try c.decodeIfPresent(Int.self, forKey: .blocks) ?? d.blocks
        spatialScale = try c.decodeIfPresent(ClosedRange<Double>.self, forKey: .spatialScale) ?? d.spatialScale
        aspectRatio = try c.decodeIfPresent(ClosedRange<Double>.self, forKey: .aspectRatio) ?? d.aspectRatio
        temporalScale = try c.decodeIfPresent(ClosedRange<Double>.self, forKey: .temporalScale) ?? d.temporalScale
        maskedSpatialFraction = try c.decodeIfPresent(Double.self, forKey: .maskedSpatialFraction)
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
    }

    /// Throws a `MaskConfigError` naming the field for a configuration that cannot be sampled.
    public func validate() throws {
        func fail(_ field: String, _ value: Any, _ allowed: String) -> MaskConfigError {
            MaskConfigError(field: field, value: "\(value)", allowed: allowed)
        }
        if blocks < 1 { throw fail("blocks", blocks, "≥ 1") }
        if blocks > 10_000 { throw fail("blocks", blocks, "≤ 10000") }
        for (name, r) in [("spatialScale", spatialScale), ("temporalScale", temporalScale)] {
            if !(r.lowerBound.isFinite && r.lowerBound > 0) { throw fail(name, r, "within (0, 1]") }
            if !(r.upperBound.isFinite && r.upperBound <= 1) { throw fail(name, r, "within (0, 1]") }
        }
        if !(aspectRatio.lowerBound.isFinite && aspectRatio.lowerBound > 0 && aspectRatio.upperBound.isFinite) {
            throw fail("aspectRatio", aspectRatio, "positive and finite")
        }
        if let f = maskedSpatialFraction, !(f > 0 && f < 1) {
            throw fail("maskedSpatialFraction", f, "in (0, 1), or nil")
        }
        if maxAttempts < 0 { throw fail("maxAttempts", maxAttempts, "≥ 0") }
    }

    public func validate(grid: TokenGrid) throws {
        try validate()
        try grid.validate()
        if maskedSpatialFraction != nil {
            if grid.spatialCount < 2 {
                throw MaskConfigError(field: "grid", value: "\(grid)",
                                      allowed: "≥ 2 spatial positions when maskedSpatialFraction is set")
            }
        } else if grid.count < 2 {
            throw MaskConfigError(field: "grid", value: "\(grid)", allowed: "≥ 2 tokens")
        }
    }

    /// The block shape (temporal, height, width) for one batch.
    func sampleBlockShape(grid: TokenGrid, rng: inout RandomGenerator) -> (t: Int, h: Int, w: Int) {
        func lerp(_ r: ClosedRange<Double>, _ u: Float) -> Double { r.lowerBound + Double(u) * (r.upperBound - r.lowerBound) }
        let s = lerp(spatialScale, rng.uniform())
        let logA = lerp(log(aspectRatio.lowerBound)...log(aspectRatio.upperBound), rng.uniform())
        let tau = lerp(temporalScale, rng.uniform())
        let a = exp(logA), area = s * Double(grid.spatialCount)
        let h = min(max(Int((area * a).squareRoot().rounded()), 1), grid.height)
        let w = min(max(Int((area / a).squareRoot().rounded()), 1), grid.width)
        let t = min(max(Int((tau * Double(grid.frames)).rounded()), 1), grid.frames)
        return (t, h, w)
    }

    public func masks(batch: Int, grid: TokenGrid, rng: inout RandomGenerator) -> MaskedBatch {
        requireValid(batch: batch, grid: grid)
        let shape = sampleBlockShape(grid: grid, rng: &rng)
        if let f = maskedSpatialFraction {
            return exactSpatialMasks(batch: batch, grid: grid, shape: shape, fraction: f, rng: &rng)
        }
        return unionMasks(batch: batch, grid: grid, shape: shape, rng: &rng)
    }

    // MARK: - fixed masked count (V-JEPA)

    private func unionMasks(batch: Int, grid: TokenGrid, shape: (t: Int, h: Int, w: Int),
                            rng: inout RandomGenerator) -> MaskedBatch {
        let (T, H, W, S, N) = (grid.frames, grid.height, grid.width, grid.spatialCount, grid.count)
        var contexts: [[Int]] = [], targets: [[Int]] = []
        for _ in 0..<batch {
            var masked = [Bool](repeating: false, count: N)
            var maskedCount = 0
            for _ in 0...maxAttempts {
                masked = [Bool](repeating: false, count: N)
                maskedCount = 0
                for _ in 0..<blocks {
                    let t0 = rng.int(below: T - shape.t + 1)
                    let top = rng.int(below: H - shape.h + 1), left = rng.int(below: W - shape.w + 1)
                    for t in t0..<(t0 + shape.t) {
                        for r in top..<(top + shape.h) {
                            let base = grid.index(t: t, h: r, w: 0)
                            for c in left..<(left + shape.w) where !masked[base + c] {
                                masked[base + c] = true
                                maskedCount += 1
                            }
                        }
                    }
                }
                if maskedCount < N { break }
            }
            if maskedCount == N {
                // Still all masked: free one spatial tube (or one frame on a 1×1 spatial grid).
                if S >= 2 {
                    let p = rng.int(below: S)
                    for t in 0..<T { masked[t * S + p] = false }
                } else {
                    masked[rng.int(below: T)] = false
                }
            }
            var context: [Int] = [], target: [Int] = []
            context.reserveCapacity(N); target.reserveCapacity(N)
            for i in 0..<N { if masked[i] { target.append(i) } else { context.append(i) } }
            contexts.append(context)
            targets.append(target)
        }
        let keepContext = contexts.map(\.count).min()!, keepTarget = targets.map(\.count).min()!
        for i in 0..<batch {
            contexts[i] = randomSubset(contexts[i], keep: keepContext, rng: &rng)
            targets[i] = randomSubset(targets[i], keep: keepTarget, rng: &rng)
        }
        return MaskedBatch(context: contexts, target: targets)
    }

    // MARK: - exact spatial fraction (peer)

    private func exactSpatialMasks(batch: Int, grid: TokenGrid, shape: (t: Int, h: Int, w: Int), fraction: Double,
                                   rng: inout RandomGenerator) -> MaskedBatch {
        let (T, H, W, S) = (grid.frames, grid.height, grid.width, grid.spatialCount)
        let m = min(max(Int((fraction * Double(S)).rounded()), 1), S - 1)
        var contexts: [[Int]] = [], targets: [[Int]] = []
        for _ in 0..<batch {
            var masked = [Bool](repeating: false, count: S)
            var count = 0
            var placed = 0
            while placed < blocks || (count < m && placed < blocks + 4 * S) {
                let top = rng.int(below: H - shape.h + 1), left = rng.int(below: W - shape.w + 1)
                for r in top..<(top + shape.h) {
                    for c in left..<(left + shape.w) where !masked[r * W + c] {
                        masked[r * W + c] = true
                        count += 1
                    }
                }
                placed += 1
            }
            let inUnion = (0..<S).filter { masked[$0] }
            var spatial: [Int]
            if count >= m {
                spatial = randomSubset(inUnion, keep: m, rng: &rng)
            } else {
                let outside = (0..<S).filter { !masked[$0] }
                spatial = (inUnion + randomSubset(outside, keep: m - count, rng: &rng)).sorted()
            }
            let t0 = rng.int(below: T - shape.t + 1)
            var isTarget = [Bool](repeating: false, count: grid.count)
            for t in t0..<(t0 + shape.t) { for p in spatial { isTarget[t * S + p] = true } }
            var context: [Int] = [], target: [Int] = []
            for i in 0..<grid.count { if isTarget[i] { target.append(i) } else { context.append(i) } }
            contexts.append(context)
            targets.append(target)
        }
        return MaskedBatch(context: contexts, target: targets)
    }
}
