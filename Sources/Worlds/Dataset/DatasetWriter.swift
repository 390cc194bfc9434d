import Foundation
import HDF5
import Tensors

/// Writes a dataset file episode by episode, in index order.
///
/// The file is built under a temporary name in the destination's directory and renamed into
/// place by `finish()`, so the destination never holds a half-written file; `abort()` (or
/// deinitialising an unfinished writer) deletes the temporary file.
public final class DatasetWriter {
    public let path: String
    public let episodes: Int
    public let framesPerEpisode: Int
    public let frameShape: [Int]
    public let stateCount: Int
    public let actionCount: Int
    /// Rows per chunk of `states` / `actions` (writes aligned to this are the fastest).
    public let rowsPerStateChunk: Int
    let temporaryPath: String
    let overwrite: Bool
    var file: HDF5File?
    private var finished = false

    /// Bytes of one episode's frames.
    public var episodeFrameBytes: Int { framesPerEpisode * frameShape.reduce(1, *) }

    /// Checks the destination and creates the temporary file with every dataset and attribute.
    /// - Parameters:
    ///   - overwrite: replace an existing file at `path` (otherwise that is an error).
    ///   - compression: gzip level 0–9 for `frames`, `states` and `actions`.
    ///   - rowsPerStateChunk: episodes per chunk of `states`/`actions` (frames: one per chunk).
    public init(path: String, world: any WorldGenerator, episodes: Int, framesPerEpisode: Int, seed: UInt64,
                overwrite: Bool, createdBy: String, compression: Int = DatasetFormat.defaultCompression,
                rowsPerStateChunk: Int = 64) throws {
        guard episodes > 0 else { throw DatasetError("episodes must be positive, got \(episodes)") }
        guard framesPerEpisode >= 2 else { throw DatasetError("frames per episode must be at least 2, got \(framesPerEpisode)") }
        let shape = world.frameShape
        guard shape.count == 3, shape.allSatisfy({ $0 > 0 }) else {
            throw DatasetError("world '\(world.name)' has frame shape \(shape); expected [C, H, W] with positive sizes")
        }
        guard (0...9).contains(compression) else { throw DatasetError("compression level must be 0...9, got \(compression)") }
        self.path = path
        self.episodes = episodes
        self.framesPerEpisode = framesPerEpisode
        self.frameShape = shape
        self.stateCount = world.stateNames.count
        self.actionCount = world.actionNames.count
        self.rowsPerStateChunk = max(1, rowsPerStateChunk)
        self.overwrite = overwrite

        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        try Self.checkDestination(path: path, directory: directory, overwrite: overwrite)
        temporaryPath = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path

        let file: HDF5File
        do {
            file = try HDF5File(path: temporaryPath, mode: .exclusive)
        } catch {
            throw DatasetError("cannot create a file in '\(directory)' for '\(path)': \(error)")
        }
        self.file = file
        do {
            let (c, h, w) = (shape[0], shape[1], shape[2])
            let frameDims = c == 1 ? [episodes, framesPerEpisode, h, w] : [episodes, framesPerEpisode, c, h, w]
            var frameChunks = frameDims
            frameChunks[0] = 1
            try file.createDataset(DatasetFormat.frames, shape: frameDims, type: .uint8, chunks: frameChunks, compression: compression)
            let stateChunk = min(self.rowsPerStateChunk, episodes)
            try file.createDataset(DatasetFormat.states, shape: [episodes, framesPerEpisode, stateCount], type: .float32,
                                   chunks: stateCount > 0 ? [stateChunk, framesPerEpisode, stateCount] : nil,
                                   compression: stateCount > 0 ? compression : nil)
            if actionCount > 0 {
                try file.createDataset(DatasetFormat.actions, shape: [episodes, framesPerEpisode, actionCount], type: .float32,
                                       chunks: [stateChunk, framesPerEpisode, actionCount], compression: compression)
            }
            try file.setAttribute("world", world.name)
            try file.setAttribute("config", world.configJSON)
            try file.setAttribute("state_names", jsonArray(world.stateNames))
            try file.setAttribute("action_names", jsonArray(world.actionNames))
            try file.setAttribute("seed", Int(Int64(bitPattern: seed)))
            try file.setAttribute("episodes", episodes)
            try file.setAttribute("frames_per_episode", framesPerEpisode)
            try file.setAttribute("tool_version", Toolkit.version)
            try file.setAttribute("format_version", DatasetFormat.version)
            try file.setAttribute("created_by", createdBy)
        } catch {
            abort()
            throw error
        }
    }

