import Foundation

extension Tensor {
    /// Softmax over the last axis (fused, numerically stable).
    public func softmax() -> Tensor {
        let d = shape.last ?? 1, rows = count / Swift.max(d, 1)
        let out = Tensor(uninitialized: shape)
        let px = ptr, po = out.ptr
        Parallel.forChunks(rows, cost: d * 4) { r in
            for i in r { softmaxRow(px + i * d, po + i * d, d) }
        }
        let y = out.detached()
        return out.recorded("softmax", [self]) { g in
            // dx = y ⊙ (g − Σ g⊙y)
            let gx = Tensor(uninitialized: g.shape)
            let pg = g.ptr, py = y.ptr, pgx = gx.ptr
            Parallel.forChunks(rows, cost: d * 2) { r in
                for i in r {
                    let gi = pg + i * d, yi = py + i * d, o = pgx + i * d
                    let dot = RowKernels.dot(gi, yi, d)
                    for j in 0..<d { o[j] = yi[j] * (gi[j] - dot) }
                }
            }
            return [gx]
        }
    }

    /// Log-softmax over the last axis (fused, numerically stable).
    public func logSoftmax() -> Tensor {
        let d = shape.last ?? 1, rows = count / Swift.max(d, 1)
        let out = Tensor(uninitialized: shape)
        let px = ptr, po = out.ptr
        Parallel.forChunks(rows, cost: d * 4) { r in
            for i in r {
                let x = px + i * d, y = po + i * d
                let m = RowKernels.max(x, d)
                for j in 0..<d { y[j] = FastMath.exp(x[j] - m) }
                let lse = m + Foundation.log(RowKernels.sum(y, d))
                for j in 0..<d { y[j] = x[j] - lse }
            }
        }
        let y = out.detached()
        return out.recorded("logSoftmax", [self]) { g in
            // dx = g − softmax(x) · Σ g
            let gx = Tensor(uninitialized: g.shape)
            let pg = g.ptr, py = y.ptr, pgx = gx.ptr
            Parallel.forChunks(rows, cost: d * 4) { r in
                for i in r {
                    let gi = pg + i * d, yi = py + i * d, o = pgx + i * d
                    let s = RowKernels.sum(gi, d)
                    for j in 0..<d { o[j] = gi[j] - FastMath.exp(yi[j]) * s }
                }
            }
            return [gx]
        }
    }

    /// Layer normalisation over the last axis, with optional affine `weight` and `bias` ([D]).
    /// Fused: one pass for statistics and output, one for the backward.
    public func layerNorm(weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
        let d = shape.last ?? 1, rows = count / Swift.max(d, 1)
        if let weight { precondition(weight.shape == [d], "layerNorm: weight shape \(weight.shape), expected [\(d)] for input \(shape)") }
        if let bias { precondition(bias.shape == [d], "layerNorm: bias shape \(bias.shape), expected [\(d)] for input \(shape)") }
        let out = Tensor(uninitialized: shape)
        let mean = Tensor(uninitialized: [rows]), rstd = Tensor(uninitialized: [rows])
        let px = ptr, po = out.ptr, pm = mean.ptr, pr = rstd.ptr
        let pw = weight?.ptr, pb = bias?.ptr
        Parallel.forChunks(rows, cost: d * 3) { r in
            for i in r {
                let x = px + i * d, y = po + i * d
                let mu = RowKernels.sum(x, d) / Float(d)
                let v = RowKernels.sumSquaredDeviations(x, d, from: mu)
                let rs = 1 / (v / Float(d) + eps).squareRoot()
                pm[i] = mu
                pr[i] = rs
                switch (pw, pb) {
                case let (w?, b?): for j in 0..<d { y[j] = (x[j] - mu) * rs * w[j] + b[j] }
                case let (w?, nil): for j in 0..<d { y[j] = (x[j] - mu) * rs * w[j] }
                case let (nil, b?): for j in 0..<d { y[j] = (x[j] - mu) * rs + b[j] }
                case (nil, nil): for j in 0..<d { y[j] = (x[j] - mu) * rs }
                }
            }
        }
        let x = detached()
        var inputs = [self]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let needX = requiresGrad, needW = weight?.requiresGrad ?? false, needB = bias?.requiresGrad ?? false
        return out.recorded("layerNorm", inputs) { g in
            let pg = g.ptr, px = x.ptr, pm = mean.ptr, pr = rstd.ptr
            let pw = weight?.ptr
            var gx: Tensor? = nil
            if needX {
                // dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)), with ĝ = g ⊙ weight.
                let t = Tensor(uninitialized: x.shape)
                let pt = t.ptr
                Parallel.forChunks(rows, cost: d * 4) { r in
                    for i in r {
                        let gi = pg + i * d, xi = px + i * d, o = pt + i * d
                        let mu = pm[i], rs = pr[i]
                        let (sumG, sumGX) = RowKernels.layerNormGradientSums(gi, pw, xi, d, mean: mu)
                        let sg = sumG / Float(d), sgx = sumGX * rs / Float(d)
                        for j in 0..<d {
                            let gh = gi[j] * (pw?[j] ?? 1)
                            o[j] = rs * (gh - sg - (xi[j] - mu) * rs * sgx)
                        }
                    }
                }
                gx = t
            }
            var gw: Tensor? = nil, gb: Tensor? = nil
            if needW || needB {
                // Per-worker partial column sums, then one reduction.
                let workers = Swift.max(1, Swift.min(Parallel.threads, rows * d / Parallel.minParallelElements))
                let partial = Tensor.zeros([workers, 2, d])
                let pp = partial.ptr
                Parallel.forEach(workers) { w in
                    let sw = pp + w * 2 * d, sb = sw + d
                    for i in (rows * w / workers)..<(rows * (w + 1) / workers) {
                        let gi = pg + i * d, xi = px + i * d
                        let mu = pm[i], rs = pr[i]
                        for j in 0..<d {
                            sw[j] += gi[j] * (xi[j] - mu) * rs
                            sb[j] += gi[j]
                        }
                    }
                }
                let sums = partial.sum(axes: [0])
                if needW { gw = sums.slice(axis: 0, 0..<1).reshaped([d]) }
                if needB { gb = sums.slice(axis: 0, 1..<2).reshaped([d]) }
            }
            var grads: [Tensor?] = [gx]
            if weight != nil { grads.append(gw) }
            if bias != nil { grads.append(gb) }
            return grads
        }
    }
}

/// Stable softmax of one row; a row of all −∞ (fully masked) becomes zeros rather than NaN.
@inline(__always)
func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ d: Int) {
    let m = RowKernels.max(x, d)
    if m == -Float.infinity {
        for j in 0..<d { y[j] = 0 }
        return
    }
    for j in 0..<d { y[j] = FastMath.exp(x[j] - m) }
    let inv = 1 / RowKernels.sum(y, d)
    for j in 0..<d { y[j] *= inv }
}
