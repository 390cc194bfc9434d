/// NumPy-style broadcast of two shapes; a clear failure names both shapes.
public func broadcastShape(_ a: [Int], _ b: [Int], op: String = "broadcast") -> [Int] {
    let r = Swift.max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
        let da = i < r - a.count ? 1 : a[i - (r - a.count)]
        let db = i < r - b.count ? 1 : b[i - (r - b.count)]
        precondition(da == db || da == 1 || db == 1, "\(op): shapes \(a) and \(b) cannot be broadcast together")
        out[i] = Swift.max(da, db)
    }
    return out
}

/// Strides that read `shape` as if broadcast to `target` (0 along broadcast axes).
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let pad = target.count - shape.count
    let s = contiguousStrides(shape)
    return (0..<target.count).map { i in
        i < pad || shape[i - pad] == 1 ? 0 : s[i - pad]
    }
}

enum BinaryOp {
    case add, sub, mul, div

    @inline(__always) func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        }
    }
}

/// Elementwise `a op b` with broadcasting. Fast paths for equal shapes, a scalar side, and a
/// trailing-suffix operand (bias-like); otherwise a strided walk with a constant inner stride.
func broadcastBinary(_ a: Tensor, _ b: Tensor, _ op: BinaryOp, name: String) -> Tensor {
    let outShape = a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape, op: name)
    let out = Tensor(uninitialized: outShape)
    let n = out.count
    let pa = a.ptr, pb = b.ptr, po = out.ptr
    if a.count == n && b.count == n {
        Parallel.forChunks(n) { r in
            switch op {
            case .add: for i in r { po[i] = pa[i] + pb[i] }
            case .sub: for i in r { po[i] = pa[i] - pb[i] }
            case .mul: for i in r { po[i] = pa[i] * pb[i] }
            case .div: for i in r { po[i] = pa[i] / pb[i] }
            }
        }
    } else if b.count == 1 && a.count == n {
        let s = pb[0]
        Parallel.forChunks(n) { r in for i in r { po[i] = op.apply(pa[i], s) } }
    } else if a.count == 1 && b.count == n {
        let s = pa[0]
        Parallel.forChunks(n) { r in for i in r { po[i] = op.apply(s, pb[i]) } }
    } else if a.count == n && isTrailingSuffix(b.shape, of: outShape) {
        let inner = b.count, rows = n / inner
        Parallel.forChunks(rows, cost: inner) { r in
            for row in r {
                let x = pa + row * inner, y = po + row * inner
                for j in 0..<inner { y[j] = op.apply(x[j], pb[j]) }
            }
        }
    } else {
        let sa = broadcastStrides(a.shape, to: outShape), sb = broadcastStrides(b.shape, to: outShape)
        let rank = outShape.count
        let inner = outShape[rank - 1], rows = n / inner
        let ia = sa[rank - 1], ib = sb[rank - 1]
        Parallel.forChunks(rows, cost: inner) { r in
            for row in r {
                var rem = row, oa = 0, ob = 0
                for d in stride(from: rank - 2, through: 0, by: -1) {
                    let idx = rem % outShape[d]
                    rem /= outShape[d]
                    oa += idx * sa[d]
                    ob += idx * sb[d]
                }
                let y = po + row * inner
                for j in 0..<inner { y[j] = op.apply(pa[oa + j * ia], pb[ob + j * ib]) }
            }
        }
    }
    return out
}

/// Whether `shape` (leading 1s ignored) equals the trailing dimensions of `target`.
private func isTrailingSuffix(_ shape: [Int], of target: [Int]) -> Bool {
    var s = shape[...]
    while let f = s.first, f == 1, s.count > 0 { s = s.dropFirst() }
    return s.count <= target.count && Array(s) == Array(target.suffix(s.count))
}

extension Tensor {
    /// Sums a broadcast gradient back down to `shape` (the adjoint of broadcasting).
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let pad = rank - target.count
        precondition(pad >= 0, "sum(toShape:): cannot reduce shape \(shape) to larger rank \(target)")
        var axes: [Int] = Array(0..<pad)
        for i in 0..<target.count where target[i] == 1 && shape[i + pad] != 1 { axes.append(i + pad) }
        return sum(axes: axes, keepDims: true).reshaped(target)
    }

    /// Materialises this tensor broadcast to `target`.
    public func expanded(to target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(broadcastShape(shape, target, op: "expanded(to:)") == target,
                     "expanded(to:): shape \(shape) cannot be broadcast to \(target)")
        let zero = Tensor(repeating: 0, shape: target)
        let out = broadcastBinary(self, zero, .add, name: "expand")
        let source = shape
        return out.recorded("expand", [self]) { g in [g.sum(toShape: source)] }
    }
}

public func + (a: Tensor, b: Tensor) -> Tensor {
    let out = broadcastBinary(a, b, .add, name: "add")
    let sa = a.shape, sb = b.shape
    return out.recorded("add", [a, b]) { g in [g.sum(toShape: sa), g.sum(toShape: sb)] }
}

public func - (a: Tensor, b: Tensor) -> Tensor {
    let out = broadcastBinary(a, b, .sub, name: "sub")
    let sa = a.shape, sb = b.shape
    return out.recorded("sub", [a, b]) { g in [g.sum(toShape: sa), (-g).sum(toShape: sb)] }
}

public func * (a: Tensor, b: Tensor) -> Tensor {
    let out = broadcastBinary(a, b, .mul, name: "mul")
    let da = a.detached(), db = b.detached()
    return out.recorded("mul", [a, b]) { g in
        [a.requiresGrad ? (g * db).sum(toShape: da.shape) : nil,
         b.requiresGrad ? (g * da).sum(toShape: db.shape) : nil]
    }
}

public func / (a: Tensor, b: Tensor) -> Tensor {
    let out = broadcastBinary(a, b, .div, name: "div")
    let da = a.detached(), db = b.detached()
    return out.recorded("div", [a, b]) { g in
        [a.requiresGrad ? (g / db).sum(toShape: da.shape) : nil,
         b.requiresGrad ? (-(g * da) / (db * db)).sum(toShape: db.shape) : nil]
    }
}

public func + (a: Tensor, s: Float) -> Tensor { a.map("addScalar", { $0 + s }, derivative: { _, _ in 1 }) }
public func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
public func * (a: Tensor, s: Float) -> Tensor { a.scaled(by: s) }
public func / (a: Tensor, s: Float) -> Tensor { a.scaled(by: 1 / s) }
public func + (s: Float, a: Tensor) -> Tensor { a + s }
public func * (s: Float, a: Tensor) -> Tensor { a.scaled(by: s) }
public func - (s: Float, a: Tensor) -> Tensor { (-a) + s }
public prefix func - (a: Tensor) -> Tensor { a.scaled(by: -1) }

extension Tensor {
    /// `self * s`, with the gradient scaled alike.
    public func scaled(by s: Float) -> Tensor {
        let out = Tensor(uninitialized: shape)
        let px = ptr, po = out.ptr
        Parallel.forChunks(count) { r in for i in r { po[i] = px[i] * s } }
        return out.recorded("scale", [self]) { g in [g.scaled(by: s)] }
    }
}
