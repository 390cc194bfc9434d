import Foundation
import Testing
import Tensors
@testable import Worlds

@Suite struct BallsPhysicsTests {
    /// Several seeds' start states, simulated directly (Double precision).
    func simulations(_ config: BallsConfig = BallsConfig(), seeds: ClosedRange<UInt64> = 0...7) throws -> [BallsSimulation] {
        let world = try BallsWorld(config: config)
        return seeds.map { BallsSimulation(config: config, balls: world.initialState(index: Int($0), seed: $0)) }
    }

    @Test func energyNeverGrows() throws {
        var config = BallsConfig()
        config.minBalls = 2; config.maxBalls = 3
        for restitution in [(0.85, 1.0), (1.0, 1.0), (0.5, 0.7)] {
            config.wallRestitution = restitution.0; config.ballRestitution = restitution.1
            for var sim in try simulations(config) {
                let totalMass = sim.balls.reduce(0) { $0 + $1.mass }
                // Semi-implicit Euler loses g²dt²/2 per substep in flight and wall contacts are
                // energy-consistent, so only rounding error may show.
                let tolerance = 1e-6 * totalMass
                var previous = sim.mechanicalEnergy
                for frame in 1...150 {
                    sim.step()
                    let e = sim.mechanicalEnergy
                    #expect(e <= previous + tolerance, "energy grew from \(previous) to \(e) at frame \(frame)")
                    previous = e
                }
            }
        }
    }

    @Test func energyDecaysWithRestitutionBelowOne() throws {
        for var sim in try simulations(seeds: 0...3) {
            let e0 = sim.mechanicalEnergy
            for _ in 0..<200 { sim.step() }
            #expect(sim.mechanicalEnergy < e0)
        }
    }

    @Test func ballsStayInsideTheBox() throws {
        var config = BallsConfig()
        config.maxBalls = 3
        for var sim in try simulations(config) {
            for _ in 0..<150 {
                sim.step()
                for b in sim.balls {
                    #expect(b.x - b.radius >= -1e-6 && b.x + b.radius <= 64 + 1e-6)
                    #expect(b.y - b.radius >= -1e-6 && b.y + b.radius <= 64 + 1e-6)
                }
            }
        }
    }

    @Test func isolatedCollisionConservesMomentumAndEnergy() throws {
        var config = BallsConfig()
        config.gravity = 0
        config.ballRestitution = 1
        let a = BallState(x: 16, y: 30, vx: 1.5, vy: 0.2, radius: 4)
        let b = BallState(x: 44, y: 32, vx: -1, vy: -0.1, radius: 7)
        var sim = BallsSimulation(config: config, balls: [a, b])
        let p0 = sim.momentum, e0 = sim.mechanicalEnergy
        var collidedAt: Int?
        for frame in 1...14 {
            let before = sim.balls
            sim.step()
            #expect(sim.contacts.allSatisfy { $0.isEmpty }, "no wall may be involved")
            if collidedAt == nil && sim.balls[0].vx != before[0].vx { collidedAt = frame }
        }
        #expect(collidedAt != nil && collidedAt! < 12)
        let p1 = sim.momentum, e1 = sim.mechanicalEnergy
        let scale = (p0.x * p0.x + p0.y * p0.y).squareRoot()
        #expect(abs(p1.x - p0.x) <= 1e-4 * scale && abs(p1.y - p0.y) <= 1e-4 * scale)
        #expect(abs(e1 - e0) <= 1e-4 * e0)
        #expect(sim.balls[0].vx < 0, "the light ball bounces back")
    }

    @Test func wallBounceAppliesRestitution() {
        var config = BallsConfig()
        config.gravity = 0
        config.substeps = 1
        var sim = BallsSimulation(config: config, balls: [BallState(x: 5, y: 30, vx: -2, radius: 4)])
        sim.step()
        #expect(sim.contacts[0] == .left)
        #expect(sim.balls[0].x == 4)
        #expect(abs(sim.balls[0].vx - 1.7) < 1e-12)
    }

    @Test func floorFrictionDampsTangentialVelocity() {
        var config = BallsConfig()
        config.floorFriction = 0.5
        config.substeps = 1
        var sim = BallsSimulation(config: config, balls: [BallState(x: 30, y: 59.9, vx: 1, vy: 1, radius: 4)])
        sim.step()
        #expect(sim.contacts[0] == .floor)
        #expect(sim.balls[0].vx == 0.5)
    }
}

