import Tensors

/// An exponential moving average of one parameter set into another, paired by name:
/// target ← m·target + (1 − m)·source. The target (e.g. a JEPA target encoder) never receives
/// gradients; it only follows the source.
public final class EMA {
    let target: [NamedParameter]

    /// `target` must hold the same names and shapes as the sources passed to `update`.
    public init(target: [NamedParameter]) {
        self.target = target
        for p in target { p.tensor.requiresGrad = false }
    }

    /// One averaging step with `momentum` m ∈ [0, 1] (1 leaves the target unchanged).
    public func update(from source: [NamedParameter], momentum: Float) {
        precondition(momentum >= 0 && momentum <= 1, "EMA.update: momentum must lie in [0, 1], got \(momentum)")
        let byName = Dictionary(source.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        precondition(byName.count == target.count, "EMA.update: source has \(byName.count) parameters, target \(target.count)")
        let keep = momentum, take = 1 - momentum
        for t in target {
            guard let s = byName[t.name] else { preconditionFailure("EMA.update: source has no parameter \(t.name)") }
            precondition(s.shape == t.tensor.shape, "EMA.update: \(t.name) has shape \(s.shape) in the source, \(t.tensor.shape) in the target")
            let pt = t.tensor.ptr, ps = s.ptr
            forEachChunk(s.count) { r in for i in r { pt[i] = keep * pt[i] + take * ps[i] } }
        }
    }
}
