import Testing
@testable import Worlds

@Suite struct BallsViolationTests {
    static let frames = 30
    static let cases: [(ViolationCategory, Int)] = ViolationCategory.allCases.flatMap { c in (0..<3).map { (c, $0) } }

    func row(_ data: EpisodeData, _ t: Int, _ world: BallsWorld) -> ArraySlice<Float> {
        data.states[(t * world.stateSize)..<((t + 1) * world.stateSize)]
    }

    @Test(arguments: cases)
    func sharedPrefixThenDifferent(category: ViolationCategory, index: Int) throws {
        let world = try BallsWorld()
        let pair = try BallsViolations(world: world).violationPair(index: index, seed: 7, frames: Self.frames, category: category)
        let v = pair.violationFrame, fs = world.frameSize, ss = world.stateSize
        #expect(v >= Self.frames / 3 && v < 2 * Self.frames / 3)
        #expect(pair.possible.frames.count == Self.frames * fs && pair.impossible.frames.count == Self.frames * fs)
        #expect(pair.possible.frames[..<(v * fs)] == pair.impossible.frames[..<(v * fs)])
        #expect(pair.possible.states[..<(v * ss)] == pair.impossible.states[..<(v * ss)])
        #expect(row(pair.possible, v, world) != row(pair.impossible, v, world))
        #expect(pair.possible.frames[(v * fs)...] != pair.impossible.frames[(v * fs)...])
        if category == .teleport || category == .vanish {
            #expect(pair.attempt == 0)
        }
        if pair.attempt == 0 {
            let episode = world.episode(index: index, seed: 7, frames: Self.frames)
            #expect(episode.frames == pair.possible.frames && episode.states == pair.possible.states)
        }
        // Deterministic.
        let again = try BallsViolations(world: world).violationPair(index: index, seed: 7, frames: Self.frames, category: category)
        #expect(again.impossible.frames == pair.impossible.frames && again.violationFrame == v && again.ball == pair.ball)
    }

    @Test(arguments: 0..<3)
    func teleportJumpsFurtherThanVelocityAllows(index: Int) throws {
        let world = try BallsWorld()
        let pair = try BallsViolations(world: world).violationPair(index: index, seed: 3, frames: Self.frames, category: .teleport)
        let v = pair.violationFrame, o = 6 * pair.ball
        let before = row(pair.impossible, v - 1, world), after = row(pair.impossible, v, world)
        let s = before.startIndex + o, a = after.startIndex + o
        let jump = hypot(after[a] - before[s], after[a + 1] - before[s + 1])
        let speed = hypot(before[s + 2], before[s + 3])
        #expect(jump > speed + Float(world.config.gravity) + 1)
        let possible = row(pair.possible, v, world)
        let p = possible.startIndex + o
        #expect(hypot(possible[p] - before[s], possible[p + 1] - before[s + 1]) <= speed + Float(world.config.gravity) + 1e-3)
        // Only the position jumps: the velocity is the one the possible ball has at that frame.
        #expect(after[a + 2] == possible[p + 2] && after[a + 3] == possible[p + 3])
        #expect(after[a + 4] == possible[p + 4] && after[a + 5] == 1)
    }

