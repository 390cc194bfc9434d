import ArgumentParser
import Foundation
import HDF5
import Imaging
import Tensors
import Worlds

/// `jepa data`: generate, inspect and benchmark datasets.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Generate and inspect HDF5 datasets of the synthetic worlds.",
        subcommands: [DataGenerate.self, DataPreview.self, DataViolations.self, DataBench.self])
}

/// Options shared by the commands that write a dataset.
struct DataOutputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Output HDF5 file.", valueName: "path"))
    var out: String

    @Flag(help: "Replace an existing output file.")
    var force = false

    @Option(help: ArgumentHelp("Worker threads (default: $JEPA_THREADS, else the core count).", valueName: "n"))
    var threads: Int?

    func validate() throws {
        if let threads { try WorkerThreads.validate([threads], source: "--threads") } else { _ = try WorkerThreads.fromEnvironment() }
        guard !out.isEmpty else { throw ValidationError("--out: empty path") }
        let url = URL(fileURLWithPath: out)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw ValidationError("--out: '\(out)' is a directory") }
            if !force { throw ValidationError("--out: '\(out)' already exists; add --force to replace it") }
        }
        let directory = url.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--out: directory '\(directory)' does not exist")
        }
        guard access(directory, W_OK | X_OK) == 0 else { throw ValidationError("--out: directory '\(directory)' is not writable") }
    }

    /// Applies `--threads` and returns the worker count.
    func workerCount() throws -> Int {
        if let threads { Parallel.threads = threads } else if let env = try WorkerThreads.fromEnvironment() { Parallel.threads = env[0] }
        return Parallel.threads
    }
}

func validateCounts(episodes: Int, frames: Int) throws {
    guard episodes > 0 else { throw ValidationError("--episodes must be positive; got \(episodes)") }
    guard frames >= 2 else { throw ValidationError("--frames must be at least 2; got \(frames)") }
}

func readConfigFile(_ path: String?) throws -> String? {
    guard let path else { return nil }
    do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
        throw ValidationError("--config: cannot read '\(path)': \(error.localizedDescription)")
    }
}

struct DataGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Simulate and render episodes of a world into an HDF5 dataset.",
        discussion: "Episodes are generated in parallel and written in order; the file depends only on "
            + "(world, config, episodes, frames, seed). It is written under a temporary name and renamed at the end.")

    @Option(help: ArgumentHelp("World: \(WorldRegistry.names.joined(separator: ", ")).", valueName: "name"))
    var world: String

    @Option(help: "Number of episodes.")
    var episodes: Int

    @Option(help: "Frames per episode (at least 2).")
    var frames: Int

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("JSON file of world settings; keys left out keep their defaults.", valueName: "file.json"))
    var config: String?

    @Option(help: ArgumentHelp("gzip level for the stored arrays (0-9).", valueName: "level"))
    var compression = DatasetFormat.defaultCompression

    @OptionGroup var output: DataOutputOptions

    func validate() throws {
        guard WorldRegistry.names.contains(world) else {
            throw ValidationError("--world: unknown world '\(world)'; known worlds: \(WorldRegistry.names.joined(separator: ", "))")
        }
        try validateCounts(episodes: episodes, frames: frames)
        guard (0...9).contains(compression) else { throw ValidationError("--compression must be 0...9; got \(compression)") }
    }

    func run() throws {
        let generator = try WorldRegistry.makeWorld(name: world, configJSON: readConfigFile(config))
        let workers = try output.workerCount()
        let bar = ProgressBar(label: "\(world):")
        let summary = try generateDataset(world: generator, episodes: episodes, frames: frames, seed: seed,
                                          to: output.out, overwrite: output.force, threads: workers,
                                          compression: compression, progress: bar.update)
        say(String(format: "wrote %@: %d episodes x %d frames of %@, %.1f MB, %.1f s, %.0f frames/s (%d threads)",
                   summary.path, episodes, frames, generator.frameShape.map(String.init).joined(separator: "x"),
                   Double(summary.bytes) / 1e6, summary.seconds, summary.framesPerSecond, workers))
    }
}

