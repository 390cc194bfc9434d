import Foundation
import HDF5
import Tensors

/// Where a `ClipLoader` is: the next batch it will return is batch `batch` of epoch `epoch`.
public struct LoaderPosition: Sendable, Codable, Equatable, Hashable, CustomStringConvertible {
    public var epoch: Int
    public var batch: Int
    public init(epoch: Int, batch: Int) { self.epoch = epoch; self.batch = batch }
    public var description: String { "epoch \(epoch) batch \(batch)" }
}

/// Settings of a `ClipLoader`.
public struct ClipLoaderOptions: Sendable {
    public var batchSize: Int
    /// Frames per clip (after striding).
    public var clipLength: Int
    /// Take every `frameStride`-th frame: a clip spans (clipLength-1)·frameStride+1 stored frames.
    public var frameStride: Int
    /// Clips drawn per episode per epoch (distinct random starts); nil = every valid start.
    public var clipsPerEpisode: Int?
    /// Drop the last, incomplete batch of an epoch.
    public var dropLast: Bool
    /// Epoch e's order is a function of (seed, e) only.
    public var seed: UInt64
    /// Batches prepared ahead on a background thread (0 = none, everything on the caller's thread).
    public var prefetch: Int

    public init(batchSize: Int, clipLength: Int, frameStride: Int = 1, clipsPerEpisode: Int? = nil,
                dropLast: Bool = true, seed: UInt64 = 0, prefetch: Int = 2) {
        self.batchSize = batchSize
        self.clipLength = clipLength
        self.frameStride = frameStride
        self.clipsPerEpisode = clipsPerEpisode
        self.dropLast = dropLast
        self.seed = seed
        self.prefetch = prefetch
    }
}

/// The episode and first stored frame of one clip.
public struct ClipOrigin: Sendable, Equatable, Hashable {
    public var episode: Int
    public var start: Int
    public init(episode: Int, start: Int) { self.episode = episode; self.start = start }
}

/// A batch of clips.
public struct ClipBatch {
    /// float32 in [0, 1], [B, T, C, H, W].
    public var frames: Tensor
    /// [B, T, S].
    public var states: Tensor
    /// [B, T, A], nil for passive worlds.
    public var actions: Tensor?
    /// Where each clip came from.
    public var clips: [ClipOrigin]
    /// The loader position this batch was taken at.
    public var position: LoaderPosition
}

/// A batch before it becomes tensors (Sendable, built on the prefetch thread).
struct RawClipBatch: Sendable {
    var frames: [Float], states: [Float], actions: [Float]
    var clips: [ClipOrigin]
    var position: LoaderPosition
}

/// The pure part of the loader: file metadata, epoch plans, batch assembly. Shared with the
/// prefetch thread (HDF5File serialises its own calls).
final class ClipSource: @unchecked Sendable {  // immutable after init except the plan cache, guarded by `lock`
    let file: HDF5File
    let options: ClipLoaderOptions
    let episodes: Int, framesPerEpisode: Int, frameShape: [Int], stateCount: Int, actionCount: Int
    let startsPerEpisode: Int, clipsPerEpisode: Int, batchesPerEpoch: Int
    private let lock = NSLock()
    private var cachedPlan: (epoch: Int, clips: [ClipOrigin])?