    deinit { if !finished { abort() } }

    static func checkDestination(path: String, directory: String, overwrite: Bool) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw DatasetError("output '\(path)' is a directory") }
            if !overwrite { throw DatasetError("output '\(path)' already exists (use --force to replace it)") }
        }
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError("output directory '\(directory)' does not exist")
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw DatasetError("output directory '\(directory)' is not writable")
        }
    }

    /// Checks one episode's array sizes against the dataset's.
    func check(_ episode: EpisodeData, index: Int) throws {
        guard episode.frames.count == episodeFrameBytes,
              episode.states.count == framesPerEpisode * stateCount,
              episode.actions.count == framesPerEpisode * actionCount else {
            throw DatasetError("episode \(index): the world produced \(episode.frames.count) frame bytes, "
                + "\(episode.states.count) state and \(episode.actions.count) action values; expected "
                + "\(episodeFrameBytes), \(framesPerEpisode * stateCount) and \(framesPerEpisode * actionCount)")
        }
    }

    /// Writes consecutive episodes starting at row `start`.
    public func write(_ batch: [EpisodeData], start: Int) throws {
        guard let file else { throw DatasetError("\(path): the writer is already closed") }
        guard !batch.isEmpty else { return }
        guard start >= 0, start + batch.count <= episodes else {
            throw DatasetError("episodes \(start)..<\(start + batch.count) are out of range 0..<\(episodes)")
        }
        for (k, episode) in batch.enumerated() { try check(episode, index: start + k) }
        let (c, h, w) = (frameShape[0], frameShape[1], frameShape[2])
        let frameRow = c == 1 ? [framesPerEpisode, h, w] : [framesPerEpisode, c, h, w]
        // Frames one episode (= one chunk) per call: no concatenation copy, each chunk compressed once.
        for (k, episode) in batch.enumerated() {
            try file.writeRows(DatasetFormat.frames, start: start + k, shape: [1] + frameRow, uint8: episode.frames)
        }
        if stateCount > 0 {
            try file.writeRows(DatasetFormat.states, start: start, shape: [batch.count, framesPerEpisode, stateCount],
                               float32: batch.flatMap(\.states))
        }
        if actionCount > 0 {
            try file.writeRows(DatasetFormat.actions, start: start, shape: [batch.count, framesPerEpisode, actionCount],
                               float32: batch.flatMap(\.actions))
        }
    }

    /// Direct access for extra datasets and attributes (e.g. the violation labels) before `finish()`.
    public var hdf5: HDF5File? { file }

    /// Closes the file and renames it to `path`.
    public func finish() throws {
        guard let file else { throw DatasetError("\(path): the writer is already closed") }
        do {
            try file.close()
            self.file = nil
            if !overwrite && FileManager.default.fileExists(atPath: path) {
                throw DatasetError("output '\(path)' appeared while writing; not replacing it (use --force)")
            }
            guard rename(temporaryPath, path) == 0 else {
                throw DatasetError("cannot move the finished file to '\(path)': \(String(cString: strerror(errno)))")
            }
            finished = true
        } catch {
            abort()
            throw error
        }
    }

    /// Discards the temporary file.
    public func abort() {
        try? file?.close()
        file = nil
        finished = true
        unlink(temporaryPath)
    }
}

