import Foundation
import HDF5
import Tensors
import Testing
@testable import Worlds

/// A dataset of 9 episodes × 12 frames of the counter world (3 channels, 2 actions).
func makeLoaderFixture(_ dir: TempDir, channels: Int = 3) throws -> (path: String, world: CounterWorld) {
    let world = CounterWorld(channels: channels)
    let path = dir.path("clips.h5")
    _ = try generateDataset(world: world, episodes: 9, frames: 12, seed: 4, to: path, createdBy: "test")
    return (path, world)
}

func values(_ t: Tensor) -> [Float] { t.withUnsafeBufferPointer { Array($0) } }

/// Every batch of `epochs` epochs as (origins, frames, states, actions).
func drain(_ loader: ClipLoader, batches: Int) throws -> [([ClipOrigin], [Float], [Float], [Float])] {
    try (0..<batches).map { _ in
        let b = try loader.next()
        return (b.clips, values(b.frames), values(b.states), b.actions.map(values) ?? [])
    }
}

@Test func clipsLieInOneEpisodeAndMatchTheStoredFrames() throws {
    let dir = try TempDir()
    defer { dir.cleanup() }
    let (path, world) = try makeLoaderFixture(dir)
    let options = ClipLoaderOptions(batchSize: 4, clipLength: 3, frameStride: 2, clipsPerEpisode: 2, seed: 1, prefetch: 0)
    let loader = try ClipLoader(path: path, options: options)
    #expect(loader.frameShape == [3, 5, 4] && loader.stateCount == 3 && loader.actionCount == 2)
    #expect(loader.clipsPerEpoch == 18 && loader.batchesPerEpoch == 4)  // 18 / 4, drop last
    let frameSize = 3 * 5 * 4
    for _ in 0..<6 {
        let batch = try loader.next()
        #expect(batch.frames.shape == [4, 3, 3, 5, 4] && batch.states.shape == [4, 3, 3] && batch.actions?.shape == [4, 3, 2])
        let frames = values(batch.frames), states = values(batch.states), actions = values(batch.actions!)
        for (b, clip) in batch.clips.enumerated() {
            #expect(clip.start >= 0 && clip.start + 2 * 2 < 12)  // the whole span lies inside the episode
            let episode = world.episode(index: clip.episode, seed: 4, frames: 12)
            for k in 0..<3 {
                let t = clip.start + 2 * k
                let expected = episode.frames[(t * frameSize)..<((t + 1) * frameSize)].map { Float($0) / 255 }
                #expect(Array(frames[((b * 3 + k) * frameSize)..<((b * 3 + k + 1) * frameSize)]) == expected)
                #expect(Array(states[((b * 3 + k) * 3)..<((b * 3 + k + 1) * 3)]) == Array(episode.states[(t * 3)..<(t * 3 + 3)]))
                #expect(Array(actions[((b * 3 + k) * 2)..<((b * 3 + k + 1) * 2)]) == Array(episode.actions[(t * 2)..<(t * 2 + 2)]))
            }
        }
    }
    #expect(values(try loader.next().frames).allSatisfy { $0 >= 0 && $0 <= 1 })
}

@Test func epochsCoverEveryStartAndDependOnlyOnSeedAndEpoch() throws {
    let dir = try TempDir()
    defer { dir.cleanup() }
    let (path, _) = try makeLoaderFixture(dir, channels: 1)
    let options = ClipLoaderOptions(batchSize: 5, clipLength: 4, dropLast: false, seed: 7, prefetch: 0)
    let a = try ClipLoader(path: path, options: options), b = try ClipLoader(path: path, options: options)
    #expect(a.frameShape == [1, 5, 4] && a.clipsPerEpoch == 9 * 9 && a.batchesPerEpoch == 17)  // last batch has 1 clip
    let epoch0 = a.plan(epoch: 0)
    #expect(Set(epoch0).count == 81 && epoch0.allSatisfy { $0.start + 3 < 12 })
    #expect(epoch0 == b.plan(epoch: 0) && a.plan(epoch: 1) == b.plan(epoch: 1))
    #expect(epoch0 != a.plan(epoch: 1))
    var other = options
    other.seed = 8
    #expect(try ClipLoader(path: path, options: other).plan(epoch: 0) != epoch0)
    let batchesA = try drain(a, batches: 20), batchesB = try drain(b, batches: 20)
    #expect(batchesA.map(\.0) == batchesB.map(\.0) && batchesA.map(\.1) == batchesB.map(\.1))
    #expect(batchesA[16].0.count == 1 && a.position == LoaderPosition(epoch: 1, batch: 3))
    #expect(batchesA.prefix(17).flatMap(\.0) == epoch0)
}

@Test func resumingAndPrefetchGiveTheSameBatches() throws {
    let dir = try TempDir()
    defer { dir.cleanup() }
    let (path, _) = try makeLoaderFixture(dir)
    var options = ClipLoaderOptions(batchSize: 3, clipLength: 5, clipsPerEpisode: 3, seed: 11, prefetch: 0)
    let reference = try drain(try ClipLoader(path: path, options: options), batches: 25)  // crosses 2 epochs (9 per epoch)
    options.prefetch = 2
    let prefetching = try ClipLoader(path: path, options: options)
    let prefetched = try drain(prefetching, batches: 25)
    #expect(prefetched.map(\.0) == reference.map(\.0) && prefetched.map(\.1) == reference.map(\.1)
            && prefetched.map(\.2) == reference.map(\.2) && prefetched.map(\.3) == reference.map(\.3))
    // Interrupt after 11 batches, save the position, resume in a new loader.
    let first = try ClipLoader(path: path, options: options)
    _ = try drain(first, batches: 11)
    let saved = first.position
    #expect(saved == LoaderPosition(epoch: 1, batch: 2))
    let resumed = try ClipLoader(path: path, options: options, position: saved)
    let rest = try drain(resumed, batches: 14)
    #expect(rest.map(\.0) == reference[11...].map(\.0) && rest.map(\.1) == reference[11...].map(\.1))
    // Seeking back on a prefetching loader discards what was prefetched.
    try prefetching.seek(to: LoaderPosition(epoch: 0, batch: 4))
    #expect(try prefetching.next().clips == reference[4].0)
    #expect { try prefetching.seek(to: LoaderPosition(epoch: 0, batch: 9)) } throws: { "\($0)".contains("9 batches") }
}

