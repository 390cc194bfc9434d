import ArgumentParser
import Foundation
import Tensors
import Worlds

/// `jepa data bench`: frames/s of the whole dataset pipeline (simulate, render, compress, write).
struct DataBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure frames/s of dataset generation (generateDataset into a temporary file).",
        discussion: "Per compression level: the median of --repeats runs of generateDataset writing to a file in "
            + "--dir (deleted afterwards), plus generation alone (no file) for comparison.")

    @Option(help: ArgumentHelp("World: \(WorldRegistry.names.joined(separator: ", ")).", valueName: "name"))
    var world = "balls"

    @Option(help: "Episodes per run.")
    var episodes = 500

    @Option(help: "Frames per episode.")
    var frames = 32

    @Option(help: ArgumentHelp("gzip levels to compare, comma-separated.", valueName: "n,..."))
    var compression = IntList([DatasetFormat.defaultCompression])

    @Option(help: "Timed runs per case (median reported).")
    var repeats = 3

    @Option(help: ArgumentHelp("Worker threads (default: $JEPA_THREADS, else the core count).", valueName: "n"))
    var threads: Int?

    @Option(help: ArgumentHelp("Directory for the temporary files.", valueName: "dir"))
    var dir = FileManager.default.temporaryDirectory.path

    func validate() throws {
        guard WorldRegistry.names.contains(world) else {
            throw ValidationError("--world: unknown world '\(world)'; known worlds: \(WorldRegistry.names.joined(separator: ", "))")
        }
        try validateCounts(episodes: episodes, frames: frames)
        for level in compression.values where !(0...9).contains(level) { throw ValidationError("--compression: \(level) is not 0...9") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be positive; got \(repeats)") }
        if let threads { try WorkerThreads.validate([threads], source: "--threads") }
        guard access(dir, W_OK) == 0 else { throw ValidationError("--dir: '\(dir)' is not a writable directory") }
    }

    func run() throws {
        if let threads { Parallel.threads = threads } else if let env = try WorkerThreads.fromEnvironment() { Parallel.threads = env[0] }
        let generator = try WorldRegistry.makeWorld(name: world, configJSON: nil)
        let total = Double(episodes * frames)
        say("jepa data bench  world \(world) \(generator.frameShape)  \(episodes) episodes x \(frames) frames  "
            + "\(Parallel.threads) threads  median of \(repeats)")

        // Generation alone, the same parallel split as generateDataset, results dropped.
        var genTimes: [Double] = []
        for r in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            let workers = Parallel.threads
            Parallel.forEach(workers) { w in
                var i = w
                while i < episodes {
                    _ = generator.episode(index: i, seed: UInt64(r), frames: frames)
                    i += workers
                }
            }
            genTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        let genMedian = genTimes.sorted()[repeats / 2]
        say(String(format: "generate only (no file)      %9.0f frames/s", total / genMedian))

        for level in compression.values {
            var times: [Double] = []
            var bytes = 0
            for r in 0..<repeats {
                let path = URL(fileURLWithPath: dir).appendingPathComponent("jepa-data-bench-\(getpid())-\(r).h5").path
                defer { unlink(path) }
                let summary = try generateDataset(world: generator, episodes: episodes, frames: frames, seed: UInt64(r),
                                                  to: path, overwrite: true, compression: level, createdBy: "jepa data bench")
                times.append(summary.seconds)
                bytes = summary.bytes
            }
            let median = times.sorted()[repeats / 2]
            say(String(format: "generateDataset gzip %d        %9.0f frames/s   %.2f s   %.1f MB (%.0f bytes/frame)",
                       level, total / median, median, Double(bytes) / 1e6, Double(bytes) / total))
        }
    }
}
