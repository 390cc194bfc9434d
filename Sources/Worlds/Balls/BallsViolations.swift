import Tensors

/// Which law an impossible clip breaks. Raw values are stable names for files and reports.
/// Grouped by the intuitive-physics principles of IntPhys 2 (`principle`).
public enum ViolationCategory: String, CaseIterable, Codable, Sendable {
    /// A ball jumps to a distant free spot (velocity kept), then moves on physically from there.
    case teleport
    /// A ball disappears while still inside the box: not drawn, zero state row (visible = 0),
    /// and no longer simulated (the other balls move on as if it had never been there).
    case vanish
    /// A ball reaching a side wall goes on outward through it and leaves the frame instead of
    /// bouncing (it does not reappear on the other side).
    case passThroughWall
    /// A falling ball goes on through the floor and leaves the frame instead of bouncing.
    case passThroughFloor
    /// A ball that was not there appears from nothing in the upper part of the box and falls on
    /// (the possible clip never has it).
    case appear
    /// A ball changes size in mid-flight (shrinks to 0.55× or grows to 1.7× its radius).
    case resize
    /// A moving ball stops dead in mid-air and hangs there for the rest of the clip.
    case freeze
    /// A ball in free flight reverses its velocity with nothing to bounce off.
    case reverse
    /// A ball goes through another ball instead of colliding with it.
    case passThroughBall

    /// The intuitive-physics principles of IntPhys 2.
    public enum Principle: String, CaseIterable, Codable, Sendable {
        case permanence, immutability, continuity = "spatio_temporal_continuity", solidity
    }

    public var principle: Principle {
        switch self {
        case .vanish, .appear: return .permanence
        case .resize: return .immutability
        case .teleport, .freeze, .reverse: return .continuity
        case .passThroughWall, .passThroughFloor, .passThroughBall: return .solidity
        }
    }
}

/// A matched pair of clips: identical before `violationFrame`, then the possible one continues
/// physically and the impossible one breaks the law of `category` for ball slot `ball`.
public struct ViolationPair: Sendable {
    public var category: ViolationCategory
    public var possible: EpisodeData
    public var impossible: EpisodeData
    /// First frame that differs between the two clips.
    public var violationFrame: Int
    /// The ball slot that breaks the law.
    public var ball: Int
    /// 0 when the clips start from `episode(index:seed:)`'s own start state (then `possible`
    /// equals that episode); k > 0 when the k-th deterministic resample was needed.
    public var attempt: Int
}

/// Why no violation pair could be made.
public enum ViolationError: Error, CustomStringConvertible, Equatable, Sendable {
    case clipTooShort(frames: Int, minimum: Int)
    case noSuitableEpisode(category: ViolationCategory, attempts: Int)

    public var description: String {
        switch self {
        case let .clipTooShort(frames, minimum):
            return "violation clips need at least \(minimum) frames, got \(frames)"
        case let .noSuitableEpisode(category, attempts):
            return "no episode with a visible \(category.rawValue) violation in \(attempts) attempts; use longer clips"
        }
    }
}

/// "Violation of expectation" pairs for intuitive-physics tests on the balls world.
///
/// Everything is a pure function of (seed, index, frames, category). The choices (ball, frame,
/// teleport target) come from a stream derived from the episode seed and the category, never
/// from the episode's own stream. The violation frame lies in the middle third of the clip,
/// [frames/3, 2·frames/3). The episode's own start state is used when it suits the category;
/// otherwise the start is resampled (deterministically, at most `maxAttempts` times) until it
/// does: a bounce on a side wall or the floor in the middle third with the ball approaching at
/// ≥ `minApproachSpeed` px/frame (wall, floor), a visible ball–ball collision there (ball), a
/// ball in free flight at ≥ `minFlightSpeed` (freeze, reverse), a free spot (teleport, appear,
/// resize). With the default world, clips of ≥ 20 frames find one within a few dozen attempts
/// (16-frame clips often have no floor bounce in the middle third and throw `noSuitableEpisode`).
public struct BallsViolations: Sendable {
    public let world: BallsWorld
    public var maxAttempts: Int
    public var minApproachSpeed: Double
    /// A teleport moves the ball at least this fraction of min(width, height).
    public var minTeleportFraction: Double
    /// A ball that freezes or reverses moves at least this fast (px/frame) just before.
    public var minFlightSpeed: Double