    init(path: String, options: ClipLoaderOptions) throws {
        guard options.batchSize > 0 else { throw DatasetError("batch size must be positive, got \(options.batchSize)") }
        guard options.clipLength > 0 else { throw DatasetError("clip length must be positive, got \(options.clipLength)") }
        guard options.frameStride > 0 else { throw DatasetError("frame stride must be positive, got \(options.frameStride)") }
        guard options.prefetch >= 0 else { throw DatasetError("prefetch must be 0 or more, got \(options.prefetch)") }
        file = try HDF5File(path: path, mode: .readOnly)
        self.options = options
        guard file.exists(DatasetFormat.frames) else { throw DatasetError("\(path): no 'frames' dataset") }
        let shape = try file.shape(of: DatasetFormat.frames)
        guard shape.count == 4 || shape.count == 5 else {
            throw DatasetError("\(path): 'frames' must have rank 4 [N, T, H, W] or 5 [N, T, C, H, W], found shape \(shape)")
        }
        do {
            _ = try file.readUInt8(DatasetFormat.frames, rows: 0..<0)  // checks the stored type is integer
        } catch {
            throw DatasetError("\(path): 'frames' must be uint8 intensities: \(error)")
        }
        episodes = shape[0]
        framesPerEpisode = shape[1]
        frameShape = shape.count == 4 ? [1, shape[2], shape[3]] : Array(shape[2...])
        guard file.exists(DatasetFormat.states) else { throw DatasetError("\(path): no 'states' dataset") }
        let stateShape = try file.shape(of: DatasetFormat.states)
        guard stateShape.count == 3, stateShape[0] == episodes, stateShape[1] == framesPerEpisode else {
            throw DatasetError("\(path): 'states' has shape \(stateShape); expected [\(episodes), \(framesPerEpisode), S]")
        }
        stateCount = stateShape[2]
        if file.exists(DatasetFormat.actions) {
            let actionShape = try file.shape(of: DatasetFormat.actions)
            guard actionShape.count == 3, actionShape[0] == episodes, actionShape[1] == framesPerEpisode else {
                throw DatasetError("\(path): 'actions' has shape \(actionShape); expected [\(episodes), \(framesPerEpisode), A]")
            }
            actionCount = actionShape[2]
        } else {
            actionCount = 0
        }
        let span = (options.clipLength - 1) * options.frameStride + 1
        guard span <= framesPerEpisode else {
            throw DatasetError("\(path): a clip of \(options.clipLength) frames at stride \(options.frameStride) spans \(span) frames, "
                + "but episodes have \(framesPerEpisode)")
        }
        startsPerEpisode = framesPerEpisode - span + 1
        if let k = options.clipsPerEpisode {
            guard k > 0 else { throw DatasetError("clips per episode must be positive, got \(k)") }
            clipsPerEpisode = min(k, startsPerEpisode)
        } else {
            clipsPerEpisode = startsPerEpisode
        }
        let clips = episodes * clipsPerEpisode
        batchesPerEpoch = options.dropLast ? clips / options.batchSize : (clips + options.batchSize - 1) / options.batchSize
        guard batchesPerEpoch > 0 else {
            throw DatasetError("\(path): an epoch has \(clips) clips, fewer than one batch of \(options.batchSize) (drop last is on)")
        }
    }

    /// Every clip of epoch `epoch`, in order: distinct random starts per episode, then one global shuffle.
    func plan(_ epoch: Int) -> [ClipOrigin] {
        lock.lock()
        defer { lock.unlock() }
        if let cachedPlan, cachedPlan.epoch == epoch { return cachedPlan.clips }
        var rng = RandomGenerator(seed: options.seed ^ (0x9E37_79B9_7F4A_7C15 &* UInt64(truncatingIfNeeded: epoch &+ 1)))
        var clips: [ClipOrigin] = []
        clips.reserveCapacity(episodes * clipsPerEpisode)
        for e in 0..<episodes {
            if clipsPerEpisode == startsPerEpisode {
                for s in 0..<startsPerEpisode { clips.append(ClipOrigin(episode: e, start: s)) }
            } else {
                var starts = Array(0..<startsPerEpisode)  // partial Fisher–Yates: first k of a random permutation
                for i in 0..<clipsPerEpisode {
                    starts.swapAt(i, i + rng.int(below: startsPerEpisode - i))
                    clips.append(ClipOrigin(episode: e, start: starts[i]))
                }
            }
        }
        rng.shuffle(&clips)
        cachedPlan = (epoch, clips)
        return clips
    }

