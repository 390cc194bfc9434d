/// Every number of the grasp world: geometry, physics, rendering, tasks and the data mix.
///
/// Coordinates are pixels, x to the right, y down; pixel (row i, column j) covers
/// [j, j+1) × [i, i+1). The floor surface is at `floorY = height − floorThickness`.
public struct GraspConfig: Codable, Sendable, Equatable {
    // Box
    public var width = 64
    public var height = 64
    /// Rows of floor at the bottom of the frame (drawn at `floorIntensity`); 0 puts the floor at the frame edge.
    public var floorThickness = 1

    // Objects
    public var objectCount = 1
    /// Probability that an object is a ball (otherwise a block).
    public var ballProbability: Float = 0.5
    /// Half-size of a block / radius of a ball, drawn uniformly from [minObjectSize, maxObjectSize].
    public var minObjectSize: Float = 3
    public var maxObjectSize: Float = 5
    /// Minimum horizontal free space between two objects at the start.
    public var objectGap: Float = 4
    /// Downward acceleration, px/frame².
    public var gravity: Float = 0.35
    /// Horizontal velocity factor per frame for objects on the floor.
    public var floorFriction: Float = 0.7

    // Gripper
    /// Largest gripper displacement per frame per axis (action ±1).
    public var maxSpeed: Float = 2.5
    /// Opening change per frame at grip ±1.
    public var gripRate: Float = 1.5
    public var minOpening: Float = 2
    public var maxOpening: Float = 16
    public var fingerLength: Float = 10
    public var fingerWidth: Float = 2
    public var palmThickness: Float = 2
    /// An enclosed object is held while `opening ≤ 2·size + gripTolerance`.
    public var gripTolerance: Float = 0.6
    /// Vertical overlap (px) the fingers need with an object to hold it.
    public var minGraspOverlap: Float = 2

    // Rendering (0–255)
    public var gripperIntensity = 110
    public var blockIntensity = 255
    public var ballIntensity = 200
    public var floorIntensity = 60

    // Tasks
    public var reachTolerance: Float = 3
    public var liftHeight: Float = 12
    public var placeTolerance: Float = 4

    // Data mix
    /// Probability that an episode is driven by the scripted expert (otherwise random exploration).
    public var expertFraction: Float = 0.5
    /// Standard deviation of Gaussian noise added to expert actions (then clipped).
    public var expertNoise: Float = 0.1
    /// Per-step probability that an expert episode switches to a burst of random actions.
    public var randomSwitchProbability: Float = 0.03
    public var randomBurstMin = 4
    public var randomBurstMax = 12
    /// Random exploration holds each uniformly drawn action for k ∈ [randomHoldMin, randomHoldMax] frames.
    public var randomHoldMin = 3
    public var randomHoldMax = 10

    public init() {}

    // MARK: derived geometry

    public var floorY: Float { Float(height - floorThickness) }
    public var palmHalf: Float { palmThickness / 2 }
    /// Distance from the palm centre down to the fingertips.
    public var reach: Float { palmThickness / 2 + fingerLength }
    /// The palm-centre x range: the open gripper always stays inside the box.
    public var gripperXMin: Float { maxOpening / 2 + fingerWidth }
    public var gripperXMax: Float { Float(width) - gripperXMin }
    /// The palm-centre y range: palm inside the box, fingertips not below the floor.
    public var gripperYMin: Float { palmHalf }
    public var gripperYMax: Float { floorY - reach }

    // MARK: validation

    /// Throws `WorldConfigError` naming the first field outside its allowed range.
    public func validate() throws {
        func check<T: Comparable>(_ field: String, _ value: T, _ lo: T, _ hi: T) throws {
            guard value >= lo && value <= hi else {
                throw WorldConfigError(field: field, value: "\(value)", allowed: "\(lo)...\(hi)")
            }
        }
        try check("width", width, 16, 1024)
        try check("height", height, 16, 1024)
        try check("floorThickness", floorThickness, 0, 4)
        try check("objectCount", objectCount, 1, 3)
        try check("ballProbability", ballProbability, 0, 1)
        try check("minObjectSize", minObjectSize, 1, 16)
        try check("maxObjectSize", maxObjectSize, minObjectSize, 16)
        try check("objectGap", objectGap, 0, 32)
        try check("gravity", gravity, 0.01, 5)
        try check("floorFriction", floorFriction, 0, 1)
        try check("maxSpeed", maxSpeed, 0.1, 10)
        try check("gripRate", gripRate, 0.1, 10)
        try check("minOpening", minOpening, 0, 2 * minObjectSize)
        try check("maxOpening", maxOpening, 2 * maxObjectSize + 2, Float(width) / 2)
        try check("minGraspOverlap", minGraspOverlap, 0.5, 2 * minObjectSize)
        try check("fingerLength", fingerLength, minGraspOverlap + 1, Float(height) / 2)
        try check("fingerWidth", fingerWidth, 1, 8)
        try check("palmThickness", palmThickness, 1, 8)
        try check("gripTolerance", gripTolerance, 0, gripRate)
        try check("gripperIntensity", gripperIntensity, 1, 255)
        try check("blockIntensity", blockIntensity, 1, 255)
        try check("ballIntensity", ballIntensity, 1, 255)
        try check("floorIntensity", floorIntensity, 0, 255)
        if gripperIntensity == blockIntensity || gripperIntensity == ballIntensity {
            throw WorldConfigError(field: "gripperIntensity", value: "\(gripperIntensity)",
                                   allowed: "0...255 and different from blockIntensity and ballIntensity")
        }
        try check("reachTolerance", reachTolerance, 0.5, 20)
        try check("liftHeight", liftHeight, 1, Float(height) / 2)
        try check("placeTolerance", placeTolerance, 0.5, 20)
        try check("expertFraction", expertFraction, 0, 1)
        try check("expertNoise", expertNoise, 0, 1)
        try check("randomSwitchProbability", randomSwitchProbability, 0, 1)
        try check("randomBurstMin", randomBurstMin, 1, 1000)
        try check("randomBurstMax", randomBurstMax, randomBurstMin, 1000)
        try check("randomHoldMin", randomHoldMin, 1, 1000)
        try check("randomHoldMax", randomHoldMax, randomHoldMin, 1000)
        // Room to work: the gripper can hover above the tallest object with a margin.
        let minHeight = Float(floorThickness) + palmThickness + fingerLength + 2 * maxObjectSize + 4
        if Float(height) < minHeight {
            throw WorldConfigError(field: "height", value: "\(height)", allowed: "≥ \(minHeight) for this gripper and object size")
        }
        // All objects fit side by side in the gripper's reachable x range.
        let span = gripperXMax - gripperXMin
        let needed = Float(objectCount) * (2 * maxObjectSize + objectGap) - objectGap - 2 * maxObjectSize
        if span < max(0, needed) || span < 1 {
            throw WorldConfigError(field: "objectCount", value: "\(objectCount)",
                                   allowed: "few enough objects to fit apart in x ∈ [\(gripperXMin), \(gripperXMax)] (needs width ≥ \(Int(needed + 2 * gripperXMin)))")
        }
    }
}
