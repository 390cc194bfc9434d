import NN
import Tensors

/// How the latent variable z of a clip is chosen: none (z = 0), the best of sampled candidates
/// (z = 0 and `count − 1` draws from N(0, I)), or gradient descent on z from 0.
public enum LatentInference: Sendable {
    case zero
    case sampled(count: Int, seed: UInt64)
    case optimized(steps: Int, learningRate: Float)
}

/// The latent z [B, k] minimising each clip's `energy(z)` [B] + `penalty`·|z|² under `inference`.
/// `energy` must be differentiable in z for `.optimized`; the descent touches only z, so the
/// gradients it leaves on `model`'s parameters are dropped. The result carries no graph.
public func minimizingLatent(batch b: Int, size k: Int, penalty: Float, inference: LatentInference,
                             model: Module, energy: (Tensor) -> Tensor) -> Tensor {
    switch inference {
    case .zero:
        return Tensor.zeros([b, k])
    case .sampled(let count, let seed):
        var rng = RandomGenerator(seed: seed ^ 0x1a7e_47)
        var best = [Float](repeating: 0, count: b * k)
        var bestCost = [Float](repeating: .infinity, count: b)
        for candidate in 0..<max(count, 1) {
            let z = candidate == 0 ? Tensor.zeros([b, k]) : DataParallel.batchRandn([b, k], using: &rng)
            let e = noGrad { energy(z) }.scalars
            let values = z.scalars
            for i in 0..<b {
                let row = values[(i * k)..<((i + 1) * k)]
                let cost = e[i] + penalty * row.reduce(0) { $0 + $1 * $1 }
                if cost < bestCost[i] { bestCost[i] = cost; best.replaceSubrange((i * k)..<((i + 1) * k), with: row) }
            }
        }
        return Tensor(best, shape: [b, k])
    case .optimized(let steps, let learningRate):
        let z = Tensor.zeros([b, k], requiresGrad: true)
        for _ in 0..<steps {
            z.grad = nil
            (energy(z).sum() + (z * z).sum() * penalty).backward()
            guard let g = z.grad else { break }
            z.assign(z.detached() - g * learningRate)
        }
        model.zeroGrad()
        return z.detached()
    }
}