    /// Assembles the batch at `position`, reading each episode it needs once.
    func batch(at position: LoaderPosition) throws -> RawClipBatch {
        let clips = plan(position.epoch)
        let lo = position.batch * options.batchSize
        let selected = Array(clips[lo..<min(lo + options.batchSize, clips.count)])
        let t = options.clipLength, stride = options.frameStride
        let frameSize = frameShape.reduce(1, *)
        var frames = [Float](repeating: 0, count: selected.count * t * frameSize)
        var states = [Float](repeating: 0, count: selected.count * t * stateCount)
        var actions = [Float](repeating: 0, count: actionCount > 0 ? selected.count * t * actionCount : 0)
        // Group the clips by episode, so each episode is read (and decompressed) once per batch.
        var byEpisode: [Int: [Int]] = [:]
        for (b, clip) in selected.enumerated() { byEpisode[clip.episode, default: []].append(b) }
        for episode in byEpisode.keys.sorted() {
            let rows = episode..<(episode + 1)
            let pixels = try file.readUInt8(DatasetFormat.frames, rows: rows).values
            let stateValues = stateCount > 0 ? try file.readFloat32(DatasetFormat.states, rows: rows).values : []
            let actionValues = actionCount > 0 ? try file.readFloat32(DatasetFormat.actions, rows: rows).values : []
            for b in byEpisode[episode]! {
                let start = selected[b].start
                for k in 0..<t {
                    let source = start + k * stride
                    let src = source * frameSize, dst = (b * t + k) * frameSize
                    for i in 0..<frameSize { frames[dst + i] = unitIntensity[Int(pixels[src + i])] }
                    for i in 0..<stateCount { states[(b * t + k) * stateCount + i] = stateValues[source * stateCount + i] }
                    for i in 0..<actionCount { actions[(b * t + k) * actionCount + i] = actionValues[source * actionCount + i] }
                }
            }
        }
        return RawClipBatch(frames: frames, states: states, actions: actions, clips: selected, position: position)
    }

    func advance(_ p: LoaderPosition) -> LoaderPosition {
        p.batch + 1 < batchesPerEpoch ? LoaderPosition(epoch: p.epoch, batch: p.batch + 1) : LoaderPosition(epoch: p.epoch + 1, batch: 0)
    }

    /// `p` advanced `n` times.
    func advanced(_ p: LoaderPosition, by n: Int) -> LoaderPosition {
        (0..<n).reduce(p) { position, _ in advance(position) }
    }
}

/// x / 255 for every byte x (exactly what `Float(x) / 255` gives).
let unitIntensity: [Float] = (0..<256).map { Float($0) / 255 }

/// A bounded queue filled by one background thread, producing batches from a start position on.
///
/// The thread runs in Linux's idle scheduling class: it gets a core only when nothing else wants
/// one. Training keeps every core busy except at the shards' barriers and the serial optimiser
/// step, so the next batch is read in those gaps instead of taking a core from a shard (which the
/// other shards would then wait for). A consumer that finds the queue empty waits for the thread
/// (its own core is then free for it, and what the thread has read so far is kept), but only for
/// a few times what a batch costs the thread: on a machine busy with other work an idle-class
/// thread may not run for a long time, and an unprivileged thread cannot be lifted out of that
/// class, so then the consumer reads the batch itself and the thread drops or skips that position.
final class Prefetcher: @unchecked Sendable {  // all mutable state guarded by `condition`
    private let condition = NSCondition()
    private let source: ClipSource
    private let capacity: Int
    /// Batches from `consumerNext` on, in order.
    private var queue: [Result<RawClipBatch, Error>] = []
    /// The position the consumer asks for next, and the next one the thread will read.
    private var consumerNext: LoaderPosition, loaderNext: LoaderPosition
    private var stopped = false
    /// CPU seconds the thread spent on its last batch (nil before its first).
    private var batchCPUSeconds: Double?
    /// A fixed wait for an empty queue instead of the one from `batchCPUSeconds` (tests).
    private let patience: Double?

