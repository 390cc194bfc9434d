extension Tensor {
    /// Sum over `axes` (all axes when nil). Negative axes count from the end.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = Set((axes ?? Array(0..<rank)).map { normalizeAxis($0, rank: rank, op: "sum") })
        var kept = shape
        var out: Tensor = self
        // One axis at a time, each as an [outer, r, inner] reduction on contiguous memory.
        for a in ax.sorted() {
            out = reduceAxis(out, a)
            kept[a] = 1
        }
        if ax.isEmpty { out = copy() }
        let finalShape = keepDims ? kept : shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element)
        let result = Tensor(shape: finalShape, storage: out.storage, offset: out.offset)
        let source = shape
        return result.recorded("sum", [self]) { g in [g.reshaped(kept).expanded(to: source)] }
    }

    /// Mean over `axes` (all axes when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = (axes ?? Array(0..<rank)).map { normalizeAxis($0, rank: rank, op: "mean") }
        let n = Set(ax).reduce(1) { $0 * shape[$1] }
        return sum(axes: ax, keepDims: keepDims).scaled(by: 1 / Float(n))
    }

    /// Maximum along one axis; the gradient goes to the (first) arg-max element.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, op: "max")
        let (values, indices) = maxAlong(a)
        var kept = shape
        kept[a] = 1
        let finalShape = keepDims ? kept : shape.enumerated().filter { $0.offset != a }.map(\.element)
        let result = Tensor(shape: finalShape, storage: values.storage)
        let source = shape
        return result.recorded("max", [self]) { g in
            let gx = Tensor.zeros(source)
            let inner = source[(a + 1)...].reduce(1, *), r = source[a]
            for (o, idx) in indices.enumerated() {
                let outer = o / inner, i = o % inner
                gx.ptr[(outer * r + idx) * inner + i] = g.ptr[o]
            }
            return [gx]
        }
    }

    /// Index of the maximum along one axis (no gradient).
    public func argmax(axis: Int) -> [Int] { maxAlong(normalizeAxis(axis, rank: rank, op: "argmax")).1 }

    private func maxAlong(_ a: Int) -> (Tensor, [Int]) {
        let outer = shape[..<a].reduce(1, *), r = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        precondition(r > 0, "max: axis \(a) of shape \(shape) is empty")
        let values = Tensor(uninitialized: [outer * inner])
        var indices = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = ptr[o * r * inner + i], bi = 0
                for k in 1..<r where ptr[(o * r + k) * inner + i] > best {
                    best = ptr[(o * r + k) * inner + i]
                    bi = k
                }
                values.ptr[o * inner + i] = best
                indices[o * inner + i] = bi
            }
        }
        return (values, indices)
    }
}

/// Sums axis `a` of `x` (no autodiff), keeping it as size 1.
private func reduceAxis(_ x: Tensor, _ a: Int) -> Tensor {
    let outer = x.shape[..<a].reduce(1, *), r = x.shape[a], inner = x.shape[(a + 1)...].reduce(1, *)
    var outShape = x.shape
    outShape[a] = 1
    let out = Tensor(uninitialized: outShape)
    let px = x.ptr, po = out.ptr
    if inner == 1 {
        Parallel.forChunks(outer, cost: r) { range in
            for o in range {
                po[o] = RowKernels.sum(px + o * r, r)
            }
        }
    } else if outer == 1 {
        // Column sums: split columns across workers, stream rows.
        Parallel.forChunks(inner, cost: r) { range in
            for i in range { po[i] = 0 }
            for k in 0..<r {
                let row = px + k * inner
                for i in range { po[i] += row[i] }
            }
        }
    } else {
        Parallel.forChunks(outer, cost: r * inner) { range in
            for o in range {
                let dst = po + o * inner
                for i in 0..<inner { dst[i] = 0 }
                for k in 0..<r {
                    let row = px + (o * r + k) * inner
                    for i in 0..<inner { dst[i] += row[i] }
                }
            }
        }
    }
    return out
}
