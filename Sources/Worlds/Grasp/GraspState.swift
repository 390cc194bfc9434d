/// What an object is.
public enum GraspObjectKind: Int, Codable, Sendable, CaseIterable {
    case block = 0
    case ball = 1
}

/// One object: centre (x, y), velocity, kind, half-size (block half-width or ball radius), held flag.
public struct GraspObject: Codable, Sendable, Equatable {
    public var kind: GraspObjectKind
    public var x: Float
    public var y: Float
    public var vx: Float
    public var vy: Float
    public var size: Float
    public var held: Bool

    public init(kind: GraspObjectKind, x: Float, y: Float, vx: Float = 0, vy: Float = 0, size: Float, held: Bool = false) {
        self.kind = kind; self.x = x; self.y = y; self.vx = vx; self.vy = vy; self.size = size; self.held = held
    }

    public var top: Float { y - size }
    public var bottom: Float { y + size }
    public var left: Float { x - size }
    public var right: Float { x + size }

    /// On the floor (within 0.01 px), not held, and slower than 0.1 px/frame.
    public func isResting(floorY: Float) -> Bool {
        !held && bottom >= floorY - 0.01 && abs(vx) < 0.1 && abs(vy) < 0.1
    }
}

/// The full world state, a value: copy it to snapshot or reset a simulator.
public struct GraspState: Codable, Sendable, Equatable {
    /// Palm centre.
    public var gripperX: Float
    public var gripperY: Float
    /// Distance between the inner edges of the two fingers.
    public var opening: Float
    public var objects: [GraspObject]

    public init(gripperX: Float, gripperY: Float, opening: Float, objects: [GraspObject]) {
        self.gripperX = gripperX; self.gripperY = gripperY; self.opening = opening; self.objects = objects
    }

    /// Names of `vector` entries for `objectCount` object slots.
    public static func names(objectCount: Int) -> [String] {
        var n = ["gripper.x", "gripper.y", "gripper.opening"]
        for i in 0..<objectCount {
            for f in ["x", "y", "vx", "vy", "kind", "size", "held"] { n.append("object\(i).\(f)") }
        }
        return n
    }

    /// The ground-truth row: gripper x, y, opening, then per object x, y, vx, vy, kind, size, held.
    public var vector: [Float] {
        var v: [Float] = [gripperX, gripperY, opening]
        v.reserveCapacity(3 + 7 * objects.count)
        for o in objects { v += [o.x, o.y, o.vx, o.vy, Float(o.kind.rawValue), o.size, o.held ? 1 : 0] }
        return v
    }

    /// Inverse of `vector` (e.g. for a row of `EpisodeData.states`).
    public init<C: Collection>(vector v: C) where C.Element == Float, C.Index == Int {
        precondition(v.count >= 3 && (v.count - 3) % 7 == 0, "GraspState(vector:) needs 3 + 7k entries, got \(v.count)")
        let b = v.startIndex
        gripperX = v[b]; gripperY = v[b + 1]; opening = v[b + 2]
        objects = stride(from: b + 3, to: b + v.count, by: 7).map { i in
            GraspObject(kind: v[i + 4] >= 0.5 ? .ball : .block, x: v[i], y: v[i + 1], vx: v[i + 2], vy: v[i + 3],
                        size: v[i + 5], held: v[i + 6] >= 0.5)
        }
    }
}
