import Foundation
import HDF5
import Testing
@testable import Worlds

@Test func generatedFileHasTheDocumentedLayout() throws {
    let dir = try TempDir()
    defer { dir.cleanup() }
    let world = CounterWorld(channels: 3)
    let path = dir.path("set.h5")
    var reports: [DatasetProgress] = []
    let summary = try generateDataset(world: world, episodes: 70, frames: 6, seed: 9, to: path, threads: 2,
                                      createdBy: "jepa data generate test") { reports.append($0) }
    #expect(summary.episodes == 70 && summary.bytes > 0)
    #expect(reports.last?.episodesDone == 70 && reports.map(\.episodesDone) == reports.map(\.episodesDone).sorted())
    #expect(dir.contents() == ["set.h5"])  // no temporary file left

    let file = try HDF5File(path: path, mode: .readOnly)
    let info = try DatasetInfo(file: file)
    #expect(info.world == "counter" && info.seed == 9 && info.episodes == 70 && info.framesPerEpisode == 6)
    #expect(info.stateNames == ["episode", "frame", "seed"] && info.actionNames == ["a0", "a1"])
    #expect(info.frameShape == [3, 5, 4] && info.createdBy == "jepa data generate test")
    #expect(try file.stringAttribute("tool_version") == "0.1.0")
    #expect(try file.shape(of: "frames") == [70, 6, 3, 5, 4])
    for index in [0, 63, 64, 69] {
        let expected = world.episode(index: index, seed: 9, frames: 6)
        #expect(try file.readUInt8("frames", rows: index..<(index + 1)).values == expected.frames)
        #expect(try file.readFloat32("states", rows: index..<(index + 1)).values == expected.states)
        #expect(try file.readFloat32("actions", rows: index..<(index + 1)).values == expected.actions)
    }
}

@Test func singleChannelFramesDropTheChannelAxisAndPassiveWorldsHaveNoActions() throws {
    let dir = try TempDir()
    defer { dir.cleanup() }
    let path = dir.path("grey.h5")
    _ = try generateDataset(world: CounterWorld(actionCount: 0), episodes: 3, frames: 2, seed: 1, to: path)
    let file = try HDF5File(path: path, mode: .readOnly)
    #expect(try file.shape(of: "frames") == [3, 2, 5, 4])
    #expect(!file.exists("actions"))
    #expect(try DatasetInfo(file: file).actionNames == [])
}

@Test func contentsDoNotDependOnThreadCount() throws {
    let dir = try TempDir()
    defer { dir.cleanup() }
    let world = CounterWorld(channels: 1)
    _ = try generateDataset(world: world, episodes: 150, frames: 4, seed: 3, to: dir.path("one.h5"), threads: 1, createdBy: "x")
    _ = try generateDataset(world: world, episodes: 150, frames: 4, seed: 3, to: dir.path("two.h5"), threads: 2, createdBy: "x")
    let one = try HDF5File(path: dir.path("one.h5"), mode: .readOnly)
    let two = try HDF5File(path: dir.path("two.h5"), mode: .readOnly)
    for name in ["frames", "states", "actions"] {
        #expect(try one.readFloat32(name).values == two.readFloat32(name).values)
    }
    #expect(try one.attributeNames() == two.attributeNames())
}

@Test func refusesToOverwriteUnlessAsked() throws {
    let dir = try TempDir()
    defer { dir.cleanup() }
    let path = dir.path("set.h5")
    try Data("precious".utf8).write(to: URL(fileURLWithPath: path))
    #expect {
        _ = try generateDataset(world: CounterWorld(), episodes: 2, frames: 2, seed: 0, to: path)
    } throws: { "\($0)".contains(path) && "\($0)".contains("--force") }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("precious".utf8))
    _ = try generateDataset(world: CounterWorld(), episodes: 2, frames: 2, seed: 0, to: path, overwrite: true)
    #expect(try HDF5File(path: path, mode: .readOnly).shape(of: "frames") == [2, 2, 5, 4])
    #expect(dir.contents() == ["set.h5"])
}

