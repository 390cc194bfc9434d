/// The contract between a simulated world and everything that records, stores or replays it.
///
/// A generator is a pure function of (configuration, seed, episode index): episode i of seed s is
/// the same on every machine and thread count, so datasets can be generated in parallel and
/// regenerated bit for bit.
public protocol WorldGenerator: Sendable {
    /// Short name stored in datasets ("balls", "grasp").
    var name: String { get }
    /// Shape of one frame, channels first: [C, H, W].
    var frameShape: [Int] { get }
    /// Names of the ground-truth state entries, in the order of `EpisodeData.states` rows.
    var stateNames: [String] { get }
    /// Action dimensions per step (0 for passive worlds).
    var actionNames: [String] { get }
    /// The full configuration as JSON text, stored with every dataset.
    var configJSON: String { get }
    /// Simulates and renders episode `index` of the stream for `seed`, `frames` frames long.
    func episode(index: Int, seed: UInt64, frames: Int) -> EpisodeData
}

/// One recorded episode, flat row-major arrays.
public struct EpisodeData: Sendable {
    /// [T, C, H, W] intensities 0–255.
    public var frames: [UInt8]
    /// [T, S] ground truth after each frame's physics, S = `stateNames.count`.
    public var states: [Float]
    /// [T, A] action applied after frame t (to produce frame t+1); empty for passive worlds.
    public var actions: [Float]
    public init(frames: [UInt8], states: [Float], actions: [Float]) {
        self.frames = frames
        self.states = states
        self.actions = actions
    }
}
