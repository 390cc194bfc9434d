import Foundation
import Tensors

/// The falling/bouncing balls world: 1–3 anti-aliased discs under gravity in a closed box.
///
/// Episode `index` of `seed` draws everything from `BallsWorld.episodeRNG(seed:index:)`
/// = `RandomGenerator(seed: seed &* 0x9E3779B97F4A7C15 &+ UInt64(bitPattern: Int64(index)))`,
/// so any episode can be generated alone, in any order, on any thread.
public struct BallsWorld: WorldGenerator {
    public let config: BallsConfig
    public let name = "balls"
    public let stateNames: [String]
    public let actionNames: [String] = []
    public let configJSON: String

    /// Validates the configuration (throws `WorldConfigError`).
    public init(config: BallsConfig = BallsConfig()) throws {
        try config.validate()
        self.config = config
        stateNames = (0..<config.maxBalls).flatMap { k in BallsConfig.stateNamesPerBall.map { "ball\(k).\($0)" } }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        configJSON = (try? encoder.encode(config)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }

    public var frameShape: [Int] { [config.channels, config.height, config.width] }
    /// Bytes of one frame, C·H·W.
    public var frameSize: Int { config.channels * config.height * config.width }
    /// Ground-truth entries per frame, 6·maxBalls.
    public var stateSize: Int { stateNames.count }

    /// The random stream of episode `index` of `seed`.
    public static func episodeRNG(seed: UInt64, index: Int) -> RandomGenerator {
        RandomGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(bitPattern: Int64(index)))
    }

    public func episode(index: Int, seed: UInt64, frames: Int) -> EpisodeData {
        var rng = Self.episodeRNG(seed: seed, index: index)
        return record(BallsSimulation(config: config, balls: initialBalls(using: &rng)), frames: frames)
    }

    /// The balls of frame 0 of episode `index` of `seed`.
    public func initialState(index: Int, seed: UInt64) -> [BallState] {
        var rng = Self.episodeRNG(seed: seed, index: index)
        return initialBalls(using: &rng)
    }

    /// Draws a start state: count, then per ball radius, position (resampled until it overlaps no
    /// earlier ball, at most `placementAttempts` times, else every ball goes to a random cell of a
    /// grid of 2·maxRadius cells, which `validate()` guarantees is large enough), velocity, colour
    /// (colour only for 3 channels).
    public func initialBalls(using rng: inout RandomGenerator) -> [BallState] {
        let c = config
        let count = c.minBalls + rng.int(below: c.maxBalls - c.minBalls + 1)
        var balls: [BallState] = []
        balls.reserveCapacity(count)
        var placed = true
        for _ in 0..<count {
            let r = Self.uniform(&rng, c.minRadius, c.maxRadius)
            var x = 0.0, y = 0.0, ok = false
            if placed {
                for _ in 0..<c.placementAttempts {
                    x = Self.uniform(&rng, r, Double(c.width) - r)
                    y = Self.uniform(&rng, r, c.spawnHeight - r)
                    if !balls.contains(where: { b in
                        let dx = b.x - x, dy = b.y - y, s = b.radius + r
                        return dx * dx + dy * dy < s * s
                    }) { ok = true; break }
                }
            }
            if !ok { placed = false }
            let vx = Self.uniform(&rng, c.minVX, c.maxVX)
            let vy = Self.uniform(&rng, c.minVY, c.maxVY)
            var color = SIMD3<Float>(1, 1, 1)
            if c.channels == 3 {
                color = SIMD3(rng.uniform(0.2, 1), rng.uniform(0.2, 1), rng.uniform(0.2, 1))
                color /= max(color.x, max(color.y, color.z))
            }
            balls.append(BallState(x: x, y: y, vx: vx, vy: vy, radius: r, color: color))
        }
        if !placed {
            // Grid fallback: cells of side 2·maxRadius hold any ball without overlap.
            let cell = 2 * c.maxRadius
            let cols = Int((Double(c.width) / cell).rounded(.down))
            var cells = Array(0..<c.gridCells)
            rng.shuffle(&cells)
            for k in balls.indices {
                balls[k].x = Double(cells[k] % cols) * cell + c.maxRadius
                balls[k].y = Double(cells[k] / cols) * cell + c.maxRadius
            }
        }
        return balls
    }