    public static let minimumFrames = 6

    public init(world: BallsWorld, maxAttempts: Int = 2000, minApproachSpeed: Double = 0.5,
                minTeleportFraction: Double = 0.35, minFlightSpeed: Double = 1.5) {
        self.world = world
        self.maxAttempts = maxAttempts
        self.minApproachSpeed = minApproachSpeed
        self.minTeleportFraction = minTeleportFraction
        self.minFlightSpeed = minFlightSpeed
    }

    public func violationPair(index: Int, seed: UInt64, frames: Int,
                              category: ViolationCategory) throws -> ViolationPair {
        guard frames >= Self.minimumFrames else {
            throw ViolationError.clipTooShort(frames: frames, minimum: Self.minimumFrames)
        }
        let config = world.config
        let categoryIndex = UInt64(ViolationCategory.allCases.firstIndex(of: category)!)
        var episodeRNG = BallsWorld.episodeRNG(seed: seed, index: index)
        var choice = RandomGenerator(seed: episodeRNG.next() ^ 0x564F_455F_5041_4952 &+ categoryIndex &* 0x1234_5678_9ABC_DEF1)
        episodeRNG = BallsWorld.episodeRNG(seed: seed, index: index)
        let lo = frames / 3, hi = (2 * frames) / 3   // middle third [lo, hi), lo ≥ 2

        for attempt in 0..<max(1, maxAttempts) {
            var startRNG = attempt == 0 ? episodeRNG : choice.split()
            var start = BallsSimulation(config: config, balls: world.initialBalls(using: &startRNG))
            let intervention: BallsWorld.Intervention
            var frame = lo + choice.int(below: hi - lo), ball = choice.int(below: start.balls.count)
            /// The possible clip just before `frame` (after frame - 1 physics steps).
            func before(_ frame: Int) -> BallsSimulation {
                var sim = start
                for _ in 0..<(frame - 1) { sim.step() }
                return sim
            }
            switch category {
            case .vanish:
                intervention = .vanish(ball: ball, frame: frame)
            case .teleport:
                var sim = before(frame)
                sim.step()
                guard let target = teleportTarget(sim.balls, ball: ball, rng: &choice) else { continue }
                intervention = .teleport(ball: ball, frame: frame, x: target.x, y: target.y)
            case .appear:
                start.balls[ball].present = false   // in both clips: the possible one never has it
                var sim = before(frame)
                sim.step()
                guard isClear(start.balls[ball], of: sim.balls, except: ball) else { continue }
                intervention = .appear(ball: ball, frame: frame)
            case .resize:
                var sim = before(frame)
                sim.step()
                let r = sim.balls[ball].radius
                let resized = r >= (config.minRadius + config.maxRadius) / 2 ? 0.55 * r : 1.7 * r
                var moved = sim.balls[ball]
                moved.radius = resized
                moved.x = min(max(moved.x, resized), Double(config.width) - resized)
                moved.y = min(max(moved.y, resized), Double(config.height) - resized)
                guard resized >= 1.5, 2 * resized < Double(min(config.width, config.height)),
                      world.isVisible(sim.balls[ball]), isClear(moved, of: sim.balls, except: ball) else { continue }
                intervention = .resize(ball: ball, frame: frame, radius: resized)
            case .freeze, .reverse:
                guard inFreeFlight(before(frame), ball: ball) else { continue }
                intervention = category == .freeze ? .freeze(ball: ball, frame: frame) : .reverse(ball: ball, frame: frame)
            case .passThroughWall, .passThroughFloor:
                guard let found = firstBounce(start, frames: hi, from: lo, floor: category == .passThroughFloor) else {
                    continue
                }
                (frame, ball) = found
                intervention = category == .passThroughFloor
                    ? .passFloor(ball: ball, frame: frame) : .passSideWalls(ball: ball, frame: frame)
            case .passThroughBall:
                guard let found = firstCollision(start, frames: hi, from: lo) else { continue }
                (frame, ball) = found
                intervention = .passBalls(ball: ball, frame: frame)
            }
            let possible = world.record(start, frames: frames)
            let impossible = world.record(start, frames: frames, intervention: intervention)
            return ViolationPair(category: category, possible: possible, impossible: impossible,
                                 violationFrame: frame, ball: ball, attempt: attempt)
        }
        throw ViolationError.noSuitableEpisode(category: category, attempts: max(1, maxAttempts))
    }