@Test func badDestinationsAndArgumentsNameTheProblem() throws {
    let dir = try TempDir()
    defer { dir.cleanup() }
    let missing = dir.path("nope/set.h5")
    #expect { _ = try generateDataset(world: CounterWorld(), episodes: 2, frames: 2, seed: 0, to: missing) }
        throws: { "\($0)".contains(dir.path("nope")) }
    if getuid() != 0 {  // root can write anywhere
        let locked = dir.path("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o555])
        #expect { _ = try generateDataset(world: CounterWorld(), episodes: 2, frames: 2, seed: 0, to: locked + "/x.h5") }
            throws: { "\($0)".contains(locked) && "\($0)".contains("not writable") }
    }
    #expect { _ = try generateDataset(world: CounterWorld(), episodes: 0, frames: 2, seed: 0, to: dir.path("a.h5")) }
        throws: { "\($0)".contains("episodes") }
    #expect { _ = try generateDataset(world: CounterWorld(), episodes: 2, frames: 1, seed: 0, to: dir.path("a.h5")) }
        throws: { "\($0)".contains("at least 2") }
}

@Test func failedGenerationLeavesNothingBehind() throws {
    let dir = try TempDir()
    defer { dir.cleanup() }
    #expect { _ = try generateDataset(world: CounterWorld(truncate: 1), episodes: 5, frames: 3, seed: 0, to: dir.path("bad.h5")) }
        throws: { "\($0)".contains("episode 0") }
    #expect(dir.contents() == [])
}

@Test func violationSetLayout() throws {
    let dir = try TempDir()
    defer { dir.cleanup() }
    let world = CounterWorld()
    let pairs = (0..<3).map { p in
        ViolationRecord(possible: world.episode(index: 2 * p, seed: 5, frames: 4),
                      impossible: world.episode(index: 2 * p + 1, seed: 5, frames: 4), violationFrame: p + 1, category: p % 2)
    }
    let path = dir.path("voe.h5")
    try writeViolationDataset(pairs, world: world, frames: 4, seed: 5, categoryNames: ["teleport", "vanish"], to: path)
    let file = try HDF5File(path: path, mode: .readOnly)
    #expect(try file.readUInt8("impossible").values == [0, 1, 0, 1, 0, 1])
    #expect(try file.readInt64("pair").values == [0, 0, 1, 1, 2, 2])
    #expect(try file.readInt64("category").values == [0, 0, 1, 1, 0, 0])
    #expect(try file.readInt64("violation_frame").values == [1, 1, 2, 2, 3, 3])
    #expect(parseJSONStringArray(try file.stringAttribute("category_names")) == ["teleport", "vanish"])
    #expect(try file.readUInt8("frames", rows: 3..<4).values == pairs[1].impossible.frames)
    #expect(try DatasetInfo(file: file).episodes == 6)
    #expect { try writeViolationDataset(pairs, world: world, frames: 4, seed: 5, categoryNames: ["one"], to: dir.path("v2.h5")) }
        throws: { "\($0)".contains("category 1") }
    #expect(dir.contents() == ["voe.h5"])
}

@Test func h5pyReadsOurFiles() throws {
    guard pythonHas("h5py") else {
        print("note: h5py not installed; skipping tools/check_dataset.py")
        return
    }
    let dir = try TempDir()
    defer { dir.cleanup() }
    let world = CounterWorld(channels: 3)
    _ = try generateDataset(world: world, episodes: 4, frames: 3, seed: 2, to: dir.path("set.h5"))
    let pairs = [ViolationRecord(possible: world.episode(index: 0, seed: 1, frames: 3),
                               impossible: world.episode(index: 1, seed: 1, frames: 3), violationFrame: 2, category: 0)]
    try writeViolationDataset(pairs, world: world, frames: 3, seed: 1, categoryNames: ["x"], to: dir.path("voe.h5"))
    let script = repositoryRoot().appendingPathComponent("tools/check_dataset.py").path
    for name in ["set.h5", "voe.h5"] {
        let (status, output) = runProcess(["python3", script, dir.path(name)])
        #expect(status == 0, "check_dataset.py \(name):\n\(output)")
    }
}
