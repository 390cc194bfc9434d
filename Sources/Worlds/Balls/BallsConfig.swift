import Foundation

/// Every number of the balls world. Lengths in pixels, times in frames, image y pointing down.
public struct BallsConfig: Codable, Sendable, Equatable {
    /// Frame width and height in pixels (≥ 8).
    public var width: Int = 64
    public var height: Int = 64
    /// 1 (grey, white discs) or 3 (RGB, one random bright colour per ball).
    public var channels: Int = 1
    /// Number of balls per episode, uniform in minBalls...maxBalls.
    public var minBalls: Int = 1
    public var maxBalls: Int = 3
    /// Radius uniform in [minRadius, maxRadius).
    public var minRadius: Double = 4
    public var maxRadius: Double = 7
    /// Balls start fully inside the top `spawnFraction` of the box.
    public var spawnFraction: Double = 0.55
    /// Initial velocity ranges, px/frame.
    public var minVX: Double = -2
    public var maxVX: Double = 2
    public var minVY: Double = -1.5
    public var maxVY: Double = 1
    /// Downward (+y) acceleration, px/frame².
    public var gravity: Double = 0.35
    /// Semi-implicit Euler substeps per frame.
    public var substeps: Int = 4
    /// Restitution on the four walls, in [0, 1].
    public var wallRestitution: Double = 0.85
    /// Restitution of ball–ball collisions, in [0, 1].
    public var ballRestitution: Double = 1
    /// Fraction of the tangential velocity removed per substep of floor contact, in [0, 1].
    public var floorFriction: Double = 0
    /// Random placement tries per ball before falling back to a grid placement (≥ 1).
    public var placementAttempts: Int = 1000

    public init() {}

    /// Throws a `WorldConfigError` naming the field for any configuration that cannot be simulated.
    public func validate() throws {
        func fail(_ field: String, _ value: Any, _ allowed: String) -> WorldConfigError {
            WorldConfigError(field: field, value: "\(value)", allowed: allowed)
        }
        if width < 8 { throw fail("width", width, "≥ 8") }
        if height < 8 { throw fail("height", height, "≥ 8") }
        if width > 16384 { throw fail("width", width, "≤ 16384") }
        if height > 16384 { throw fail("height", height, "≤ 16384") }
        if channels != 1 && channels != 3 { throw fail("channels", channels, "1 or 3") }
        if minBalls < 1 { throw fail("minBalls", minBalls, "≥ 1") }
        if maxBalls < 1 { throw fail("maxBalls", maxBalls, "≥ 1") }
        if minBalls > maxBalls { throw fail("minBalls", minBalls, "1...maxBalls (maxBalls = \(maxBalls))") }
        if !(minRadius.isFinite && minRadius > 0) { throw fail("minRadius", minRadius, "finite and > 0") }
        if !(maxRadius.isFinite && maxRadius >= minRadius) {
            throw fail("maxRadius", maxRadius, "finite and ≥ minRadius (\(minRadius))")
        }
        if !(2 * maxRadius < Double(min(width, height))) {
            throw fail("maxRadius", maxRadius, "2·maxRadius < min(width, height) = \(min(width, height))")
        }
        if !(spawnFraction.isFinite && spawnFraction > 0 && spawnFraction <= 1) {
            throw fail("spawnFraction", spawnFraction, "(0, 1]")
        }
        if !(2 * maxRadius <= spawnFraction * Double(height)) {
            throw fail("maxRadius", maxRadius,
                       "2·maxRadius ≤ spawnFraction·height = \(spawnFraction * Double(height)) (the start region must fit the ball)")
        }
        for (name, lo, hi) in [("minVX", minVX, maxVX), ("minVY", minVY, maxVY)] {
            if !lo.isFinite { throw fail(name, lo, "finite") }
            if !hi.isFinite { throw fail("max" + name.dropFirst(3), hi, "finite") }
            if lo > hi { throw fail(name, lo, "≤ max" + name.dropFirst(3) + " (\(hi))") }
        }
        if !gravity.isFinite { throw fail("gravity", gravity, "finite") }
        if substeps < 1 { throw fail("substeps", substeps, "≥ 1") }
        if substeps > 1000 { throw fail("substeps", substeps, "≤ 1000") }
        if !(wallRestitution >= 0 && wallRestitution <= 1) { throw fail("wallRestitution", wallRestitution, "[0, 1]") }
        if !(ballRestitution >= 0 && ballRestitution <= 1) { throw fail("ballRestitution", ballRestitution, "[0, 1]") }
        if !(floorFriction >= 0 && floorFriction <= 1) { throw fail("floorFriction", floorFriction, "[0, 1]") }
        if placementAttempts < 1 { throw fail("placementAttempts", placementAttempts, "≥ 1") }
        if gridCells < maxBalls {
            throw fail("maxBalls", maxBalls,
                       "≤ \(gridCells): more balls of radius \(maxRadius) cannot be placed without overlap in the \(width)×\(spawnFraction * Double(height)) start region")
        }
    }

    /// Height of the start region in pixels.
    var spawnHeight: Double { spawnFraction * Double(height) }

    /// Cells of side 2·maxRadius that fit in the start region: a placement that always succeeds.
    var gridCells: Int {
        let cell = 2 * maxRadius
        guard cell > 0, cell.isFinite else { return 0 }
        let cols = Int(min(Double(width) / cell, 1e6).rounded(.down))
        let rows = Int(min(spawnHeight / cell, 1e6).rounded(.down))
        return cols * rows
    }

    /// Number of ground-truth entries per ball slot.
    public static let stateNamesPerBall = ["x", "y", "vx", "vy", "radius", "visible"]
}
