import Tensors

/// Which law an impossible clip breaks. Raw values are stable names for files and reports.
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
/// [frames/3, 2·frames/3). For teleport and vanish the episode's own start state is used when
/// possible; for the wall and floor categories the start is resampled (deterministically, at most
/// `maxAttempts` times) until the possible clip has a matching bounce in the middle third, with
/// the ball approaching at ≥ `minApproachSpeed` px/frame so that the impossible ball visibly leaves.
/// With the default world, clips of ≥ 20 frames find a floor bounce within a few dozen attempts
/// (16-frame clips often have none in the middle third and throw `noSuitableEpisode`).
public struct BallsViolations: Sendable {
    public let world: BallsWorld
    public var maxAttempts: Int
    public var minApproachSpeed: Double
    /// A teleport moves the ball at least this fraction of min(width, height).
    public var minTeleportFraction: Double

    public static let minimumFrames = 6

    public init(world: BallsWorld, maxAttempts: Int = 2000, minApproachSpeed: Double = 0.5,
                minTeleportFraction: Double = 0.35) {
        self.world = world
        self.maxAttempts = maxAttempts
        self.minApproachSpeed = minApproachSpeed
        self.minTeleportFraction = minTeleportFraction
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
            let start = BallsSimulation(config: config, balls: world.initialBalls(using: &startRNG))
            let intervention: BallsWorld.Intervention
            var frame = 0, ball = 0
            switch category {
            case .teleport, .vanish:
                frame = lo + choice.int(below: hi - lo)
                ball = choice.int(below: start.balls.count)
                if category == .vanish {
                    intervention = .vanish(ball: ball, frame: frame)
                } else {
                    var sim = start
                    for _ in 0..<frame { sim.step() }
                    guard let target = teleportTarget(sim.balls, ball: ball, rng: &choice) else { continue }
                    intervention = .teleport(ball: ball, frame: frame, x: target.x, y: target.y)
                }
            case .passThroughWall, .passThroughFloor:
                guard let found = firstBounce(start, frames: hi, from: lo, floor: category == .passThroughFloor) else {
                    continue
                }
                (frame, ball) = found
                intervention = category == .passThroughFloor
                    ? .passFloor(ball: ball, frame: frame) : .passSideWalls(ball: ball, frame: frame)
            }
            let possible = world.record(start, frames: frames)
            let impossible = world.record(start, frames: frames, intervention: intervention)
            return ViolationPair(category: category, possible: possible, impossible: impossible,
                                 violationFrame: frame, ball: ball, attempt: attempt)
        }
        throw ViolationError.noSuitableEpisode(category: category, attempts: max(1, maxAttempts))
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
            let clear = balls.indices.allSatisfy { i in
                guard i != k, balls[i].present else { return true }
                let dx = balls[i].x - x, dy = balls[i].y - y, s = balls[i].radius + r
                return dx * dx + dy * dy >= s * s
            }
            if clear { return (x, y) }
        }
        return nil
    }
}
