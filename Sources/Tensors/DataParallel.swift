import Foundation

/// Data parallelism inside one process: a batch is split into equal shards, each shard's forward
/// and backward runs on its own thread with every op inside it serial (one core per shard), and
/// the shards' gradients are summed once, in shard order, so a run is deterministic for a given
/// worker count.
///
/// Terms that are statistics of the whole batch (VICReg variance/covariance, SIGReg) go through
/// `batchStatistic`, which gathers the shards' rows and evaluates the term once on all of them,
/// as VICReg's reference gathers embeddings across GPUs; per-sample random draws go through
/// `batchRandn`. With both, a step computes what one thread computes on the whole batch, up to
/// the order of float sums.
public enum DataParallel {
    /// The shard the current thread is running (nil outside a data-parallel batch).
    @TaskLocal public static var shard: BatchShard?
    /// Where leaf gradients of the current shard go (nil: into the tensors' own `grad`).
    @TaskLocal static var sink: GradientSink?

    /// How many shards a batch of `batch` items is split into with `threads` workers: one per
    /// worker when the batch divides evenly, else 1 (the ops themselves are then threaded).
    public static func workers(forBatch batch: Int, threads: Int = Parallel.threads) -> Int {
        guard shard == nil else { return 1 }   // already inside a shard: its thread has one core
        return threads > 1 && batch >= threads && batch % threads == 0 ? threads : 1
    }

    /// Runs `body` once per shard of a batch of `batch` items split `workers` ways, shards
    /// concurrently on their own threads (shard 0 on the caller's). With one worker, `body` runs
    /// on the whole batch with the ops threaded as usual. Leaf gradients of shard i accumulate into
    /// `sinks[i]` when given. The caller's grad mode carries over to the shards.
    public static func run(batch: Int, workers: Int, sinks: [GradientSink]? = nil, _ body: (BatchShard) -> Void) {
        precondition(workers >= 1 && batch % workers == 0,
                     "DataParallel.run: a batch of \(batch) does not split into \(workers) equal shards")
        precondition(sinks == nil || sinks!.count >= workers, "DataParallel.run: \(sinks!.count) gradient sinks for \(workers) shards")
        let group = ShardGroup(count: workers)
        let per = batch / workers
        let gradMode = GradMode.isEnabled
        WorkerThreads.shared.run(workers) { w in
            let shard = BatchShard(index: w, count: workers, rows: (w * per)..<((w + 1) * per), batch: batch, group: group)
            GradMode.$isEnabled.withValue(gradMode) {
                $shard.withValue(shard) {
                    $sink.withValue(sinks?[w]) {
                        if workers > 1 { Parallel.$localThreads.withValue(1) { body(shard) } } else { body(shard) }
                    }
                }
            }
        }
    }

    /// `body` of each shard of the leading axis, concatenated in order: batch work outside
    /// training (planner candidates, clips to score or embed), split as `workers(forBatch:)`
    /// decides. Differentiable when grad mode is on: a later backward runs through every shard's graph.
    public static func map(batch: Int, _ body: (Range<Int>) -> Tensor) -> Tensor {
        let workers = workers(forBatch: batch)
        if workers == 1 { return body(0..<batch) }
        let results = ShardResults<Tensor>(count: workers)
        run(batch: batch, workers: workers) { shard in results[shard.index] = body(shard.rows) }
        return concat(results.values, axis: 0)
    }

    /// A statistic of the whole batch (a regulariser of embeddings `x` [N, ...] whose rows are
    /// the batch's samples in order): `statistic` maps all rows to a scalar loss (or nil) and
    /// some information, and must depend on nothing but its argument. Outside a data-parallel
    /// batch it is simply applied to `x`. Inside, the shards' rows are gathered (in shard order)
    /// and the statistic is evaluated once; each shard gets its value, with a gradient to its own
    /// rows of `count` × the full gradient, because the step averages the shards' gradients.
    public static func batchStatistic<Info>(_ x: Tensor, _ statistic: (Tensor) -> (loss: Tensor?, info: Info)) -> (loss: Tensor?, info: Info) {
        guard let shard, shard.count > 1 else { return statistic(x) }
        let group = shard.group
        let wantGrad = GradMode.isEnabled && x.requiresGrad
        group.slots[shard.index] = x.detached()
        group.barrier()
        if shard.index == 0 {
            let full = concat(group.slots.map { $0! }, axis: 0)
            full.requiresGrad = wantGrad
            // The other shards wait here, so the statistic may use every core.
            let (loss, info) = $sink.withValue(nil) {
                Parallel.$localThreads.withValue(nil) { GradMode.$isEnabled.withValue(wantGrad) { statistic(full) } }
            }
            if let loss, loss.requiresGrad { loss.backward() }
            group.result = (loss?.item, full.grad, info)
        }
        group.barrier()
        let (value, gradient, anyInfo) = group.result!
        let info = anyInfo as! Info
        guard let value else { return (nil, info) }
        let out = Tensor(scalar: value)
        guard wantGrad, let gradient else { return (out, info) }
        let lo = group.slots[..<shard.index].reduce(0) { $0 + $1!.shape[0] }
        let rows = gradient.slice(axis: 0, lo..<(lo + x.shape[0]))
        let scale = Float(shard.count)
        return (out.recorded("batchStatistic", [x]) { g in [rows * (g.item * scale)] }, info)
    }