    @inline(__always) static func uniform(_ rng: inout RandomGenerator, _ lo: Double, _ hi: Double) -> Double {
        lo + (hi - lo) * Double(rng.uniform())
    }

    // MARK: Recording

    /// A change to the laws of physics applied to one ball at one frame (for violation clips).
    enum Intervention {
        case none
        /// After the physics of `frame`, the ball jumps to (x, y), keeping its velocity.
        case teleport(ball: Int, frame: Int, x: Double, y: Double)
        /// From `frame` on the ball is gone (not drawn, not simulated, zero state row).
        case vanish(ball: Int, frame: Int)
        /// From the physics producing `frame` on, the ball ignores the side walls.
        case passSideWalls(ball: Int, frame: Int)
        /// From the physics producing `frame` on, the ball ignores the floor.
        case passFloor(ball: Int, frame: Int)
        /// From the physics producing `frame` on, the ball ignores the other balls.
        case passBalls(ball: Int, frame: Int)
        /// The (absent) ball appears at `frame`, where it was at the start, and moves on from there.
        case appear(ball: Int, frame: Int)
        /// After the physics of `frame`, the ball's radius becomes `radius` (centre kept, moved
        /// back inside the box if needed).
        case resize(ball: Int, frame: Int, radius: Double)
        /// From the physics producing `frame` on, the ball hangs where it is.
        case freeze(ball: Int, frame: Int)
        /// Just before the physics producing `frame`, the ball's velocity is reversed.
        case reverse(ball: Int, frame: Int)
    }

    /// Runs `sim` for `frames` frames (frame 0 = its current state), rendering and recording each.
    func record(_ start: BallsSimulation, frames: Int, intervention: Intervention = .none) -> EpisodeData {
        precondition(frames >= 0, "BallsWorld: frames must be ≥ 0, got \(frames)")
        var sim = start
        let fs = frameSize, ss = stateSize
        var pixels = [UInt8](repeating: 0, count: frames * fs)
        var states = [Float](repeating: 0, count: frames * ss)
        pixels.withUnsafeMutableBufferPointer { pp in
            states.withUnsafeMutableBufferPointer { sp in
                for t in 0..<frames {
                    if t > 0 {
                        switch intervention {
                        case let .passSideWalls(k, f) where f == t: sim.passesSideWalls[k] = true
                        case let .passFloor(k, f) where f == t: sim.passesFloor[k] = true
                        case let .passBalls(k, f) where f == t: sim.passesBalls[k] = true
                        case let .freeze(k, f) where f == t: sim.frozen[k] = true
                        case let .reverse(k, f) where f == t: sim.balls[k].vx.negate(); sim.balls[k].vy.negate()
                        default: break
                        }
                        sim.step()
                    }
                    switch intervention {
                    case let .teleport(k, f, x, y) where f == t: sim.balls[k].x = x; sim.balls[k].y = y
                    case let .vanish(k, f) where f == t: sim.balls[k].present = false
                    case let .appear(k, f) where f == t: sim.balls[k].present = true
                    case let .resize(k, f, r) where f == t:
                        sim.balls[k].radius = r
                        sim.balls[k].x = min(max(sim.balls[k].x, r), Double(config.width) - r)
                        sim.balls[k].y = min(max(sim.balls[k].y, r), Double(config.height) - r)
                    default: break
                    }
                    draw(sim.balls, into: pp.baseAddress! + t * fs)
                    writeState(sim.balls, into: sp.baseAddress! + t * ss)
                }
            }
        }
        return EpisodeData(frames: pixels, states: states, actions: [])
    }

