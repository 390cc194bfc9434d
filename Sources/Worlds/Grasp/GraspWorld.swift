import Foundation
import Tensors

/// How one episode is driven, fixed by (seed, index) alone.
public struct GraspEpisodePlan: Sendable, Equatable {
    public var initialState: GraspState
    /// A random task goal: pursued by the expert in expert episodes, only for bookkeeping otherwise.
    public var goal: GraspGoal
    public var usesExpert: Bool
}

/// Random exploration: a uniformly drawn action in [−1, 1]³ held for k ∈ [randomHoldMin, randomHoldMax] frames.
public struct GraspRandomPolicy: Sendable {
    public let config: GraspConfig
    public var rng: RandomGenerator
    private var current: [Float] = [0, 0, 0]
    private var remaining = 0

    public init(config: GraspConfig, rng: RandomGenerator) { self.config = config; self.rng = rng }

    public mutating func action() -> [Float] {
        if remaining <= 0 {
            current = [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1)]
            remaining = config.randomHoldMin + rng.int(below: config.randomHoldMax - config.randomHoldMin + 1)
        }
        remaining -= 1
        return current
    }
}

/// The grasp world as a dataset generator ("grasp"): frames [1, height, width], states `GraspState.vector`,
/// actions (dx, dy, grip).
///
/// **Episode randomness.** Episode `index` of `seed` uses only
/// `RandomGenerator(seed: GraspWorld.episodeSeed(seed:index:))` (a SplitMix64 hash of seed and index),
/// split in a fixed order into streams for the initial state, the goal, the expert-or-random coin and the
/// policy. No state is shared between episodes, so episodes can be generated alone, in any order, on any
/// thread, bit for bit the same.
///
/// **Mix.** With probability `expertFraction` the scripted expert (with `expertNoise`) drives toward a
/// random task's goal, switching with probability `randomSwitchProbability` per frame to a burst of
/// `randomBurstMin...randomBurstMax` random frames; otherwise the whole episode is random exploration
/// (`GraspRandomPolicy`). The action of the last row is the one the policy would apply next.
public struct GraspWorld: WorldGenerator {
    public let config: GraspConfig

    public init(config: GraspConfig = GraspConfig()) throws {
        try config.validate()
        self.config = config
    }

    public var name: String { "grasp" }
    public var frameShape: [Int] { [1, config.height, config.width] }
    public var stateNames: [String] { GraspState.names(objectCount: config.objectCount) }
    public var actionNames: [String] { ["dx", "dy", "grip"] }

    public var configJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(config)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public var expert: GraspExpert { GraspExpert(config: config) }
    public var renderer: GraspRenderer { GraspRenderer(config: config) }

    /// The noiseless scripted expert's action.
    public func expertAction(state: GraspState, goal: GraspGoal) -> [Float] { expert.action(state: state, goal: goal) }

    /// Renders any world state (e.g. `goal.goalState(from:config:)`) into a [height·width] frame.
    public func render(state: GraspState, into frame: inout [UInt8]) { renderer.render(state: state, into: &frame) }

    /// The seed of episode `index` of the stream for `seed`.
    public static func episodeSeed(seed: UInt64, index: Int) -> UInt64 {
        func mix(_ x: UInt64) -> UInt64 {
            var z = x &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return mix(mix(seed) ^ UInt64(bitPattern: Int64(index)))
    }

    private struct Streams {
        var plan: GraspEpisodePlan
        var policy: RandomGenerator
    }

    private func streams(index: Int, seed: UInt64) -> Streams {
        var root = RandomGenerator(seed: Self.episodeSeed(seed: seed, index: index))
        var initRng = root.split()
        var goalRng = root.split()
        let usesExpert = root.uniform() < config.expertFraction
        let policy = root.split()
        let state = GraspSimulator.randomState(config: config, rng: &initRng)
        let task = GraspTask.allCases[goalRng.int(below: GraspTask.allCases.count)]
        let goal = GraspGoal.sample(task: task, state: state, config: config, rng: &goalRng)
        return Streams(plan: GraspEpisodePlan(initialState: state, goal: goal, usesExpert: usesExpert), policy: policy)
    }

    /// The initial state, goal and driver of episode `index` (what `episode` uses).
    public func episodePlan(index: Int, seed: UInt64) -> GraspEpisodePlan { streams(index: index, seed: seed).plan }

    public func episode(index: Int, seed: UInt64, frames: Int) -> EpisodeData {
        let t = max(0, frames)
        let st = streams(index: index, seed: seed)
        let plan = st.plan
        let pixels = config.width * config.height
        let s = stateNames.count
        var frameData = [UInt8](repeating: 0, count: t * pixels)
        var states = [Float](repeating: 0, count: t * s)
        var actions = [Float](repeating: 0, count: t * 3)
        var policyRng = st.policy
        var noiseRng = policyRng.split()
        var random = GraspRandomPolicy(config: config, rng: policyRng.split())
        let expert = self.expert, renderer = self.renderer
        var state = plan.initialState
        var burst = 0
        frameData.withUnsafeMutableBufferPointer { fp in
            for i in 0..<t {
                renderer.render(state: state, pixels: fp.baseAddress! + i * pixels)
                let v = state.vector
                for k in 0..<s { states[i * s + k] = v[k] }
                var a: [Float]
                if plan.usesExpert {
                    if burst == 0 && policyRng.uniform() < config.randomSwitchProbability {
                        burst = config.randomBurstMin + policyRng.int(below: config.randomBurstMax - config.randomBurstMin + 1)
                    }
                    if burst > 0 { burst -= 1; a = random.action() }
                    else { a = expert.action(state: state, goal: plan.goal, rng: &noiseRng) }
                } else {
                    a = random.action()
                }
                for k in 0..<3 { actions[i * 3 + k] = GraspSimulator.clip(a[k]) }
                if i + 1 < t { GraspSimulator.step(&state, action: a, config: config) }
            }
        }
        return EpisodeData(frames: frameData, states: states, actions: actions)
    }
}
