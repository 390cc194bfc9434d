extension Tensor {
    /// The same elements under a new shape (a view sharing storage). One dimension may be -1.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let i = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "reshaped: cannot infer -1 in \(newShape) for \(count) elements (shape \(shape))")
            target[i] = count / known
        }
        precondition(shapeCount(target) == count && !target.contains(where: { $0 < 0 }),
                     "reshaped: shape \(newShape) does not hold the \(count) elements of shape \(shape)")
        if target == shape { return self }
        let out = Tensor(shape: target, storage: storage, offset: offset)
        let source = shape
        return out.recorded("reshape", [self]) { g in [g.reshaped(source)] }
    }

    /// Flattens axes `start...end` into one.
    public func flattened(from start: Int = 0, to end: Int = -1) -> Tensor {
        let s = normalizeAxis(start, rank: rank, op: "flattened"), e = normalizeAxis(end, rank: rank, op: "flattened")
        precondition(s <= e, "flattened: start axis \(start) is after end axis \(end)")
        return reshaped(Array(shape[..<s]) + [shape[s...e].reduce(1, *)] + Array(shape[(e + 1)...]))
    }

    /// Reorders axes (a copy): output axis i is input axis `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        let ax = axes.map { normalizeAxis($0, rank: rank, op: "permuted") }
        precondition(ax.sorted() == Array(0..<rank), "permuted: \(axes) is not a permutation of the \(rank) axes of shape \(shape)")
        if ax == Array(0..<rank) { return self }
        let outShape = ax.map { shape[$0] }
        let inStrides = contiguousStrides(shape)
        let out = stridedCopy(self, shape: outShape, strides: ax.map { inStrides[$0] })
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in ax.enumerated() { inverse[a] = i }
        return out.recorded("permute", [self]) { g in [g.permuted(inverse)] }
    }

    /// Swaps two axes (a copy).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var ax = Array(0..<rank)
        ax.swapAt(normalizeAxis(a, rank: rank, op: "transposed"), normalizeAxis(b, rank: rank, op: "transposed"))
        return permuted(ax)
    }

    /// Elements `range` along `axis`: a view sharing storage when the result is contiguous
    /// (the leading axis, or all axes before it of size 1), otherwise a copy.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, op: "slice")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a],
                     "slice: range \(range) is out of bounds for axis \(a) of size \(shape[a]) (shape \(shape))")
        var outShape = shape
        outShape[a] = range.count
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        let block = range.count * inner
        let out: Tensor
        if outer == 1 {
            out = Tensor(shape: outShape, storage: storage, offset: offset + range.lowerBound * inner)
        } else {
            out = Tensor(uninitialized: outShape)
            for o in 0..<outer {
                (out.ptr + o * block).update(from: ptr + (o * shape[a] + range.lowerBound) * inner, count: block)
            }
        }
        let source = shape
        return out.recorded("slice", [self]) { g in
            let gx = Tensor.zeros(source)
            for o in 0..<outer {
                (gx.ptr + (o * source[a] + range.lowerBound) * inner).update(from: g.ptr + o * block, count: block)
            }
            return [gx]
        }
    }

    /// Selects entries `indices` along `axis` (repeats allowed); the gradient scatter-adds back.
    public func indexSelect(axis: Int, _ indices: [Int]) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, op: "indexSelect")
        let r = shape[a]
        precondition(indices.allSatisfy { $0 >= 0 && $0 < r }, "indexSelect: an index is out of range 0..<\(r) for axis \(a) of shape \(shape)")
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        return selectRows(outer: outer, rows: r, inner: inner, k: indices.count, axis: a, name: "indexSelect") { _ in indices }
    }

    /// Per-batch selection along axis 1: for `self` of shape [B, N, ...] and `indices[b]` of
    /// length K, returns [B, K, ...] with row `indices[b][j]` of batch b at position j
    /// (token selection by a mask). The gradient scatter-adds back.
    public func gather(batchIndices indices: [[Int]]) -> Tensor {
        precondition(rank >= 2, "gather(batchIndices:): needs rank ≥ 2, got shape \(shape)")
        let b = shape[0], n = shape[1]
        precondition(indices.count == b, "gather(batchIndices:): \(indices.count) index lists for batch \(b)")
        let k = indices.first?.count ?? 0
        precondition(indices.allSatisfy { $0.count == k }, "gather(batchIndices:): every batch element needs the same number of indices")
        precondition(indices.allSatisfy { $0.allSatisfy { $0 >= 0 && $0 < n } }, "gather(batchIndices:): an index is out of range 0..<\(n) (shape \(shape))")
        return selectRows(outer: b, rows: n, inner: shape[2...].reduce(1, *), k: k, axis: 1, name: "gather") { indices[$0] }
    }

    /// Viewing `self` as [outer, rows, inner], picks `k` rows per outer index (`indices(o)`), giving
    /// [outer, k, inner] reshaped with `axis` of size k. The gradient scatter-adds back.
    private func selectRows(outer: Int, rows r: Int, inner: Int, k: Int, axis: Int, name: String,
                            _ indices: @escaping (Int) -> [Int]) -> Tensor {
        var outShape = shape
        outShape[axis] = k
        let out = Tensor(uninitialized: outShape)
        let px = ptr, po = out.ptr
        Parallel.forChunks(outer, cost: k * inner) { range in
            for o in range {
                for (j, idx) in indices(o).enumerated() {
                    (po + (o * k + j) * inner).update(from: px + (o * r + idx) * inner, count: inner)
                }
            }
        }
        let source = shape
        return out.recorded(name, [self]) { g in
            let gx = Tensor.zeros(source)
            let pg = g.ptr, pgx = gx.ptr
            Parallel.forChunks(outer, cost: k * inner) { range in
                for o in range {
                    for (j, idx) in indices(o).enumerated() {
                        let dst = pgx + (o * r + idx) * inner, src = pg + (o * k + j) * inner
                        for i in 0..<inner { dst[i] += src[i] }
                    }
                }
            }
            return [gx]
        }
    }
}

