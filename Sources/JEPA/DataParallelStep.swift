import Tensors

/// The forward and backward of a training batch, split over the worker threads when it divides
/// evenly (`DataParallel`): each shard's loss and backward run on one core, the shards' gradients
/// are averaged once in shard order into the trainable tensors' `grad`. With one worker this is
/// exactly `loss(0..<batch)` and its backward.
public final class DataParallelStep {
    let trainable: [Tensor]
    /// One per worker, reused every step.
    private var sinks: [GradientSink] = []

    public init(trainable: [Tensor]) { self.trainable = trainable }

    /// Runs `loss` on each shard's rows of a batch of `batch` and back-propagates it (a shard whose
    /// loss is not finite skips its backward: the caller stops on the batch's value), leaving the
    /// batch's gradient in `grad`. Returns the batch's loss: values averaged over the shards (equal
    /// shards, so the mean of their means), targets in shard order; its `total` carries no graph
    /// when there was more than one shard.
    public func run(batch: Int, workers: Int? = nil, _ loss: (Range<Int>) -> JEPALoss) -> JEPALoss {
        let count = workers ?? DataParallel.workers(forBatch: batch)
        func forwardBackward(_ rows: Range<Int>) -> JEPALoss {
            let value = loss(rows)
            if value.total.item.isFinite { value.total.backward() }
            return value
        }
        if count == 1 { return forwardBackward(0..<batch) }
        while sinks.count < count { sinks.append(GradientSink(trainable)) }
        let results = ShardResults<JEPALoss>(count: count)
        DataParallel.run(batch: batch, workers: count, sinks: sinks) { shard in
            results[shard.index] = forwardBackward(shard.rows)
        }
        GradientSink.reduce(Array(sinks.prefix(count)), scale: 1 / Float(count))
        return JEPALoss.mean(of: results.values)
    }
}

extension JEPALoss {
    /// The loss of a batch from those of its equal shards: every value averaged (batch statistics
    /// are the same in every shard), targets kept in shard order.
    static func mean(of shards: [JEPALoss]) -> JEPALoss {
        let n = Float(shards.count)
        func mean(_ value: (JEPALoss) -> Float) -> Float { shards.reduce(0) { $0 + value($1) } / n }
        func mean(_ value: (JEPALoss) -> Float?) -> Float? {
            value(shards[0]) == nil ? nil : shards.reduce(0) { $0 + value($1)! } / n
        }
        var parts = JEPALoss.Parts(variance: mean { $0.parts.variance }, covariance: mean { $0.parts.covariance },
                                   sigreg: mean { $0.parts.sigreg })
        parts.rollout = mean { $0.parts.rollout }
        parts.inverseDynamics = mean { $0.parts.inverseDynamics }
        parts.copyBaseline = mean { $0.parts.copyBaseline }
        parts.dense = mean { $0.parts.dense }
        parts.proprio = mean { $0.parts.proprio }
        parts.proprioCopyBaseline = mean { $0.parts.proprioCopyBaseline }
        parts.deep = shards[0].parts.deep.map { first in
            first.indices.map { level in shards.reduce(0) { $0 + $1.parts.deep![level] } / n }
        }
        return JEPALoss(total: Tensor(scalar: mean { $0.total.item }), prediction: mean { $0.prediction },
                        parts: parts, targetShards: shards.flatMap(\.targetShards))
    }
}
