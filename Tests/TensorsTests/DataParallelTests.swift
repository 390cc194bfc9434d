import Foundation
@testable import Tensors
import Testing

@Suite struct DataParallelTests {
    /// A loss of per-sample terms (mean over the batch) plus a statistic of the whole batch: run as
    /// shards on their own threads, with the statistic through `batchStatistic` and the gradients
    /// through sinks averaged in shard order, it gives the whole batch's value and gradient.
    @Test func shardsReproduceTheWholeBatchGradient() {
        var rng = RandomGenerator(seed: 1)
        let x = Tensor.uniform([8, 3], low: -1, high: 1, using: &rng, requiresGrad: true)
        func loss(_ rows: Tensor) -> Tensor {
            let perSample = rows.squared().mean()
            let (statistic, rowsSeen) = DataParallel.batchStatistic(rows) { all in
                let centred = all - all.mean(axes: [0], keepDims: true)
                return (centred.squared().mean(axes: [0]).sqrt().sum(), all.shape[0])
            }
            return perSample + statistic! * Float(rowsSeen / 8)   // the statistic saw all 8 rows (else × 0)
        }
        let whole = loss(x)
        whole.backward()
        let expected = x.grad!.scalars
        x.grad = nil
        for workers in [2, 4] {
            let sinks = (0..<workers).map { _ in GradientSink([x]) }
            let values = ShardResults<Float>(count: workers)
            DataParallel.run(batch: 8, workers: workers, sinks: sinks) { shard in
                let value = loss(x.slice(axis: 0, shard.rows))
                value.backward()
                values[shard.index] = value.item
            }
            #expect(x.grad == nil, "the shards' gradients went to the sinks")
            GradientSink.reduce(sinks, scale: 1 / Float(workers))
            let got = x.grad!.scalars
            x.grad = nil
            #expect(zip(got, expected).allSatisfy { abs($0 - $1) < 1e-5 }, "\(got) vs \(expected)")
            #expect(abs(values.values.reduce(0, +) / Float(workers) - whole.item) < 1e-5)
        }
    }

    /// `map` splits a batch over the workers and concatenates in order; `batchRandn` gives every row
    /// the draw it gets when the batch is drawn whole.
    @Test func mapAndDrawsDoNotDependOnTheWorkerCount() {
        var rng = RandomGenerator(seed: 2)
        let x = Tensor.uniform([6, 4], using: &rng)
        let mapped = DataParallel.map(batch: 6) { rows in (x.slice(axis: 0, rows) * 2).copy() }
        #expect(mapped.scalars == (x * 2).scalars)
        var a = RandomGenerator(seed: 9)
        let whole = Tensor.randn([6, 2], using: &a)
        let draws = ShardResults<Tensor>(count: 3)
        DataParallel.run(batch: 6, workers: 3) { shard in
            var b = RandomGenerator(seed: 9)
            draws[shard.index] = DataParallel.batchRandn([2, 2], using: &b)
        }
        #expect(concat(draws.values, axis: 0).scalars == whole.scalars)
    }

    /// The caller's grad mode reaches the shards, and ops inside a shard of several run serially.
    @Test func shardsInheritGradModeAndRunSerially() {
        let seen = ShardResults<(Bool, Int)>(count: 2)
        noGrad {
            DataParallel.run(batch: 2, workers: 2) { shard in seen[shard.index] = (GradMode.isEnabled, Parallel.threads) }
        }
        #expect(seen.values.allSatisfy { !$0.0 && $0.1 == 1 })
    }
}
