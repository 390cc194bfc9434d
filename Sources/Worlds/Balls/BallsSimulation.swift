/// One ball: centre, velocity (px, px/frame; y down), radius, colour, and whether it exists.
public struct BallState: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var vx: Double
    public var vy: Double
    public var radius: Double
    /// Colour in [0, 1] per RGB channel; grey frames use only the intensity (colour is ignored).
    public var color: SIMD3<Float>
    /// False once the ball has vanished: it is neither simulated nor drawn, and its state row is zero.
    public var present: Bool

    public init(x: Double, y: Double, vx: Double = 0, vy: Double = 0, radius: Double,
                color: SIMD3<Float> = SIMD3(1, 1, 1), present: Bool = true) {
        self.x = x; self.y = y; self.vx = vx; self.vy = vy
        self.radius = radius; self.color = color; self.present = present
    }

    /// Mass used for collisions and energy: proportional to the disc area, r².
    public var mass: Double { radius * radius }
}

/// Walls a ball touched during the last `BallsSimulation.step()`.
public struct WallContact: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let left = WallContact(rawValue: 1)
    public static let right = WallContact(rawValue: 2)
    public static let ceiling = WallContact(rawValue: 4)
    public static let floor = WallContact(rawValue: 8)
}

/// Deterministic 2-D physics of the balls world: gravity, walls with restitution, elastic
/// ball–ball collisions (mass ∝ r²), integrated with `substeps` semi-implicit Euler steps per frame.
public struct BallsSimulation: Sendable {
    public let config: BallsConfig
    /// Ball slots; the slot order is the order of the ground-truth state rows.
    public var balls: [BallState]
    /// Per ball: walls touched during the last `step()`.
    public private(set) var contacts: [WallContact]
    /// Per ball: ignores the left and right walls (for "pass through wall" violations).
    public var passesSideWalls: [Bool]
    /// Per ball: ignores the floor (for "pass through floor" violations).
    public var passesFloor: [Bool]
    /// Per ball: ignores the other balls (for "pass through a ball" violations).
    public var passesBalls: [Bool]
    /// Per ball: hangs where it is, unmoved by gravity, as an immovable obstacle ("freeze").
    public var frozen: [Bool]

    public init(config: BallsConfig, balls: [BallState]) {
        self.config = config
        self.balls = balls
        contacts = Array(repeating: [], count: balls.count)
        passesSideWalls = Array(repeating: false, count: balls.count)
        passesFloor = Array(repeating: false, count: balls.count)
        passesBalls = Array(repeating: false, count: balls.count)
        frozen = Array(repeating: false, count: balls.count)
    }

    /// Advances one frame: `substeps` × (gravity and motion, ball–ball contacts, walls).
    public mutating func step() {
        let n = balls.count
        for k in 0..<n { contacts[k] = [] }
        let dt = 1 / Double(config.substeps)
        let gdt = config.gravity * dt
        for _ in 0..<config.substeps {
            for k in 0..<n where balls[k].present {
                if frozen[k] { balls[k].vx = 0; balls[k].vy = 0; continue }
                balls[k].vy += gdt
                balls[k].x += balls[k].vx * dt
                balls[k].y += balls[k].vy * dt
            }
            if n > 1 {
                for i in 0..<(n - 1) where balls[i].present {
                    for j in (i + 1)..<n where balls[j].present && !(passesBalls[i] || passesBalls[j]) { collide(i, j) }
                }
            }
            for k in 0..<n where balls[k].present && !frozen[k] { walls(k) }
        }
    }

    /// Separates an overlapping pair in proportion to inverse mass and, if approaching,
    /// exchanges an impulse along the contact normal.
    @inline(__always) private mutating func collide(_ i: Int, _ j: Int) {
        var a = balls[i], b = balls[j]
        let dx = b.x - a.x, dy = b.y - a.y
        let reach = a.radius + b.radius
        let d2 = dx * dx + dy * dy
        guard d2 < reach * reach else { return }
        let dist = d2.squareRoot()
        let overlap = reach - dist
        // Coincident centres: any normal will do.
        let nx = dist < 1e-12 ? 1 : dx / dist, ny = dist < 1e-12 ? 0 : dy / dist
        // A frozen ball does not move: infinite mass (both frozen: neither moves).
        let wa = frozen[i] ? 0 : 1 / a.mass, wb = frozen[j] ? 0 : 1 / b.mass, wsum = wa + wb
        guard wsum > 0 else { return }
        a.x -= nx * overlap * wa / wsum; a.y -= ny * overlap * wa / wsum
        b.x += nx * overlap * wb / wsum; b.y += ny * overlap * wb / wsum
        let vn = (b.vx - a.vx) * nx + (b.vy - a.vy) * ny
        if vn < 0 {
            let impulse = -(1 + config.ballRestitution) * vn / wsum
            a.vx -= impulse * wa * nx; a.vy -= impulse * wa * ny
            b.vx += impulse * wb * nx; b.vy += impulse * wb * ny
        }
        balls[i] = a; balls[j] = b
    }

    /// Puts ball k back inside the box and reflects (× restitution) a velocity pointing outward.
    ///
    /// Moving the ball back by the penetration depth d changes its potential energy when gravity
    /// acts along the wall normal (floor and ceiling), so the normal speed is first set to the
    /// speed it has at the wall by energy, √(max(0, v² ∓ 2·g·d)), then reflected and multiplied
    /// by the restitution. Without this, fast bounces would gain up to m·g·|v|·dt of energy.
    @inline(__always) private mutating func walls(_ k: Int) {
        var b = balls[k]
        let r = b.radius, e = config.wallRestitution, g = config.gravity
        let w = Double(config.width), h = Double(config.height)
        var touched: WallContact = []
        if !passesSideWalls[k] {
            if b.x < r {
                b.x = r; if b.vx < 0 { b.vx = -b.vx * e }; touched.insert(.left)
            } else if b.x > w - r {
                b.x = w - r; if b.vx > 0 { b.vx = -b.vx * e }; touched.insert(.right)
            }
        }
        if b.y < r {
            let d = r - b.y
            b.y = r
            let speed = max(0, b.vy * b.vy + 2 * g * d).squareRoot()
            b.vy = (b.vy < 0 ? e : 1) * speed
            touched.insert(.ceiling)
        } else if !passesFloor[k] && b.y > h - r {
            let d = b.y - (h - r)
            b.y = h - r
            let speed = max(0, b.vy * b.vy - 2 * g * d).squareRoot()
            b.vy = -(b.vy > 0 ? e : 1) * speed
            b.vx *= 1 - config.floorFriction
            touched.insert(.floor)
        }
        if !touched.isEmpty { contacts[k].formUnion(touched) }
        balls[k] = b
    }

    /// Kinetic plus gravitational potential energy, Σ r²·(|v|²/2 + g·(height − y)).
    public var mechanicalEnergy: Double {
        var e = 0.0
        for b in balls where b.present {
            e += b.mass * (0.5 * (b.vx * b.vx + b.vy * b.vy) + config.gravity * (Double(config.height) - b.y))
        }
        return e
    }

    /// Total momentum Σ r²·v.
    public var momentum: SIMD2<Double> {
        var p = SIMD2<Double>(0, 0)
        for b in balls where b.present { p += b.mass * SIMD2(b.vx, b.vy) }
        return p
    }
}