    /// Normal draws for the rows of the current shard out of `shape` [B, ...] drawn for the whole
    /// batch (B = the batch the shards split), so a sample's draw does not depend on the worker count.
    public static func batchRandn(_ shape: [Int], using rng: inout RandomGenerator) -> Tensor {
        guard let shard, shard.count > 1, shape.first == shard.rows.count else { return Tensor.randn(shape, using: &rng) }
        let full = Tensor.randn([shard.batch] + shape.dropFirst(), using: &rng)
        return full.slice(axis: 0, shard.rows).copy()
    }
}

/// One shard of a data-parallel batch: its index among `count`, its rows of the batch of `batch`.
public final class BatchShard: @unchecked Sendable {
    public let index: Int, count: Int
    public let rows: Range<Int>
    public let batch: Int
    let group: ShardGroup

    init(index: Int, count: Int, rows: Range<Int>, batch: Int, group: ShardGroup) {
        (self.index, self.count, self.rows, self.batch, self.group) = (index, count, rows, batch, group)
    }
}

/// The meeting point of the shards of one batch: a reusable barrier and the slots of a collective.
final class ShardGroup: @unchecked Sendable {
    let count: Int
    var slots: [Tensor?]
    var result: (Float?, Tensor?, Any)?
    private let condition = NSCondition()
    private var arrived = 0, generation = 0

    init(count: Int) {
        self.count = count
        slots = Array(repeating: nil, count: count)
    }

    /// Returns when all `count` shards have called it (as often as the others).
    func barrier() {
        condition.lock()
        defer { condition.unlock() }
        let mine = generation
        arrived += 1
        if arrived == count {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
    }
}

/// One value per shard, written by the shards concurrently (each its own slot).
public final class ShardResults<T>: @unchecked Sendable {
    private var storage: [T?]
    public init(count: Int) { storage = Array(repeating: nil, count: count) }
    public subscript(i: Int) -> T? {
        get { storage.withUnsafeBufferPointer { $0[i] } }
        set { storage.withUnsafeMutableBufferPointer { $0[i] = newValue } }
    }
    /// All values in shard order; every shard must have written its own.
    public var values: [T] { storage.map { $0! } }
}

/// A shard's gradients of a fixed set of leaf tensors (the trainable parameters), kept apart from
/// the tensors' own `grad` so that shards can run backward at the same time.
public final class GradientSink: @unchecked Sendable {
    let tensors: [Tensor]
    private let index: [ObjectIdentifier: Int]
    private var grads: [Tensor?]

    public init(_ tensors: [Tensor]) {
        self.tensors = tensors
        index = Dictionary(tensors.enumerated().map { (ObjectIdentifier($1), $0) }, uniquingKeysWith: { a, _ in a })
        grads = Array(repeating: nil, count: tensors.count)
    }

    /// Takes `g` for `t` when `t` is one of this sink's tensors.
    func accumulate(_ g: Tensor, for t: Tensor) -> Bool {
        guard let i = index[ObjectIdentifier(t)] else { return false }
        grads[i] = grads[i].map { $0 + g } ?? g
        return true
    }

    /// Adds `scale` × the sum of the sinks' gradients (summed in sink order) to each tensor's
    /// `grad`, and empties the sinks. A tensor no sink received a gradient for keeps its `grad`.
    public static func reduce(_ sinks: [GradientSink], scale: Float) {
        guard let first = sinks.first else { return }
        for (i, t) in first.tensors.enumerated() {
            let parts = sinks.compactMap { $0.grads[i] }
            guard !parts.isEmpty else { continue }
            let sum = Tensor(uninitialized: t.shape)
            let out = sum.ptr, n = t.count
            let sources = parts.map(\.ptr)
            Parallel.forChunks(n, cost: parts.count) { range in
                let src0 = sources[0]
                for j in range { out[j] = src0[j] }
                for src in sources.dropFirst() { for j in range { out[j] += src[j] } }
                if scale != 1 { for j in range { out[j] *= scale } }
            }
            t.grad = t.grad.map { $0 + sum } ?? sum
        }
        for sink in sinks { for i in sink.grads.indices { sink.grads[i] = nil } }
    }
}