struct DataPreview: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Write a contact sheet (episodes as rows, frames as columns) and one animated GIF per episode.")

    @Option(help: ArgumentHelp("Dataset file.", valueName: "path"))
    var input: String

    @Option(help: ArgumentHelp("Output directory (created if missing).", valueName: "dir"))
    var out: String

    @Option(help: "Episodes to show (the first ones).")
    var episodes = 4

    @Option(help: "Nearest-neighbour upscaling factor (default: 2 for frames up to 64 px, else 1).")
    var scale: Int?

    @Option(help: "GIF frame delay in hundredths of a second.")
    var delay = 8

    func validate() throws {
        guard episodes > 0 else { throw ValidationError("--episodes must be positive; got \(episodes)") }
        if let scale, !(1...16).contains(scale) { throw ValidationError("--scale must be 1...16; got \(scale)") }
        guard (1...65535).contains(delay) else { throw ValidationError("--delay must be 1...65535; got \(delay)") }
        guard FileManager.default.fileExists(atPath: input) else { throw ValidationError("--input: '\(input)' does not exist") }
    }

    func run() throws {
        let file = try HDF5File(path: input, mode: .readOnly)
        let info = try DatasetInfo(file: file)
        let (c, h, w) = (info.frameShape[0], info.frameShape[1], info.frameShape[2])
        let factor = scale ?? (max(h, w) <= 64 ? 2 : 1)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let count = min(episodes, info.episodes)
        let frameSize = c * h * w
        var rows: [[Image]] = []
        for e in 0..<count {
            let pixels = try file.readUInt8(DatasetFormat.frames, rows: e..<(e + 1)).values
            let images = (0..<info.framesPerEpisode).map { t in
                Image(channelsFirst: pixels[(t * frameSize)..<((t + 1) * frameSize)], channels: c, height: h, width: w)
            }
            rows.append(images)
            let gifPath = URL(fileURLWithPath: out).appendingPathComponent("episode_\(e).gif").path
            try writeGIF(frames: images.map { $0.upscaled(by: factor) }, delayCentiseconds: delay, to: gifPath)
        }
        let sheetPath = URL(fileURLWithPath: out).appendingPathComponent("contact_sheet.png").path
        try writePNG(contactSheet(rows, scale: factor), to: sheetPath)
        say("wrote \(sheetPath) (\(count) episodes x \(info.framesPerEpisode) frames, scale \(factor)) and \(count) GIFs episode_<i>.gif")
    }
}

struct DataViolations: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "violations",
        abstract: "Generate violation-of-expectation pairs from the balls world.",
        discussion: "Pair p (category p mod \(ViolationCategory.allCases.count): \(ViolationCategory.allCases.map(\.rawValue).joined(separator: ", "))) "
            + "fills rows 2p (possible) and 2p+1 (impossible), so the file has 2 x --episodes rows.")

    @Option(help: "Number of pairs.")
    var episodes: Int

    @Option(help: "Frames per clip (at least \(BallsViolations.minimumFrames)).")
    var frames: Int

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("JSON file of balls settings; keys left out keep their defaults.", valueName: "file.json"))
    var config: String?

    @OptionGroup var output: DataOutputOptions

    func validate() throws {
        try validateCounts(episodes: episodes, frames: frames)
        guard frames >= BallsViolations.minimumFrames else {
            throw ValidationError("--frames must be at least \(BallsViolations.minimumFrames) for violation clips; got \(frames)")
        }
    }

    func run() throws {
        let world = try BallsWorld(config: WorldRegistry.config(BallsConfig(), overlay: readConfigFile(config)))
        let started = Date()
        try writeViolationSet(world: world, pairs: episodes, frames: frames, seed: seed, to: output.out,
                              overwrite: output.force, workers: output.workerCount())
        say(String(format: "wrote %@: %d pairs (%d clips) x %d frames, %.1f s", output.out, episodes, 2 * episodes, frames,
                   Date().timeIntervalSince(started)))
    }
}

/// Makes `pairs` violation pairs (category p mod the number of categories) in parallel and writes them to `path`.
func writeViolationSet(world: BallsWorld, pairs count: Int, frames: Int, seed: UInt64, to path: String,
                       overwrite: Bool, workers: Int) throws {
    let maker = BallsViolations(world: world)
    let categories = ViolationCategory.allCases
    var pairs = [ViolationPair?](repeating: nil, count: count)
    var errors = [Error?](repeating: nil, count: count)
    let workers = max(1, min(workers, count))
    pairs.withUnsafeMutableBufferPointer { pairSlots in
        errors.withUnsafeMutableBufferPointer { errorSlots in
            let (p, e) = (UncheckedPointer(pairSlots), UncheckedPointer(errorSlots))
            Parallel.forEach(workers) { w in
                var i = w
                while i < count {
                    do {
                        p.buffer[i] = try maker.violationPair(index: i, seed: seed, frames: frames, category: categories[i % categories.count])
                    } catch { e.buffer[i] = error }
                    i += workers
                }
            }
        }
    }
    if let index = errors.firstIndex(where: { $0 != nil }) { throw DataCommandError("pair \(index): \(errors[index]!)") }
    let records = pairs.map { pair in
        ViolationRecord(possible: pair!.possible, impossible: pair!.impossible, violationFrame: pair!.violationFrame,
                        category: categories.firstIndex(of: pair!.category)!)
    }
    try writeViolationDataset(records, world: world, frames: frames, seed: seed, categoryNames: categories.map(\.rawValue),
                              to: path, overwrite: overwrite)
}

/// Lets parallel workers fill disjoint slots of a buffer.
struct UncheckedPointer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
}