    /// Whether any part of the ball's disc (radius + ½ px of anti-aliasing) overlaps the frame.
    public func isVisible(_ b: BallState) -> Bool {
        let reach = b.radius + 0.5
        return b.present && b.x + reach > 0 && b.x - reach < Double(config.width)
            && b.y + reach > 0 && b.y - reach < Double(config.height)
    }

    /// Writes the ground-truth row (x, y, vx, vy, radius, visible per slot; zeros for empty slots and
    /// vanished balls) into `row`, which must hold `stateSize` floats.
    public func writeState(_ balls: [BallState], into row: UnsafeMutablePointer<Float>) {
        row.update(repeating: 0, count: stateSize)
        for (k, b) in balls.prefix(config.maxBalls).enumerated() where b.present {
            let o = row + 6 * k
            o[0] = Float(b.x); o[1] = Float(b.y); o[2] = Float(b.vx); o[3] = Float(b.vy)
            o[4] = Float(b.radius); o[5] = isVisible(b) ? 1 : 0
        }
    }

    // MARK: Rendering

    /// Renders arbitrary ball states (e.g. goal images, violations) into a new [C, H, W] frame.
    public func render(_ balls: [BallState]) -> [UInt8] {
        var frame = [UInt8](repeating: 0, count: frameSize)
        frame.withUnsafeMutableBufferPointer { draw(balls, into: $0.baseAddress!) }
        return frame
    }

    /// Renders into `frame` ([C, H, W], `frameSize` bytes), clearing it first.
    public func render(_ balls: [BallState], into frame: UnsafeMutablePointer<UInt8>) {
        frame.update(repeating: 0, count: frameSize)
        draw(balls, into: frame)
    }

    /// Draws present balls over what is in `frame` (max combination): intensity
    /// clamp(r + ½ − distance(pixel centre, ball centre), 0, 1), pixel (i, j) centred at
    /// (j + ½, i + ½), times colour, times 255, rounded half up (0.5 → 128). Only each disc's
    /// bounding box is visited.
    public func draw(_ balls: [BallState], into frame: UnsafeMutablePointer<UInt8>) {
        let w = config.width, h = config.height, plane = w * h
        let rgb = config.channels == 3
        for b in balls where b.present {
            let r = b.radius, cx = b.x, cy = b.y
            guard r > 0, cx.isFinite, cy.isFinite, r.isFinite else { continue }
            let reach = r + 0.5
            // Pixel j is touched when |j + ½ − cx| < reach.
            guard cx + reach > 0, cx - reach < Double(w), cy + reach > 0, cy - reach < Double(h) else { continue }
            let j0 = max(0, Int((cx - reach - 0.5).rounded(.up)))
            let j1 = min(w - 1, Int((cx + reach - 0.5).rounded(.down)))
            let i0 = max(0, Int((cy - reach - 0.5).rounded(.up)))
            let i1 = min(h - 1, Int((cy + reach - 0.5).rounded(.down)))
            guard j0 <= j1, i0 <= i1 else { continue }
            let outer2 = reach * reach
            let inner = r - 0.5, inner2 = inner > 0 ? inner * inner : -1
            let scale = SIMD3<Double>(Double(b.color.x), Double(b.color.y), Double(b.color.z)) * 255
            for i in i0...i1 {
                let dy = Double(i) + 0.5 - cy
                let dy2 = dy * dy
                let rowStart = frame + i * w
                for j in j0...j1 {
                    let dx = Double(j) + 0.5 - cx
                    let d2 = dx * dx + dy2
                    if d2 >= outer2 { continue }
                    let a = d2 <= inner2 ? 1 : min(1, reach - d2.squareRoot())
                    if rgb {
                        for c in 0..<3 {
                            let v = UInt8(a * scale[c] + 0.5)
                            let p = rowStart + c * plane + j
                            if v > p.pointee { p.pointee = v }
                        }
                    } else {
                        let v = UInt8(a * 255 + 0.5)
                        let p = rowStart + j
                        if v > p.pointee { p.pointee = v }
                    }
                }
            }
        }
    }
}
