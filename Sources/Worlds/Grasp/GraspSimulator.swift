import Tensors

/// Closed-loop simulator of the grasp world: `state` is a plain value (copy it to snapshot or reset).
///
/// ## One step (`step(_:)`), in order
/// 1. **Action** `(dx, dy, grip)`: NaN → 0, each clipped to [−1, 1]; the gripper wants to move by
///    `(dx, dy)·maxSpeed` and change its opening by `−grip·gripRate` (grip > 0 closes).
/// 2. **Gripper motion.** The palm centre x is clamped to `[gripperXMin, gripperXMax]` (the fully open
///    gripper stays in the box); y to `[gripperYMin, gripperYMax]` (palm in the box, fingertips not below
///    the floor), and while holding an object also so that the held object's bottom stays above the floor.
///    Moving down, the gripper is solid from above: a fingertip (over the finger's x span) or the palm's
///    underside (over the gap between the fingers) that starts at or above the top of a free object it
///    overlaps in x stops on that top (objects count as their bounding squares). Sideways motion does not
///    push objects.
/// 3. **Held object** moves rigidly by the gripper's actual displacement, its velocity = that displacement.
/// 4. **Fingers.** Closing, the fingers (symmetric about the palm centre) cannot pass through an object
///    that lies between them (its x extent inside the inner edges ±0.5 px) and overlaps them vertically:
///    the opening stops at the object's width `2·size`, and a finger that reaches the object first pushes
///    it sideways, so a grasped object ends up centred under the palm. Opening is clamped to
///    `[minOpening, maxOpening]`.
/// 5. **Holding rule.** An object is held after the step iff (a) its x extent lies between the fingers'
///    inner edges (±0.5 px), (b) the fingers (from the palm's underside to the fingertips) overlap its
///    y extent by at least `minGraspOverlap` px, and (c) `opening ≤ 2·size + gripTolerance` (both fingers
///    touch it). At most one object is held (the previously held one first, then the lowest index).
///    An object that stops being held is released with the gripper's last displacement as its velocity.
/// 6. **Free objects** (not held): `vy += gravity`, position += velocity; landing on the floor sets
///    `y = floorY − size`, `vy = 0` (no bounce); on the floor `vx *= floorFriction` (zeroed below
///    0.05 px/frame); the box walls stop them. Objects do not collide with each other.
///
/// The simulator does not validate its configuration; call `config.validate()` (or build a `GraspWorld`)
/// first.
public struct GraspSimulator: Sendable {
    public let config: GraspConfig
    public var state: GraspState

    /// A simulator at a random initial state drawn from `seed` (see `randomState`).
    public init(config: GraspConfig = GraspConfig(), seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        self.init(config: config, state: Self.randomState(config: config, rng: &rng))
    }

    public init(config: GraspConfig = GraspConfig(), state: GraspState) {
        self.config = config
        self.state = state
    }

    /// `objectCount` objects resting on the floor, at least `objectGap` apart, at x in the gripper's
    /// reachable range; the gripper at a random x, at a random height above the tallest possible object,
    /// with a random opening.
    public static func randomState(config c: GraspConfig, rng: inout RandomGenerator) -> GraspState {
        var objects: [GraspObject] = []
        for _ in 0..<c.objectCount {
            let kind: GraspObjectKind = rng.uniform() < c.ballProbability ? .ball : .block
            let size = rng.uniform(c.minObjectSize, c.maxObjectSize)
            objects.append(GraspObject(kind: kind, x: 0, y: c.floorY - size, size: size))
        }
        placeApart(&objects, config: c, rng: &rng)
        let hoverMax = c.floorY - 2 * c.maxObjectSize - 2 - c.reach
        let gy = rng.uniform(c.gripperYMin, max(c.gripperYMin, hoverMax))
        let gx = rng.uniform(c.gripperXMin, c.gripperXMax)
        let opening = rng.uniform(c.minOpening, c.maxOpening)
        return GraspState(gripperX: gx, gripperY: gy, opening: opening, objects: objects)
    }

    /// Rejection sampling of x positions (up to 200 rounds), then an evenly spaced fallback.
    private static func placeApart(_ objects: inout [GraspObject], config c: GraspConfig, rng: inout RandomGenerator) {
        let lo = c.gripperXMin, hi = c.gripperXMax
        for _ in 0..<200 {
            var ok = true
            for i in objects.indices {
                objects[i].x = rng.uniform(lo, hi)
                for j in 0..<i where abs(objects[i].x - objects[j].x) < objects[i].size + objects[j].size + c.objectGap {
                    ok = false
                }
                if !ok { break }
            }
            if ok { return }
        }
        let n = objects.count
        for i in objects.indices {
            objects[i].x = n == 1 ? (lo + hi) / 2 : lo + (hi - lo) * Float(i) / Float(n - 1)
        }
    }

    /// Advances one frame under `action` = (dx, dy, grip); missing entries count as 0.
    public mutating func step(_ action: [Float]) {
        Self.step(&state, action: action, config: config)
    }

