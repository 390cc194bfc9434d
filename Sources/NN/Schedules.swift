import Foundation

/// A value that changes with the training step: learning rates, weight decay, EMA momentum.
public protocol Schedule: Sendable {
    func value(at step: Int) -> Float
}

/// Linear warm-up from `start` to `peak` over `warmupSteps`, then half-cosine decay to `final` at
/// `totalSteps` (held there afterwards) — I-JEPA/V-JEPA's `WarmupCosineSchedule`.
public struct WarmupCosine: Schedule {
    public let start, peak, final: Float
    public let warmupSteps, totalSteps: Int

    public init(start: Float = 0, peak: Float, final: Float = 0, warmupSteps: Int, totalSteps: Int) {
        precondition(warmupSteps >= 0 && totalSteps > warmupSteps, "WarmupCosine: need 0 ≤ warmupSteps (\(warmupSteps)) < totalSteps (\(totalSteps))")
        (self.start, self.peak, self.final, self.warmupSteps, self.totalSteps) = (start, peak, final, warmupSteps, totalSteps)
    }

    public func value(at step: Int) -> Float {
        if step < warmupSteps { return start + (peak - start) * Float(step) / Float(warmupSteps) }
        let progress = Swift.min(1, Double(step - warmupSteps) / Double(totalSteps - warmupSteps))
        return final + (peak - final) * Float(0.5 * (1 + cos(Double.pi * progress)))
    }
}

/// Half-cosine from `start` to `end` over `steps` (held afterwards); e.g. EMA momentum 0.996 → 1.
public struct CosineSchedule: Schedule {
    public let start, end: Float
    public let steps: Int

    public init(from start: Float, to end: Float, steps: Int) {
        precondition(steps > 0, "CosineSchedule: steps must be positive, got \(steps)")
        (self.start, self.end, self.steps) = (start, end, steps)
    }

    public func value(at step: Int) -> Float {
        let progress = Swift.min(1, Double(Swift.max(step, 0)) / Double(steps))
        return end + (start - end) * Float(0.5 * (1 + cos(Double.pi * progress)))
    }
}

/// Straight line from `start` to `end` over `steps` (held afterwards); I-JEPA's momentum schedule.
public struct LinearSchedule: Schedule {
    public let start, end: Float
    public let steps: Int

    public init(from start: Float, to end: Float, steps: Int) {
        precondition(steps > 0, "LinearSchedule: steps must be positive, got \(steps)")
        (self.start, self.end, self.steps) = (start, end, steps)
    }

    public func value(at step: Int) -> Float {
        start + (end - start) * Float(Swift.min(1, Double(Swift.max(step, 0)) / Double(steps)))
    }
}

public struct ConstantSchedule: Schedule {
    public let constant: Float
    public init(_ value: Float) { constant = value }
    public func value(at step: Int) -> Float { constant }
}