    /// Whether ball `k` of `sim` moves at ≥ `minFlightSpeed` and its next two physics steps touch
    /// neither a wall nor another ball, so that stopping or reversing it has nothing to explain it.
    func inFreeFlight(_ sim: BallsSimulation, ball k: Int) -> Bool {
        let b = sim.balls[k]
        guard b.present, world.isVisible(b), (b.vx * b.vx + b.vy * b.vy).squareRoot() >= minFlightSpeed else { return false }
        var next = sim, alone = sim
        alone.passesBalls[k] = true
        for _ in 0..<2 {
            next.step(); alone.step()
            guard next.contacts[k].isEmpty, next.balls[k] == alone.balls[k] else { return false }
        }
        return true
    }

    /// First frame t in [from, until) whose physics step made a ball collide visibly (≥ ½ px of
    /// difference to the same step with that ball passing through the others); returns (t, ball).
    func firstCollision(_ start: BallsSimulation, frames until: Int, from: Int) -> (Int, Int)? {
        guard start.balls.filter(\.present).count >= 2 else { return nil }
        var sim = start
        for t in 1..<until {
            let before = sim
            sim.step()
            guard t >= from else { continue }
            for k in sim.balls.indices where sim.balls[k].present {
                var ghost = before
                ghost.passesBalls[k] = true
                ghost.step()
                let dx = ghost.balls[k].x - sim.balls[k].x, dy = ghost.balls[k].y - sim.balls[k].y
                if dx * dx + dy * dy >= 0.25 { return (t, k) }
            }
        }
        return nil
    }

    /// Whether `ball` overlaps none of the present `balls` other than slot `k`.
    func isClear(_ ball: BallState, of balls: [BallState], except k: Int) -> Bool {
        balls.indices.allSatisfy { i in
            guard i != k, balls[i].present else { return true }
            let dx = balls[i].x - ball.x, dy = balls[i].y - ball.y, s = balls[i].radius + ball.radius
            return dx * dx + dy * dy >= s * s
        }
    }

    /// First frame t in [from, until) whose physics step made a ball bounce on a side wall (or the
    /// floor) while approaching it at ≥ `minApproachSpeed`; returns (t, ball).
    func firstBounce(_ start: BallsSimulation, frames until: Int, from: Int, floor: Bool) -> (Int, Int)? {
        var sim = start
        for t in 1..<until {
            let before = sim.balls
            sim.step()
            guard t >= from else { continue }
            for k in sim.balls.indices {
                let c = sim.contacts[k]
                if floor {
                    if c.contains(.floor) && before[k].vy >= minApproachSpeed { return (t, k) }
                } else if (c.contains(.left) && before[k].vx <= -minApproachSpeed)
                            || (c.contains(.right) && before[k].vx >= minApproachSpeed) {
                    return (t, k)
                }
            }
        }
        return nil
    }

    /// A spot inside the box, far from the ball's current centre and clear of the other balls.
    func teleportTarget(_ balls: [BallState], ball k: Int, rng: inout RandomGenerator) -> (x: Double, y: Double)? {
        let c = world.config
        let r = balls[k].radius
        let minJump = minTeleportFraction * Double(min(c.width, c.height))
        for _ in 0..<200 {
            let x = BallsWorld.uniform(&rng, r, Double(c.width) - r)
            let y = BallsWorld.uniform(&rng, r, Double(c.height) - r)
            let jx = x - balls[k].x, jy = y - balls[k].y
            guard jx * jx + jy * jy >= minJump * minJump else { continue }
            if isClear(BallState(x: x, y: y, radius: r), of: balls, except: k) { return (x, y) }
        }
        return nil
    }
}