@Suite struct BallsWorldTests {
    @Test func shapesAndNames() throws {
        let world = try BallsWorld()
        #expect(world.name == "balls")
        #expect(world.frameShape == [1, 64, 64])
        #expect(world.actionNames.isEmpty)
        #expect(world.stateNames.count == 18)
        #expect(Array(world.stateNames.prefix(7)) ==
                ["ball0.x", "ball0.y", "ball0.vx", "ball0.vy", "ball0.radius", "ball0.visible", "ball1.x"])
        let ep = world.episode(index: 3, seed: 9, frames: 5)
        #expect(ep.frames.count == 5 * 64 * 64)
        #expect(ep.states.count == 5 * 18)
        #expect(ep.actions.isEmpty)
        let decoded = try JSONDecoder().decode(BallsConfig.self, from: Data(world.configJSON.utf8))
        #expect(decoded == world.config)
        #expect(world.configJSON.hasPrefix("{\"ballRestitution\":1"))
    }

    @Test func startStateFollowsTheSpec() throws {
        let world = try BallsWorld()
        var counts = Set<Int>()
        for index in 0..<60 {
            let balls = world.initialState(index: index, seed: 1)
            counts.insert(balls.count)
            for (i, b) in balls.enumerated() {
                #expect(b.radius >= 4 && b.radius <= 7)
                #expect(b.x >= b.radius && b.x <= 64 - b.radius)
                #expect(b.y >= b.radius && b.y <= 0.55 * 64 - b.radius)
                #expect(b.vx >= -2 && b.vx <= 2 && b.vy >= -1.5 && b.vy <= 1)
                for o in balls[(i + 1)...] {
                    let d = ((o.x - b.x) * (o.x - b.x) + (o.y - b.y) * (o.y - b.y)).squareRoot()
                    #expect(d >= o.radius + b.radius)
                }
            }
        }
        #expect(counts == [1, 2, 3])
    }

    @Test func statesDescribeFramesAndEmptySlotsAreZero() throws {
        let world = try BallsWorld()
        let index = (0..<50).first { world.initialState(index: $0, seed: 2).count == 1 }!
        let ep = world.episode(index: index, seed: 2, frames: 4)
        let start = world.initialState(index: index, seed: 2)[0]
        #expect(ep.states[0] == Float(start.x) && ep.states[1] == Float(start.y))
        #expect(ep.states[4] == Float(start.radius) && ep.states[5] == 1)
        for t in 0..<4 { #expect(ep.states[(t * 18 + 6)..<(t * 18 + 18)].allSatisfy { $0 == 0 }) }
        // The pixel under the ball centre is fully lit.
        for t in 0..<4 {
            let x = Int(ep.states[t * 18]), y = Int(ep.states[t * 18 + 1])
            #expect(ep.frames[t * 4096 + y * 64 + x] == 255)
        }
    }

    @Test func deterministicAndIndependentOfOrder() throws {
        let world = try BallsWorld()
        let a = world.episode(index: 5, seed: 42, frames: 6)
        let b = world.episode(index: 5, seed: 42, frames: 6)
        #expect(a.frames == b.frames && a.states == b.states)
        let other = world.episode(index: 6, seed: 42, frames: 6)
        #expect(other.states != a.states && other.frames != a.frames)
        let otherSeed = world.episode(index: 5, seed: 43, frames: 6)
        #expect(otherSeed.states != a.states)
        for i in 0..<5 { _ = world.episode(index: i, seed: 42, frames: 3) }
        let c = world.episode(index: 5, seed: 42, frames: 6)
        #expect(c.frames == a.frames && c.states == a.states)
        // A shorter clip is a prefix of a longer one.
        let short = world.episode(index: 5, seed: 42, frames: 3)
        #expect(short.frames == Array(a.frames.prefix(3 * 4096)))
        #expect(world.episode(index: 0, seed: 1, frames: 0).frames.isEmpty)
    }

    @Test func sameEpisodesOnAnyThread() throws {
        let world = try BallsWorld()
        let serial = (0..<8).map { world.episode(index: $0, seed: 77, frames: 4) }
        final class Box: @unchecked Sendable { var episodes = [EpisodeData?](repeating: nil, count: 8) }
        let box = Box()
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let e = world.episode(index: 7 - i, seed: 77, frames: 4)
            lock.lock(); box.episodes[7 - i] = e; lock.unlock()
        }
        for i in 0..<8 {
            #expect(box.episodes[i]!.frames == serial[i].frames && box.episodes[i]!.states == serial[i].states)
        }
    }

    @Test func ballsFallWithGravity() throws {
        var config = BallsConfig()
        config.substeps = 1
        var sim = BallsSimulation(config: config, balls: [BallState(x: 30, y: 20, radius: 5)])
        sim.step(); sim.step()
        #expect(abs(sim.balls[0].vy - 0.7) < 1e-12)          // v += g per frame
        #expect(abs(sim.balls[0].y - (20 + 0.35 + 0.7)) < 1e-12) // semi-implicit: x += v after the update
    }

    @Test func rgbFramesColourEachBall() throws {
        var config = BallsConfig()
        config.channels = 3
        let world = try BallsWorld(config: config)
        #expect(world.frameShape == [3, 64, 64])
        let ep = world.episode(index: 1, seed: 1, frames: 2)
        #expect(ep.frames.count == 2 * 3 * 4096)
        let b = world.initialState(index: 1, seed: 1)[0]
        #expect(max(b.color.x, b.color.y, b.color.z) == 1)
        let p = Int(b.y) * 64 + Int(b.x)
        for c in 0..<3 { #expect(ep.frames[c * 4096 + p] == UInt8((b.color[c] * 255).rounded())) }
    }
}

