import Tensors

/// The grasp world's tasks.
public enum GraspTask: String, Codable, Sendable, CaseIterable {
    /// Bring the palm centre within `tolerance` px of (targetX, targetY).
    case reach
    /// Hold object `objectIndex` with its bottom at least `liftHeight` px above the floor.
    case lift
    /// Object `objectIndex` resting on the floor, not held, with |x − targetX| ≤ tolerance.
    case place
}

/// What success means for a task, judged on the TRUE world state.
public struct GraspGoal: Codable, Sendable, Equatable {
    public var task: GraspTask
    /// The object a lift/place goal is about.
    public var objectIndex: Int
    /// reach: target palm position; place: target object x (targetY unused).
    public var targetX: Float
    public var targetY: Float
    /// reach: max distance of the palm centre; place: max |x − targetX|.
    public var tolerance: Float
    /// lift: required clearance of the object's bottom above the floor.
    public var liftHeight: Float
    /// The floor surface of the world the goal was made for.
    public var floorY: Float

    public init(task: GraspTask, objectIndex: Int = 0, targetX: Float = 0, targetY: Float = 0,
                tolerance: Float, liftHeight: Float = 0, floorY: Float) {
        self.task = task; self.objectIndex = objectIndex; self.targetX = targetX; self.targetY = targetY
        self.tolerance = tolerance; self.liftHeight = liftHeight; self.floorY = floorY
    }

    public func isSuccess(_ state: GraspState) -> Bool {
        switch task {
        case .reach:
            let dx = state.gripperX - targetX, dy = state.gripperY - targetY
            return (dx * dx + dy * dy).squareRoot() <= tolerance
        case .lift:
            guard objectIndex < state.objects.count else { return false }
            let o = state.objects[objectIndex]
            return o.held && o.bottom <= floorY - liftHeight
        case .place:
            guard objectIndex < state.objects.count else { return false }
            let o = state.objects[objectIndex]
            return o.isResting(floorY: floorY) && abs(o.x - targetX) <= tolerance
        }
    }

    /// A random goal for `task` in the world `state` (which fixes the objects): reach points anywhere in
    /// the gripper's range above the tallest possible object (so no object can block them); lift/place a random object; place targets in the gripper's x range at least
    /// 2·tolerance + 2 px from the object's current x.
    public static func sample(task: GraspTask, state: GraspState, config c: GraspConfig,
                              rng: inout RandomGenerator) -> GraspGoal {
        let index = rng.int(below: max(1, state.objects.count))
        switch task {
        case .reach:
            let yMax = max(c.gripperYMin, c.floorY - 2 * c.maxObjectSize - 2 - c.reach)
            return GraspGoal(task: .reach, targetX: rng.uniform(c.gripperXMin, c.gripperXMax),
                             targetY: rng.uniform(c.gripperYMin, yMax), tolerance: c.reachTolerance, floorY: c.floorY)
        case .lift:
            return GraspGoal(task: .lift, objectIndex: index, tolerance: 0, liftHeight: c.liftHeight, floorY: c.floorY)
        case .place:
            let ox = state.objects.isEmpty ? (c.gripperXMin + c.gripperXMax) / 2 : state.objects[index].x
            let gap = 2 * c.placeTolerance + 2
            var tx = rng.uniform(c.gripperXMin, c.gripperXMax)
            for _ in 0..<100 where abs(tx - ox) < gap { tx = rng.uniform(c.gripperXMin, c.gripperXMax) }
            if abs(tx - ox) < gap {   // the range is too narrow to avoid the object: go to the far end
                tx = ox - c.gripperXMin > c.gripperXMax - ox ? c.gripperXMin : c.gripperXMax
            }
            return GraspGoal(task: .place, objectIndex: index, targetX: tx, tolerance: c.placeTolerance, floorY: c.floorY)
        }
    }

    /// `sample(task:state:config:rng:)` with `RandomGenerator(seed: seed)`.
    public static func sample(task: GraspTask, state: GraspState, config: GraspConfig, seed: UInt64) -> GraspGoal {
        var rng = RandomGenerator(seed: seed)
        return sample(task: task, state: state, config: config, rng: &rng)
    }

