import Foundation
import Testing
import Tensors
import Worlds

private let config = GraspConfig()

/// Runs `policy` from the initial state of `seed` for at most `limit` steps; true if the goal was met.
private func run(_ task: GraspTask, seed: Int, limit: Int,
                 policy: (GraspState, GraspGoal) -> [Float]) -> Bool {
    var sim = GraspSimulator(config: config, seed: UInt64(seed))
    var goalRng = RandomGenerator(seed: UInt64(10_000 + seed))
    let goal = GraspGoal.sample(task: task, state: sim.state, config: config, rng: &goalRng)
    for _ in 0..<limit {
        if goal.isSuccess(sim.state) { return true }
        sim.step(policy(sim.state, goal))
    }
    return goal.isSuccess(sim.state)
}

private let expert = GraspExpert(config: config)

@Test(arguments: [(GraspTask.reach, 60, 20), (.lift, 80, 18), (.place, 150, 16)])
func graspExpertSucceeds(task: GraspTask, limit: Int, needed: Int) {
    let clean = (0..<20).filter { run(task, seed: $0, limit: limit) { expert.action(state: $0, goal: $1) } }.count
    var noiseRng = RandomGenerator(seed: 99)
    let noisy = (0..<20).filter { run(task, seed: 100 + $0, limit: limit) { expert.action(state: $0, goal: $1, rng: &noiseRng) } }.count
    #expect(clean >= needed, "\(task): noiseless expert \(clean)/20")
    #expect(noisy >= needed, "\(task): noisy expert \(noisy)/20")
}

@Test func graspExpertHandlesThreeObjects() {
    var c = GraspConfig()
    c.objectCount = 3
    let threeExpert = GraspExpert(config: c)
    for (task, limit) in [(GraspTask.lift, 80), (.place, 150)] {
        var wins = 0
        for seed in 0..<20 {
            var sim = GraspSimulator(config: c, seed: UInt64(seed))
            var rng = RandomGenerator(seed: UInt64(seed))
            let goal = GraspGoal.sample(task: task, state: sim.state, config: c, rng: &rng)
            for _ in 0..<limit where !goal.isSuccess(sim.state) { sim.step(threeExpert.action(state: sim.state, goal: goal)) }
            if goal.isSuccess(sim.state) { wins += 1 }
        }
        #expect(wins >= 18, "\(task) with 3 objects: \(wins)/20")
    }
}

@Test func graspRandomActionsRarelySucceed() {
    for (task, limit, allowed) in [(GraspTask.lift, 80, 2), (.place, 150, 3)] {
        let wins = (0..<20).filter { seed in
            var policy = GraspRandomPolicy(config: config, rng: RandomGenerator(seed: UInt64(500 + seed)))
            return run(task, seed: seed, limit: limit) { _, _ in policy.action() }
        }.count
        #expect(wins <= allowed, "\(task): random actions \(wins)/20")
    }
}

@Test func graspGoalStatesSatisfyGoalsAndRender() {
    for seed in 0..<10 {
        let start = GraspSimulator(config: config, seed: UInt64(seed)).state
        for task in GraspTask.allCases {
            var rng = RandomGenerator(seed: UInt64(seed))
            let goal = GraspGoal.sample(task: task, state: start, config: config, rng: &rng)
            #expect(!goal.isSuccess(start) || task == .reach)
            let g = goal.goalState(from: start, config: config)
            #expect(goal.isSuccess(g), "\(task) seed \(seed)")
            // The goal state is consistent with the physics: holding still keeps it a success.
            var s = GraspSimulator(config: config, state: g)
            s.step([0, 0, task == .lift ? 1 : 0])
            #expect(goal.isSuccess(s.state), "\(task) seed \(seed) after a step")
            var frame: [UInt8] = []
            GraspRenderer(config: config).render(state: g, into: &frame)
            let gripperPx = frame[Int(g.gripperY) * 64 + Int(g.gripperX)]
            #expect(gripperPx == 110)
            if task != .reach {
                let o = g.objects[goal.objectIndex]
                #expect(frame[Int(o.y) * 64 + Int(o.x)] == (o.kind == .block ? 255 : 200))
            }
        }
    }
}

@Test func graspGoalSamplingIsSeeded() {
    let start = GraspSimulator(config: config, seed: 3).state
    for task in GraspTask.allCases {
        let a = GraspGoal.sample(task: task, state: start, config: config, seed: 11)
        #expect(a == GraspGoal.sample(task: task, state: start, config: config, seed: 11))
        #expect(a.task == task)
    }
    #expect(GraspGoal.sample(task: .reach, state: start, config: config, seed: 11)
        != GraspGoal.sample(task: .reach, state: start, config: config, seed: 12))
}

@Test func graspPlaceTargetsAreAwayFromTheObject() {
    for seed in 0..<50 {
        let start = GraspSimulator(config: config, seed: UInt64(seed)).state
        var rng = RandomGenerator(seed: UInt64(seed))
        let goal = GraspGoal.sample(task: .place, state: start, config: config, rng: &rng)
        #expect(abs(goal.targetX - start.objects[0].x) >= 2 * config.placeTolerance + 2)
        #expect(goal.targetX >= config.gripperXMin && goal.targetX <= config.gripperXMax)
    }
}