    @Test(arguments: 0..<3)
    func vanishedBallLeavesNoPixels(index: Int) throws {
        let world = try BallsWorld()
        let pair = try BallsViolations(world: world).violationPair(index: index, seed: 5, frames: Self.frames, category: .vanish)
        let v = pair.violationFrame, o = 6 * pair.ball
        for t in v..<Self.frames {
            let possible = row(pair.possible, t, world), impossible = row(pair.impossible, t, world)
            let p = possible.startIndex + o
            #expect(possible[p + 5] == 1)
            #expect(impossible[(impossible.startIndex + o)..<(impossible.startIndex + o + 6)].allSatisfy { $0 == 0 })
            let pixel = t * world.frameSize + Int(possible[p + 1]) * 64 + Int(possible[p])
            #expect(pair.possible.frames[pixel] == 255)
            // Later on another ball may roll over that spot; at the violation frame none can.
            if t == v { #expect(pair.impossible.frames[pixel] < 255) }
        }
        // At the violation frame the other balls are where they were: the frame is the possible
        // state rendered without the vanished ball.
        let state = row(pair.possible, v, world)
        var balls: [BallState] = []
        for k in 0..<world.config.maxBalls where k != pair.ball {
            let b = state.startIndex + 6 * k
            if state[b + 4] > 0 {
                balls.append(BallState(x: Double(state[b]), y: Double(state[b + 1]), radius: Double(state[b + 4])))
            }
        }
        let fs = world.frameSize
        let expected = world.render(balls)
        let shown = Array(pair.impossible.frames[(v * fs)..<((v + 1) * fs)])
        // States are stored as Float, so allow a rounding step of difference.
        #expect(zip(expected, shown).allSatisfy { abs(Int($0) - Int($1)) <= 1 })
    }

    @Test(arguments: [ViolationCategory.passThroughWall, .passThroughFloor], 0..<3)
    func passesThroughWhereThePossibleBallBounces(category: ViolationCategory, index: Int) throws {
        let world = try BallsWorld()
        let w = Float(world.config.width), h = Float(world.config.height)
        let pair = try BallsViolations(world: world).violationPair(index: index, seed: 11, frames: Self.frames, category: category)
        let v = pair.violationFrame, o = 6 * pair.ball
        var beyond = false
        for t in 0..<Self.frames {
            let possible = row(pair.possible, t, world), impossible = row(pair.impossible, t, world)
            let p = possible.startIndex + o, q = impossible.startIndex + o
            let r = possible[p + 4]
            // The possible ball always stays inside the box.
            #expect(possible[p] >= r - 1e-3 && possible[p] <= w - r + 1e-3)
            #expect(possible[p + 1] <= h - r + 1e-3)
            let x = impossible[q], y = impossible[q + 1]
            if category == .passThroughWall {
                if x < r - 1 || x > w - r + 1 { beyond = true; #expect(t >= v) }
            } else {
                if y > h - r + 1 { beyond = true; #expect(t >= v) }
            }
        }
        #expect(beyond, "the impossible ball must go more than 1 px beyond the \(category)")
        // At the violation frame the possible ball has just bounced: its normal velocity points inward.
        let possible = row(pair.possible, v, world), p = possible.startIndex + o
        let impossible = row(pair.impossible, v, world), q = impossible.startIndex + o
        if category == .passThroughFloor {
            #expect(possible[p + 3] < 0 && impossible[q + 3] > 0)
        } else {
            #expect(possible[p + 2] * impossible[q + 2] < 0)
        }
    }

    @Test func shortClipsAreRejected() throws {
        let violations = BallsViolations(world: try BallsWorld())
        #expect(throws: ViolationError.clipTooShort(frames: 4, minimum: BallsViolations.minimumFrames)) {
            try violations.violationPair(index: 0, seed: 0, frames: 4, category: .vanish)
        }
        #expect(ViolationCategory.allCases.map(\.rawValue) == ["teleport", "vanish", "passThroughWall", "passThroughFloor"])
    }

    @Test func impossibleSearchFailsWithABoundedError() throws {
        var config = BallsConfig()
        config.gravity = 0; config.minVX = 0; config.maxVX = 0; config.minVY = 0; config.maxVY = 0
        let violations = BallsViolations(world: try BallsWorld(config: config), maxAttempts: 20)
        #expect(throws: ViolationError.noSuitableEpisode(category: .passThroughFloor, attempts: 20)) {
            try violations.violationPair(index: 0, seed: 0, frames: 12, category: .passThroughFloor)
        }
    }
}

private func hypot(_ x: Float, _ y: Float) -> Float { (x * x + y * y).squareRoot() }