    /// A full world state that satisfies this goal, built from `state` (other objects unchanged):
    /// reach — the gripper at the target point; lift — the object held, centred between closed fingers,
    /// its bottom `liftHeight + 4` px above the floor; place — the object resting at targetX with the open
    /// gripper 4 px above it. Render it with `GraspRenderer` to get a goal image.
    public func goalState(from state: GraspState, config c: GraspConfig) -> GraspState {
        var s = state
        for j in s.objects.indices where s.objects[j].held { s.objects[j].held = false }
        switch task {
        case .reach:
            s.gripperX = min(c.gripperXMax, max(c.gripperXMin, targetX))
            s.gripperY = min(c.gripperYMax, max(c.gripperYMin, targetY))
        case .lift:
            guard objectIndex < s.objects.count else { return s }
            var o = s.objects[objectIndex]
            let gx = min(c.gripperXMax, max(c.gripperXMin, o.x))
            let gy = max(c.gripperYMin, c.floorY - liftHeight - 4 - c.reach)
            o.x = gx; o.y = gy + c.reach - o.size; o.vx = 0; o.vy = 0; o.held = true
            s.objects[objectIndex] = o
            s.gripperX = gx; s.gripperY = gy; s.opening = max(c.minOpening, 2 * o.size)
        case .place:
            guard objectIndex < s.objects.count else { return s }
            var o = s.objects[objectIndex]
            o.x = min(Float(c.width) - o.size, max(o.size, targetX)); o.y = c.floorY - o.size; o.vx = 0; o.vy = 0
            s.objects[objectIndex] = o
            s.gripperX = min(c.gripperXMax, max(c.gripperXMin, o.x))
            s.gripperY = max(c.gripperYMin, o.top - 4 - c.reach)
            s.opening = c.maxOpening
        }
        return s
    }
}

/// The scripted expert: a stateless feedback policy on the true state.
///
/// - reach: proportional move toward the point.
/// - lift: open the fingers to the object's width + 3 px (not wider, so the fingers clear neighbouring
///   objects) and hover 2 px above the object, aligning x; once the object fits between the fingers with
///   0.25 px to spare, descend until the fingertips reach the object's bottom (or the palm touches its
///   top); close until held; then rise. Fingers beside the object at its level first rise.
/// - place: grasp as for lift; lift the object 4 px and carry it to targetX; lower it onto the floor;
///   open; rise.
public struct GraspExpert: Sendable {
    public let config: GraspConfig
    public init(config: GraspConfig) { self.config = config }

    @inline(__always) private func p(_ err: Float) -> Float { min(1, max(-1, err / config.maxSpeed)) }

    /// The noiseless expert action (dx, dy, grip) ∈ [−1, 1]³.
    public func action(state s: GraspState, goal: GraspGoal) -> [Float] {
        let c = config
        switch goal.task {
        case .reach:
            return [p(goal.targetX - s.gripperX), p(goal.targetY - s.gripperY), 0]
        case .lift:
            guard goal.objectIndex < s.objects.count else { return [0, -1, -1] }
            let o = s.objects[goal.objectIndex]
            if o.held { return [0, -1, 1] }
            return grasp(s, o)
        case .place:
            guard goal.objectIndex < s.objects.count else { return [0, -1, -1] }
            let o = s.objects[goal.objectIndex]
            if o.held {
                let err = goal.targetX - o.x
                if abs(err) > 0.5 {
                    let carryBottom = c.floorY - 4
                    if o.bottom > c.floorY - 2 { return [0, -1, 1] }   // lift off first
                    return [p(err), p(carryBottom - o.bottom), 1]
                }
                if o.bottom < c.floorY - 0.01 { return [p(err), p(c.floorY - o.bottom), 1] }   // lower
                return [0, 0, -1]   // release
            }
            if abs(o.x - goal.targetX) <= max(0.5, goal.tolerance - 1) && o.bottom >= c.floorY - 1 {
                return [0, -1, -1]   // placed: back off with the fingers open
            }
            return grasp(s, o)
        }
    }

    /// `action(state:goal:)` plus Gaussian noise of std `expertNoise`, clipped to [−1, 1].
    public func action(state: GraspState, goal: GraspGoal, rng: inout RandomGenerator) -> [Float] {
        var a = action(state: state, goal: goal)
        if config.expertNoise > 0 {
            for i in a.indices { a[i] = min(1, max(-1, a[i] + config.expertNoise * rng.normal())) }
        }
        return a
    }

    private func grasp(_ s: GraspState, _ o: GraspObject) -> [Float] {
        let c = config
        let gx = s.gripperX, gy = s.gripperY
        let tip = gy + c.reach, palm = gy + c.palmHalf
        let dx = p(o.x - gx)
        // Pre-grasp opening: 1.5 px of play each side, so the outer finger edges stay clear of neighbours.
        let wanted = min(c.maxOpening, 2 * o.size + 3)
        let openGrip = -min(1, max(-1, (wanted - s.opening) / c.gripRate))
        let depth = min(c.gripperYMax, o.bottom - c.reach)   // fingertips level with the object's bottom
        if GraspSimulator.fingerOverlap(o, gy: gy, config: c) > 0 {
            if GraspSimulator.between(o, gx: gx, opening: s.opening) {
                if gy >= depth - 0.5 || palm >= o.top - 0.5 { return [0, 0, 1] }   // fingers around it: close
                return [dx, p(depth - gy), openGrip]                               // descend around it
            }
            return [dx, -1, openGrip]                                             // beside it: rise
        }
        // Above it: descend once it fits between the fingers with a margin, else hover and align.
        let half = s.opening / 2
        if o.left >= gx - half + 0.25 && o.right <= gx + half - 0.25 && tip <= o.top + 0.01 {
            return [dx, p(depth - gy), openGrip]
        }
        return [dx, p(o.top - 2 - c.reach - gy), openGrip]
    }
}
