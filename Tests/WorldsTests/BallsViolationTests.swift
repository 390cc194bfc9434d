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
        if pair.attempt == 0 && category != .appear {   // an appearing ball is absent from the possible clip
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

    @Test(arguments: 0..<3)
    func appearingBallComesFromNothing(index: Int) throws {
        let world = try BallsWorld()
        let pair = try BallsViolations(world: world).violationPair(index: index, seed: 13, frames: Self.frames, category: .appear)
        let v = pair.violationFrame, o = 6 * pair.ball
        let start = world.initialState(index: index, seed: 13)
        for t in 0..<Self.frames {
            let possible = row(pair.possible, t, world), impossible = row(pair.impossible, t, world)
            #expect(possible[(possible.startIndex + o)..<(possible.startIndex + o + 6)].allSatisfy { $0 == 0 })
            let q = impossible.startIndex + o
            if t < v {
                #expect(impossible[q..<(q + 6)].allSatisfy { $0 == 0 })
            } else {
                #expect(impossible[q + 5] == 1 || t > v)
            }
        }
        if pair.attempt == 0 {   // it appears where and as it would have started
            let at = row(pair.impossible, v, world), q = at.startIndex + o
            #expect(at[q] == Float(start[pair.ball].x) && at[q + 1] == Float(start[pair.ball].y))
            #expect(at[q + 4] == Float(start[pair.ball].radius))
        }
    }

    @Test(arguments: 0..<3)
    func resizedBallKeepsItsNewSize(index: Int) throws {
        let world = try BallsWorld()
        let pair = try BallsViolations(world: world).violationPair(index: index, seed: 17, frames: Self.frames, category: .resize)
        let v = pair.violationFrame, o = 6 * pair.ball
        let r = row(pair.possible, v, world)[row(pair.possible, v, world).startIndex + o + 4]
        for t in v..<Self.frames {
            let impossible = row(pair.impossible, t, world), possible = row(pair.possible, t, world)
            let rNew = impossible[impossible.startIndex + o + 4]
            #expect(abs(rNew - 0.55 * r) < 1e-4 || abs(rNew - 1.7 * r) < 1e-4)
            #expect(possible[possible.startIndex + o + 4] == r)
        }
    }

    @Test(arguments: [ViolationCategory.freeze, .reverse], 0..<3)
    func frozenOrReversedBallLeavesItsFlight(category: ViolationCategory, index: Int) throws {
        let world = try BallsWorld()
        let violations = BallsViolations(world: world)
        let pair = try violations.violationPair(index: index, seed: 19, frames: Self.frames, category: category)
        let v = pair.violationFrame, o = 6 * pair.ball
        func position(_ data: EpisodeData, _ t: Int) -> (Float, Float) {
            let r = row(data, t, world); return (r[r.startIndex + o], r[r.startIndex + o + 1])
        }
        let (x0, y0) = position(pair.possible, v - 1), (px, py) = position(pair.possible, v)
        #expect(hypot(px - x0, py - y0) >= Float(violations.minFlightSpeed) - 0.5)
        if category == .freeze {
            for t in v..<Self.frames {
                let (x, y) = position(pair.impossible, t)
                #expect(x == x0 && y == y0)
            }
        } else {
            let (ix, iy) = position(pair.impossible, v)
            // The impossible ball moves back along the way it came (gravity bends it a little).
            #expect((ix - x0) * (px - x0) + (iy - y0) * (py - y0) < 0)
        }
    }

    @Test(arguments: 0..<3)
    func ghostBallGoesThroughTheOther(index: Int) throws {
        let world = try BallsWorld()
        let pair = try BallsViolations(world: world).violationPair(index: index, seed: 23, frames: Self.frames, category: .passThroughBall)
        let v = pair.violationFrame, o = 6 * pair.ball
        /// Deepest overlap of ball `pair.ball` with another present ball in frame t.
        func overlap(_ data: EpisodeData, _ t: Int) -> Float {
            let r = row(data, t, world), a = r.startIndex + o
            return (0..<world.config.maxBalls).filter { $0 != pair.ball && r[r.startIndex + 6 * $0 + 4] > 0 }.map { k in
                let b = r.startIndex + 6 * k
                return r[a + 4] + r[b + 4] - hypot(r[a] - r[b], r[a + 1] - r[b + 1])
            }.max() ?? -.infinity
        }
        #expect((0..<Self.frames).allSatisfy { overlap(pair.possible, $0) < 0.5 })
        #expect((v..<Self.frames).contains { overlap(pair.impossible, $0) > 1 })
    }

    @Test func shortClipsAreRejected() throws {
        let violations = BallsViolations(world: try BallsWorld())
        #expect(throws: ViolationError.clipTooShort(frames: 4, minimum: BallsViolations.minimumFrames)) {
            try violations.violationPair(index: 0, seed: 0, frames: 4, category: .vanish)
        }
        #expect(ViolationCategory.allCases.map(\.rawValue) == ["teleport", "vanish", "passThroughWall", "passThroughFloor",
                                                              "appear", "resize", "freeze", "reverse", "passThroughBall"])
        #expect(Set(ViolationCategory.allCases.map(\.principle)) == Set(ViolationCategory.Principle.allCases))
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