/// Joins tensors along `axis`; all other dimensions must agree.
public func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
    precondition(!tensors.isEmpty, "concat: no tensors given")
    let first = tensors[0]
    let a = normalizeAxis(axis, rank: first.rank, op: "concat")
    for t in tensors {
        precondition(t.rank == first.rank && (0..<t.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                     "concat: shape \(t.shape) does not match \(first.shape) outside axis \(a)")
    }
    let sizes = tensors.map { $0.shape[a] }
    var outShape = first.shape
    outShape[a] = sizes.reduce(0, +)
    let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
    let out = Tensor(uninitialized: outShape)
    let total = outShape[a]
    var start = 0
    for (t, s) in zip(tensors, sizes) {
        for o in 0..<outer {
            (out.ptr + (o * total + start) * inner).update(from: t.ptr + o * s * inner, count: s * inner)
        }
        start += s
    }
    return out.recorded("concat", tensors) { g in
        var offset = 0
        return zip(tensors, sizes).map { t, s in
            defer { offset += s }
            return t.requiresGrad ? g.slice(axis: a, offset..<(offset + s)) : nil
        }
    }
}

/// Stacks equally shaped tensors along a new axis.
public func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
    precondition(!tensors.isEmpty, "stack: no tensors given")
    let shape = tensors[0].shape
    let a = normalizeAxis(axis, rank: shape.count + 1, op: "stack")
    var expanded = shape
    expanded.insert(1, at: a)
    return concat(tensors.map { $0.reshaped(expanded) }, axis: a)
}

/// Copies `x` into a new contiguous tensor of `shape`, reading x's element at Σ index·strides.
func stridedCopy(_ x: Tensor, shape: [Int], strides: [Int]) -> Tensor {
    let out = Tensor(uninitialized: shape)
    let rank = shape.count
    let inner = shape[rank - 1], rows = out.count / Swift.max(inner, 1)
    let si = strides[rank - 1]
    let px = x.ptr, po = out.ptr
    Parallel.forChunks(rows, cost: inner) { r in
        for row in r {
            var rem = row, off = 0
            for d in stride(from: rank - 2, through: 0, by: -1) {
                off += (rem % shape[d]) * strides[d]
                rem /= shape[d]
            }
            let y = po + row * inner
            for j in 0..<inner { y[j] = px[off + j * si] }
        }
    }
    return out
}
