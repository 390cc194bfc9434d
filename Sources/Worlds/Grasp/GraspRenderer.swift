/// Draws a `GraspState` into a one-channel frame [1, height, width], black background.
///
/// Floor rows (y ≥ floorY) at `floorIntensity`; blocks as filled axis-aligned squares at `blockIntensity`;
/// balls as anti-aliased discs, pixel = ballIntensity · clamp(r + 0.5 − d, 0, 1) with d the distance from
/// the pixel centre to the ball centre (max-blended); the gripper on top at `gripperIntensity`: a palm bar
/// spanning both fingers and two vertical fingers whose gap is the opening. A filled rectangle covers the
/// pixels whose centres lie inside it.
public struct GraspRenderer: Sendable {
    public let config: GraspConfig
    public init(config: GraspConfig) { self.config = config }

    public func render(state: GraspState, into frame: inout [UInt8]) {
        let n = config.width * config.height
        if frame.count != n { frame = [UInt8](repeating: 0, count: n) }
        frame.withUnsafeMutableBufferPointer { render(state: state, pixels: $0.baseAddress!) }
    }

    /// Renders into `width·height` bytes at `p` (overwrites every pixel). A separate label from
    /// `render(state:into:)` so that `&array` never silently converts to a pointer.
    public func render(state: GraspState, pixels p: UnsafeMutablePointer<UInt8>) {
        let c = config, w = c.width, h = c.height
        p.update(repeating: 0, count: w * h)
        if c.floorThickness > 0 && c.floorIntensity > 0 {
            (p + (h - c.floorThickness) * w).update(repeating: UInt8(c.floorIntensity), count: c.floorThickness * w)
        }
        for o in state.objects {
            switch o.kind {
            case .block: fillRect(p, o.left, o.top, o.right, o.bottom, UInt8(c.blockIntensity))
            case .ball: disc(p, o.x, o.y, o.size, Float(c.ballIntensity))
            }
        }
        let g = UInt8(c.gripperIntensity)
        let gx = state.gripperX, gy = state.gripperY, half = state.opening / 2
        let outer = half + c.fingerWidth
        fillRect(p, gx - outer, gy - c.palmHalf, gx + outer, gy + c.palmHalf, g)
        fillRect(p, gx - outer, gy + c.palmHalf, gx - half, gy + c.reach, g)
        fillRect(p, gx + half, gy + c.palmHalf, gx + outer, gy + c.reach, g)
    }

    /// First pixel index whose centre is ≥ v, i.e. ceil(v − 0.5), clamped to [0, limit].
    @inline(__always) private func firstCentre(_ v: Float, _ limit: Int) -> Int {
        let i = (v - 0.5).rounded(.up)
        return i <= 0 ? 0 : (i >= Float(limit) ? limit : Int(i))
    }

    @inline(__always) private func fillRect(_ p: UnsafeMutablePointer<UInt8>, _ x0: Float, _ y0: Float, _ x1: Float, _ y1: Float, _ v: UInt8) {
        let w = config.width, h = config.height
        let c0 = firstCentre(x0, w), c1 = firstCentre(x1, w)
        let r0 = firstCentre(y0, h), r1 = firstCentre(y1, h)
        guard c1 > c0 && r1 > r0 else { return }
        for r in r0..<r1 { (p + r * w + c0).update(repeating: v, count: c1 - c0) }
    }

    @inline(__always) private func disc(_ p: UnsafeMutablePointer<UInt8>, _ cx: Float, _ cy: Float, _ radius: Float, _ v: Float) {
        let w = config.width, h = config.height
        let c0 = firstCentre(cx - radius - 0.5, w), c1 = firstCentre(cx + radius + 0.5, w)
        let r0 = firstCentre(cy - radius - 0.5, h), r1 = firstCentre(cy + radius + 0.5, h)
        guard c1 > c0 && r1 > r0 else { return }
        for r in r0..<r1 {
            let dy = Float(r) + 0.5 - cy
            let row = p + r * w
            for col in c0..<c1 {
                let dx = Float(col) + 0.5 - cx
                let a = min(1, max(0, radius + 0.5 - (dx * dx + dy * dy).squareRoot()))
                let value = UInt8((a * v).rounded())
                if value > row[col] { row[col] = value }
            }
        }
    }
}