    /// Renders the current state (see `GraspRenderer`).
    public func render(into frame: inout [UInt8]) {
        GraspRenderer(config: config).render(state: state, into: &frame)
    }

    // MARK: physics

    @inline(__always) static func clip(_ v: Float) -> Float { v.isNaN ? 0 : min(1, max(-1, v)) }

    /// Vertical overlap between the fingers (palm underside to fingertips) at palm height `gy` and `o`.
    @inline(__always) static func fingerOverlap(_ o: GraspObject, gy: Float, config c: GraspConfig) -> Float {
        min(gy + c.reach, o.bottom) - max(gy + c.palmHalf, o.top)
    }

    /// Whether `o` lies horizontally between the fingers' inner edges (±0.5 px).
    @inline(__always) static func between(_ o: GraspObject, gx: Float, opening: Float) -> Bool {
        o.left >= gx - opening / 2 - 0.5 && o.right <= gx + opening / 2 + 0.5
    }

    public static func step(_ s: inout GraspState, action: [Float], config c: GraspConfig) {
        let ax = clip(action.count > 0 ? action[0] : 0)
        let ay = clip(action.count > 1 ? action[1] : 0)
        let ag = clip(action.count > 2 ? action[2] : 0)
        let gx0 = s.gripperX, gy0 = s.gripperY, op0 = s.opening
        var heldIndex = s.objects.firstIndex(where: \.held)

        // 2. gripper motion
        let nx = min(c.gripperXMax, max(c.gripperXMin, gx0 + ax * c.maxSpeed))
        var yMax = c.gripperYMax
        if let h = heldIndex { yMax = min(yMax, gy0 + (c.floorY - s.objects[h].bottom)) }
        var ny = gy0 + ay * c.maxSpeed
        if ny > gy0 {
            let half = op0 / 2
            for (j, o) in s.objects.enumerated() where j != heldIndex {
                // A part spans [x0, x1] and its underside is `b` below the palm centre.
                func stop(_ x0: Float, _ x1: Float, _ b: Float) {
                    if min(x1, o.right) - max(x0, o.left) > 0.01 && gy0 + b <= o.top + 0.01 { ny = min(ny, o.top - b) }
                }
                stop(nx - half - c.fingerWidth, nx - half, c.reach)   // left finger
                stop(nx + half, nx + half + c.fingerWidth, c.reach)   // right finger
                stop(nx - half, nx + half, c.palmHalf)                // palm between the fingers
            }
            ny = max(ny, gy0)
        }
        ny = min(yMax, max(c.gripperYMin, ny))
        let ddx = nx - gx0, ddy = ny - gy0
        s.gripperX = nx; s.gripperY = ny

        // 3. held object follows
        if let h = heldIndex {
            s.objects[h].x += ddx; s.objects[h].y += ddy
            s.objects[h].vx = ddx; s.objects[h].vy = ddy
        }

        // 4. fingers
        var op = min(c.maxOpening, max(c.minOpening, op0 - ag * c.gripRate))
        if op < op0 {
            var blocking: [Int] = []
            for (j, o) in s.objects.enumerated()
            where fingerOverlap(o, gy: ny, config: c) > 0 && between(o, gx: nx, opening: op0) {
                blocking.append(j)
                op = max(op, min(op0, 2 * o.size))
            }
            for j in blocking {
                let sz = s.objects[j].size
                let lo = nx - op / 2 + sz, hi = nx + op / 2 - sz
                if lo <= hi { s.objects[j].x = min(hi, max(lo, s.objects[j].x)) }
            }
        }
        s.opening = op

        // 5. holding rule
        func holds(_ o: GraspObject) -> Bool {
            between(o, gx: nx, opening: op) && fingerOverlap(o, gy: ny, config: c) >= c.minGraspOverlap
                && op <= 2 * o.size + c.gripTolerance
        }
        var newHeld: Int? = nil
        if let h = heldIndex, holds(s.objects[h]) { newHeld = h }
        if newHeld == nil { newHeld = s.objects.firstIndex(where: holds) }
        for j in s.objects.indices {
            let now = j == newHeld
            if now && !s.objects[j].held { s.objects[j].vx = ddx; s.objects[j].vy = ddy }
            s.objects[j].held = now
        }
        heldIndex = newHeld

        // 6. free objects
        let w = Float(c.width)
        for j in s.objects.indices where j != heldIndex {
            var o = s.objects[j]
            o.vy += c.gravity
            o.x += o.vx; o.y += o.vy
            if o.bottom >= c.floorY {
                o.y = c.floorY - o.size
                o.vy = 0
                o.vx *= c.floorFriction
                if abs(o.vx) < 0.05 { o.vx = 0 }
            }
            if o.left < 0 { o.x = o.size; o.vx = 0 }
            if o.right > w { o.x = w - o.size; o.vx = 0 }
            s.objects[j] = o
        }
    }
}