/// Progress of `generateDataset`, reported after every written batch.
public struct DatasetProgress: Sendable {
    public var episodesDone: Int
    public var episodesTotal: Int
    public var framesDone: Int
    public var elapsedSeconds: Double
    public var framesPerSecond: Double { elapsedSeconds > 0 ? Double(framesDone) / elapsedSeconds : 0 }
    /// Estimated seconds left, from the rate so far.
    public var etaSeconds: Double {
        episodesDone > 0 ? elapsedSeconds * Double(episodesTotal - episodesDone) / Double(episodesDone) : .nan
    }
}

/// What `generateDataset` did.
public struct DatasetSummary: Sendable {
    public var path: String
    public var episodes: Int
    public var frames: Int
    public var seconds: Double
    public var bytes: Int
    public var framesPerSecond: Double { seconds > 0 ? Double(episodes * frames) / seconds : 0 }
}

/// Generates `episodes` episodes of `frames` frames from `world` with `seed` and writes them to `path`.
///
/// Episodes are generated in parallel batches on `threads` workers (default `Parallel.threads`)
/// while the previous batch is compressed and written on another thread, in index order. The
/// file's contents depend only on (world, episodes, frames, seed), never on the thread count.
public func generateDataset(world: any WorldGenerator, episodes: Int, frames: Int, seed: UInt64,
                            to path: String, overwrite: Bool = false, threads: Int? = nil,
                            compression: Int = DatasetFormat.defaultCompression,
                            createdBy: String = CommandLine.arguments.joined(separator: " "),
                            progress: ((DatasetProgress) -> Void)? = nil) throws -> DatasetSummary {
    let workers = max(1, threads ?? Parallel.threads)
    let started = DispatchTime.now().uptimeNanoseconds
    func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9 }
    let writer = try DatasetWriter(path: path, world: world, episodes: episodes, framesPerEpisode: frames, seed: seed,
                                   overwrite: overwrite, createdBy: createdBy, compression: compression)
    do {
        let batchSize = writer.rowsPerStateChunk
        let batchStarts = Array(stride(from: 0, to: episodes, by: batchSize))
        func generate(_ start: Int) -> [EpisodeData] {
            let count = min(batchSize, episodes - start)
            let results = EpisodeSlots(count)
            // Workers take episodes round-robin; each episode is a pure function of (seed, index).
            Parallel.forEach(min(workers, count)) { w in
                var i = w
                while i < count {
                    results.set(i, world.episode(index: start + i, seed: seed, frames: frames))
                    i += min(workers, count)
                }
            }
            return results.values()
        }
        // Pipeline: while batch k is written (one thread, inside HDF5's lock), batch k+1 is generated.
        var pending = generate(batchStarts[0])
        for (k, start) in batchStarts.enumerated() {
            let current = pending
            let writeDone = DispatchSemaphore(value: 0)
            let writeError = ErrorBox()
            let job = UncheckedBox { [writer] in
                do { try writer.write(current, start: start) } catch { writeError.error = error }
                writeDone.signal()
            }
            DispatchQueue.global().async { job.value() }
            if k + 1 < batchStarts.count { pending = generate(batchStarts[k + 1]) }
            writeDone.wait()
            if let error = writeError.error { throw error }
            let done = start + current.count
            progress?(DatasetProgress(episodesDone: done, episodesTotal: episodes, framesDone: done * frames,
                                      elapsedSeconds: elapsed()))
        }
        try writer.finish()
    } catch {
        writer.abort()
        throw error
    }
    let bytes = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    return DatasetSummary(path: path, episodes: episodes, frames: frames, seconds: elapsed(), bytes: bytes)
}

/// Per-index result slots filled by parallel workers (each index written by exactly one worker).
final class EpisodeSlots: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<EpisodeData?>
    private let count: Int
    init(_ count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil, count: count)
    }
    deinit { slots.deinitialize(count: count); slots.deallocate() }
    func set(_ i: Int, _ value: EpisodeData) { slots[i] = value }
    func values() -> [EpisodeData] { (0..<count).map { slots[$0]! } }
}

final class ErrorBox: @unchecked Sendable { var error: Error? }
struct UncheckedBox<T>: @unchecked Sendable { let value: T; init(_ value: T) { self.value = value } }