@Suite struct BallsRendererTests {
    @Test func handCheckedPixels() throws {
        let world = try BallsWorld()
        let frame = world.render([BallState(x: 10.5, y: 10.5, radius: 4)])
        func px(_ i: Int, _ j: Int) -> UInt8 { frame[i * 64 + j] }
        #expect(px(10, 10) == 255)                  // centre
        #expect(px(10, 14) == 128)                  // distance 4: 0.5·255 = 127.5, rounded half up
        #expect(px(10, 6) == 128)
        #expect(px(14, 10) == 128)
        #expect(px(10, 15) == 0)                    // distance 4.5
        #expect(px(10, 16) == 0)
        #expect(px(10, 13) == 255)                  // distance 3 ≤ r − 0.5
        let d = (18.0).squareRoot()                 // pixel (13, 13): distance √18 ≈ 4.243
        #expect(px(13, 13) == UInt8(((4.5 - d) * 255).rounded()))
        #expect(px(13, 13) == 66)
        #expect(frame.enumerated().allSatisfy { i, v in
            let dx = Double(i % 64) + 0.5 - 10.5, dy = Double(i / 64) + 0.5 - 10.5
            return (dx * dx + dy * dy < 4.5 * 4.5) || v == 0
        })
    }

    @Test func overlappingDiscsCombineByMax() throws {
        let world = try BallsWorld()
        let a = BallState(x: 20.5, y: 20.5, radius: 5), b = BallState(x: 26.5, y: 20.5, radius: 5)
        let fa = world.render([a]), fb = world.render([b]), both = world.render([a, b])
        #expect(both == zip(fa, fb).map { max($0, $1) })
        #expect(both[20 * 64 + 23] == 255)
        #expect(fa[20 * 64 + 25] == 128 && fb[20 * 64 + 25] == 255 && both[20 * 64 + 25] == 255)
    }

    @Test func renderIntoClearsAndClipsAtTheBorder() throws {
        let world = try BallsWorld()
        var buffer = [UInt8](repeating: 7, count: 4096)
        buffer.withUnsafeMutableBufferPointer {
            world.render([BallState(x: -2, y: 63, radius: 5), BallState(x: 500, y: 20, radius: 5)], into: $0.baseAddress!)
        }
        #expect(buffer[63 * 64] == 255)
        #expect(buffer[0] == 0)
        #expect(buffer.filter { $0 != 0 }.count < 60)
    }
}

@Suite struct BallsConfigTests {
    func expectError(_ field: String, _ change: (inout BallsConfig) -> Void) {
        var config = BallsConfig()
        change(&config)
        do {
            try config.validate()
            Issue.record("expected an error naming \(field)")
        } catch let error as WorldConfigError {
            #expect(error.field == field)
            #expect(error.description.contains(field))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(throws: WorldConfigError.self) { try BallsWorld(config: config) }
    }

    @Test func defaultsAreValid() throws {
        try BallsConfig().validate()
    }

    @Test func badInputsNameTheField() {
        expectError("width") { $0.width = 7 }
        expectError("height") { $0.height = 0 }
        expectError("channels") { $0.channels = 2 }
        expectError("minBalls") { $0.minBalls = 0 }
        expectError("maxBalls") { $0.maxBalls = -1; $0.minBalls = 1 }
        expectError("minBalls") { $0.minBalls = 3; $0.maxBalls = 2 }
        expectError("minRadius") { $0.minRadius = 0 }
        expectError("minRadius") { $0.minRadius = .nan }
        expectError("maxRadius") { $0.maxRadius = 3 }
        expectError("maxRadius") { $0.maxRadius = 32; $0.minRadius = 4 }
        expectError("maxRadius") { $0.maxRadius = 20 }   // fits the box, not the upper 55 %
        expectError("spawnFraction") { $0.spawnFraction = 0 }
        expectError("gravity") { $0.gravity = .nan }
        expectError("gravity") { $0.gravity = .infinity }
        expectError("minVX") { $0.minVX = -.infinity }
        expectError("maxVY") { $0.maxVY = .nan }
        expectError("minVY") { $0.minVY = 2 }
        expectError("wallRestitution") { $0.wallRestitution = 1.1 }
        expectError("ballRestitution") { $0.ballRestitution = -0.1 }
        expectError("floorFriction") { $0.floorFriction = 2 }
        expectError("substeps") { $0.substeps = 0 }
        expectError("placementAttempts") { $0.placementAttempts = 0 }
        expectError("maxBalls") { $0.maxBalls = 40 }     // cannot be placed without overlap
    }

    @Test func crowdedButPossibleConfigsAlwaysPlace() throws {
        var config = BallsConfig()
        config.minBalls = 8; config.maxBalls = 8        // 4 × 2 grid cells of 14 px: exactly full
        config.placementAttempts = 3
        let world = try BallsWorld(config: config)
        for index in 0..<20 {
            let balls = world.initialState(index: index, seed: 0)
            #expect(balls.count == 8)
            for i in balls.indices {
                for j in balls.indices where j > i {
                    let dx = balls[i].x - balls[j].x, dy = balls[i].y - balls[j].y
                    #expect((dx * dx + dy * dy).squareRoot() >= balls[i].radius + balls[j].radius - 1e-9)
                }
            }
        }
    }
}