    init(source: ClipSource, from position: LoaderPosition, capacity: Int, patience: Double? = nil) {
        self.source = source
        self.capacity = capacity
        self.patience = patience
        consumerNext = position
        loaderNext = position
        let thread = Thread { [self] in
            Prefetcher.enterIdleClass()
            run()
        }
        thread.name = "ClipLoader.prefetch"
        thread.start()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.count >= capacity && !stopped { condition.wait() }
            if stopped { condition.unlock(); return }
            let position = loaderNext
            loaderNext = source.advance(position)
            condition.unlock()
            let start = threadCPUSeconds()
            let result = Result { try source.batch(at: position) }
            let spent = threadCPUSeconds() - start
            condition.lock()
            batchCPUSeconds = spent
            let wanted = position == source.advanced(consumerNext, by: queue.count)   // else the consumer read it itself
            if wanted {
                queue.append(result)
                condition.broadcast()
            }
            condition.unlock()
            if wanted, case .failure = result { return }
        }
    }

    /// CPU time of the calling thread.
    private func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Moves the calling thread into Linux's idle scheduling class (elsewhere, nothing).
    private static func enterIdleClass() {
        #if os(Linux)
        let schedIdle: Int32 = 5   // SCHED_IDLE (<sched.h>, declared only under _GNU_SOURCE)
        var parameters = sched_param()
        _ = pthread_setschedparam(pthread_self(), schedIdle, &parameters)
        #endif
    }

    func next() throws -> RawClipBatch {
        condition.lock()
        let position = consumerNext
        if queue.isEmpty {
            let deadline = Date(timeIntervalSinceNow: patience ?? max(0.02, 4 * (batchCPUSeconds ?? 0.05)))
            while queue.isEmpty && condition.wait(until: deadline) {}
        }
        consumerNext = source.advance(position)
        if !queue.isEmpty {
            let result = queue.removeFirst()
            condition.broadcast()
            condition.unlock()
            return try result.get()
        }
        if loaderNext == position { loaderNext = consumerNext }   // not started: the thread skips it
        condition.unlock()
        return try source.batch(at: position)
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Random clips from a dataset file that need not fit in memory.
///
/// Each epoch takes `clipsPerEpisode` distinct random starts from every episode (or every valid
/// start) and shuffles all clips together; the order is a function of (seed, epoch), so a loader
/// moved to a position with `seek(to:)` yields exactly the batches an uninterrupted one would.
/// Each batch reads only the episodes (rows of the datasets) it needs. Epochs follow each other
/// without end; `position` tells where the loader is.
public final class ClipLoader {
    let source: ClipSource
    public var options: ClipLoaderOptions { source.options }
    public var path: String { source.file.path }
    public var episodes: Int { source.episodes }
    public var framesPerEpisode: Int { source.framesPerEpisode }
    /// [C, H, W] of one frame.
    public var frameShape: [Int] { source.frameShape }
    public var stateCount: Int { source.stateCount }
    public var actionCount: Int { source.actionCount }
    public var batchesPerEpoch: Int { source.batchesPerEpoch }
    /// Clips in one epoch.
    public var clipsPerEpoch: Int { source.episodes * source.clipsPerEpisode }
    /// Position of the batch the next `next()` returns.
    public private(set) var position: LoaderPosition
    private var prefetcher: Prefetcher?

    public init(path: String, options: ClipLoaderOptions, position: LoaderPosition = LoaderPosition(epoch: 0, batch: 0)) throws {
        source = try ClipSource(path: path, options: options)
        self.position = LoaderPosition(epoch: 0, batch: 0)
        try seek(to: position)
    }

    deinit { prefetcher?.stop() }

    /// Moves to `position`; the next batch is that one.
    public func seek(to position: LoaderPosition) throws {
        guard position.epoch >= 0, (0..<batchesPerEpoch).contains(position.batch) else {
            throw DatasetError("position \(position) is out of range: an epoch has \(batchesPerEpoch) batches")
        }
        prefetcher?.stop()
        prefetcher = nil
        self.position = position
        if source.options.prefetch > 0 {
            prefetcher = Prefetcher(source: source, from: position, capacity: source.options.prefetch)
        }
    }

    /// The batch at `position`, then advances.
    public func next() throws -> ClipBatch {
        let raw: RawClipBatch
        do {
            raw = try prefetcher?.next() ?? source.batch(at: position)
        } catch {
            try? seek(to: position)  // the prefetch thread stops at an error; restart it for a retry
            throw error
        }
        precondition(raw.position == position, "prefetch out of step")
        position = source.advance(position)
        let b = raw.clips.count, t = source.options.clipLength
        return ClipBatch(
            frames: Tensor(raw.frames, shape: [b, t] + source.frameShape),
            states: Tensor(raw.states, shape: [b, t, source.stateCount]),
            actions: source.actionCount > 0 ? Tensor(raw.actions, shape: [b, t, source.actionCount]) : nil,
            clips: raw.clips, position: raw.position)
    }

    /// The clip origins of every batch of `epoch`, without reading any frames.
    public func plan(epoch: Int) -> [ClipOrigin] { source.plan(epoch) }
}
