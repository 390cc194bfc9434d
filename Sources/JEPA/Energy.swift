import Tensors

/// The distance between predicted and target embeddings that training minimises, surprise
/// scores and planners rank by. One definition serves all three.
public enum EnergyDistance: String, Codable, Sendable, CaseIterable {
    /// Mean absolute difference (V-JEPA, and the intuitive-physics surprise).
    case l1
    /// Mean squared difference (I-JEPA's smooth-L1-free variant, DINO-WM, eb_jepa planning).
    case l2
}

/// Energy of predictions against targets of the same shape: the mean over every element of
/// |p − t| (L1) or (p − t)² (L2). Differentiable in `predicted` (targets are usually computed
/// under `noGrad`).
public func energy(predicted: Tensor, target: Tensor, distance: EnergyDistance = .l1) -> Tensor {
    precondition(predicted.shape == target.shape,
                 "energy: predicted shape \(predicted.shape) differs from target shape \(target.shape)")
    let diff = predicted - target
    switch distance {
    case .l1: return diff.abs().mean()
    case .l2: return diff.squared().mean()
    }
}

/// Per-clip energy: the mean over every axis but the first, shape [B].
public func energyPerClip(predicted: Tensor, target: Tensor, distance: EnergyDistance = .l1) -> Tensor {
    precondition(predicted.shape == target.shape,
                 "energyPerClip: predicted shape \(predicted.shape) differs from target shape \(target.shape)")
    let diff = predicted - target
    let d = distance == .l1 ? diff.abs() : diff.squared()
    return d.mean(axes: Array(1..<d.rank))
}