@Test func graspEpisodeShapesAndDeterminism() throws {
    var c = GraspConfig()
    c.objectCount = 2
    let world = try GraspWorld(config: c)
    #expect(world.name == "grasp")
    #expect(world.frameShape == [1, 64, 64])
    #expect(world.stateNames.count == 3 + 7 * 2)
    #expect(world.stateNames[3] == "object0.x")
    #expect(world.actionNames == ["dx", "dy", "grip"])
    let t = 40
    let e = world.episode(index: 3, seed: 7, frames: t)
    #expect(e.frames.count == t * 64 * 64)
    #expect(e.states.count == t * world.stateNames.count)
    #expect(e.actions.count == t * 3)
    #expect(e.actions.allSatisfy { $0 >= -1 && $0 <= 1 })
    let again = world.episode(index: 3, seed: 7, frames: t)
    #expect(e.frames == again.frames && e.states == again.states && e.actions == again.actions)
    let other = world.episode(index: 4, seed: 7, frames: t)
    #expect(other.states != e.states)
    let otherSeed = world.episode(index: 3, seed: 8, frames: t)
    #expect(otherSeed.states != e.states)
    // States replay: stepping the recorded actions from the first state reproduces every row, and
    // rendering each row reproduces its frame.
    let s = world.stateNames.count
    var sim = GraspSimulator(config: c, state: GraspState(vector: e.states[0..<s]))
    var frame: [UInt8] = []
    for i in 0..<t {
        #expect(Array(e.states[i * s..<(i + 1) * s]) == sim.state.vector)
        sim.render(into: &frame)
        #expect(frame == Array(e.frames[i * 4096..<(i + 1) * 4096]))
        sim.step(Array(e.actions[i * 3..<i * 3 + 3]))
    }
    #expect(world.episode(index: 0, seed: 1, frames: 0).frames.isEmpty)
}

@Test func graspEpisodesIndependentOfOrderAndThread() async throws {
    let world = try GraspWorld()
    let forward = (0..<6).map { world.episode(index: $0, seed: 42, frames: 20).states }
    let parallel = await withTaskGroup(of: (Int, [Float]).self) { group in
        for i in (0..<6).reversed() { group.addTask { (i, world.episode(index: i, seed: 42, frames: 20).states) } }
        var out = [[Float]](repeating: [], count: 6)
        for await (i, st) in group { out[i] = st }
        return out
    }
    #expect(forward == parallel)
}

@Test func graspDatasetMixesSuccessAndFailure() throws {
    let world = try GraspWorld()
    let s = world.stateNames.count
    var successes = 0, failures = 0, expertEpisodes = 0
    for i in 0..<20 {
        let plan = world.episodePlan(index: i, seed: 5)
        if plan.usesExpert { expertEpisodes += 1 }
        let e = world.episode(index: i, seed: 5, frames: 100)
        #expect(GraspState(vector: e.states[0..<s]) == plan.initialState)
        let won = (0..<100).contains { plan.goal.isSuccess(GraspState(vector: e.states[$0 * s..<($0 + 1) * s])) }
        if won { successes += 1 } else { failures += 1 }
    }
    #expect(expertEpisodes > 0 && expertEpisodes < 20)
    #expect(successes >= 3, "successes \(successes)/20")
    #expect(failures >= 3, "failures \(failures)/20")
}

@Test func graspConfigValidationNamesTheField() throws {
    #expect(throws: Never.self) { try GraspConfig().validate() }
    func failure(_ edit: (inout GraspConfig) -> Void) -> WorldConfigError? {
        var c = GraspConfig()
        edit(&c)
        do { try c.validate(); return nil } catch let e as WorldConfigError { return e } catch { return nil }
    }
    let cases: [(String, (inout GraspConfig) -> Void)] = [
        ("maxOpening", { $0.maxOpening = 5 }),
        ("objectCount", { $0.objectCount = 9 }),
        ("gravity", { $0.gravity = .nan }),
        ("minOpening", { $0.minOpening = 20 }),
        ("expertFraction", { $0.expertFraction = 1.5 }),
        ("gripperIntensity", { $0.gripperIntensity = 255 }),
        ("randomHoldMax", { $0.randomHoldMax = 1 }),
        ("width", { $0.width = 4 }),
    ]
    for (field, edit) in cases {
        let e = failure(edit)
        #expect(e?.field == field)
        #expect(e?.description.contains(field) == true, "\(String(describing: e))")
    }
    #expect(throws: WorldConfigError.self) { var c = GraspConfig(); c.objectCount = 0; _ = try GraspWorld(config: c) }
}

@Test func graspConfigJSONRoundTrips() throws {
    var c = GraspConfig()
    c.objectCount = 2
    let world = try GraspWorld(config: c)
    let json = world.configJSON
    #expect(json.hasPrefix("{\"ballIntensity\""))
    let decoded = try JSONDecoder().decode(GraspConfig.self, from: Data(json.utf8))
    #expect(decoded == c)
}