/// The consumer reads a batch itself when the prefetch queue is empty (the prefetch thread runs in
/// the idle scheduling class and may not run for a while), and the thread skips or drops what the
/// consumer read: a consumer that sometimes outruns the thread and sometimes waits long enough for
/// it to fill the queue still gets exactly the batches of a loader without prefetching.
@Test func aConsumerThatOutrunsThePrefetchThreadGetsTheSameBatches() throws {
    let dir = try TempDir()
    defer { dir.cleanup() }
    let (path, _) = try makeLoaderFixture(dir)
    var options = ClipLoaderOptions(batchSize: 2, clipLength: 4, clipsPerEpisode: 2, seed: 3, prefetch: 0)
    let reference = try drain(try ClipLoader(path: path, options: options), batches: 40)
    options.prefetch = 3
    let loader = try ClipLoader(path: path, options: options)
    for (i, expected) in reference.enumerated() {
        if i % 7 == 3 { Thread.sleep(forTimeInterval: 0.02) }   // lets the thread fill the queue
        let b = try loader.next()
        #expect(b.clips == expected.0 && values(b.frames) == expected.1 && values(b.states) == expected.2, "batch \(i)")
    }
    // A consumer that never waits for the thread (patience 0) reads every batch the queue does not hold yet.
    let source = try ClipSource(path: path, options: options)
    let impatient = Prefetcher(source: source, from: LoaderPosition(epoch: 0, batch: 0), capacity: 2, patience: 0)
    defer { impatient.stop() }
    for (i, expected) in reference.enumerated() {
        if i % 5 == 2 { Thread.sleep(forTimeInterval: 0.02) }
        let b = try impatient.next()
        #expect(b.clips == expected.0 && b.frames == expected.1 && b.states == expected.2, "batch \(i) without waiting")
    }
}

@Test func malformedFilesGiveClearErrors() throws {
    let dir = try TempDir()
    defer { dir.cleanup() }
    let floatPath = dir.path("float.h5")
    do {
        let file = try HDF5File(path: floatPath, mode: .exclusive)
        try file.write("frames", shape: [2, 4, 3, 3], float32: [Float](repeating: 0.5, count: 72))
        try file.write("states", shape: [2, 4, 1], float32: [Float](repeating: 0, count: 8))
        try file.close()
    }
    #expect { _ = try ClipLoader(path: floatPath, options: ClipLoaderOptions(batchSize: 1, clipLength: 2)) }
        throws: { "\($0)".contains("'frames' must be uint8") }
    let rankPath = dir.path("rank.h5")
    do {
        let file = try HDF5File(path: rankPath, mode: .exclusive)
        try file.write("frames", shape: [2, 4, 9], uint8: [UInt8](repeating: 0, count: 72))
        try file.close()
    }
    #expect { _ = try ClipLoader(path: rankPath, options: ClipLoaderOptions(batchSize: 1, clipLength: 2)) }
        throws: { "\($0)".contains("rank 4") && "\($0)".contains("[2, 4, 9]") }
    let (path, _) = try makeLoaderFixture(dir)
    #expect { _ = try ClipLoader(path: path, options: ClipLoaderOptions(batchSize: 1, clipLength: 7, frameStride: 2)) }
        throws: { "\($0)".contains("spans 13 frames") }
    #expect { _ = try ClipLoader(path: path, options: ClipLoaderOptions(batchSize: 500, clipLength: 2)) }
        throws: { "\($0)".contains("fewer than one batch") }
}

@Test func ballsAndGraspWorldsRoundTripThroughTheLoader() throws {
    let dir = try TempDir()
    defer { dir.cleanup() }
    for world in [try BallsWorld() as any WorldGenerator, try GraspWorld()] {
        let path = dir.path("\(world.name).h5")
        _ = try generateDataset(world: world, episodes: 3, frames: 8, seed: 5, to: path, createdBy: "test")
        let loader = try ClipLoader(path: path, options: ClipLoaderOptions(batchSize: 2, clipLength: 4, seed: 1))
        let batch = try loader.next()
        #expect(batch.frames.shape == [2, 4] + world.frameShape)
        #expect(batch.states.shape == [2, 4, world.stateNames.count])
        #expect(batch.actions?.shape == (world.actionNames.isEmpty ? nil : [2, 4, world.actionNames.count]))
        let clip = batch.clips[0]
        let episode = world.episode(index: clip.episode, seed: 5, frames: 8)
        let frameSize = world.frameShape.reduce(1, *)
        let first = values(batch.frames)[0..<frameSize]
        #expect(Array(first) == episode.frames[(clip.start * frameSize)..<((clip.start + 1) * frameSize)].map { Float($0) / 255 })
    }
}
