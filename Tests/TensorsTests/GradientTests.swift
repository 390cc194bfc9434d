import Testing
@testable import Tensors

/// Random leaf inputs away from zero (so kinks of abs/relu/max are not straddled by ±h).
func leaf(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1, awayFromZero: Bool = false) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let t = Tensor.uniform(shape, low: low, high: high, using: &rng)
    if awayFromZero {
        t.withUnsafeMutableBufferPointer { b in for i in b.indices where Swift.abs(b[i]) < 0.1 { b[i] += b[i] < 0 ? -0.2 : 0.2 } }
    }
    t.requiresGrad = true
    return t
}

func expectGradients(_ inputs: [Tensor], _ f: ([Tensor]) -> Tensor,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    let bad = GradientCheck.mismatches(inputs, f)
    #expect(bad.isEmpty, "gradient mismatches: \(bad.prefix(5))", sourceLocation: sourceLocation)
}

@Suite struct ElementwiseGradients {
    @Test func addSubMulDivWithBroadcasting() {
        let a = leaf([2, 3, 4], seed: 1), b = leaf([3, 1], seed: 2), c = leaf([4], seed: 3, low: 0.5, high: 1.5)
        expectGradients([a, b]) { $0[0] + $0[1] }
        expectGradients([a, b]) { $0[0] - $0[1] }
        expectGradients([a, b]) { $0[0] * $0[1] }
        expectGradients([a, c]) { $0[0] / $0[1] }
        expectGradients([b, a]) { $0[0] * $0[1] }   // broadcast on the left operand
    }

    @Test func scalarOps() {
        let a = leaf([3, 5], seed: 4)
        expectGradients([a]) { ($0[0] * 3 + 1) / 2 - 0.5 }
        expectGradients([a]) { 1 - $0[0] }
        expectGradients([a]) { -$0[0] }
    }

    @Test func unaryOps() {
        let a = leaf([4, 6], seed: 5, awayFromZero: true)
        let pos = leaf([4, 6], seed: 6, low: 0.5, high: 2)
        expectGradients([a]) { $0[0].exp() }
        expectGradients([pos]) { $0[0].log() }
        expectGradients([pos]) { $0[0].sqrt() }
        expectGradients([pos]) { $0[0].pow(1.5) }
        expectGradients([a]) { $0[0].abs() }
        expectGradients([a]) { $0[0].squared() }
        expectGradients([a]) { $0[0].tanh() }
        expectGradients([a]) { $0[0].sin() }
        expectGradients([a]) { $0[0].cos() }
        expectGradients([a]) { $0[0].sigmoid() }
        expectGradients([a]) { $0[0].relu() }
        let spread = Tensor((0..<24).map { Float($0) / 8 - 1.43 }, shape: [4, 6], requiresGrad: true)   // no value within h of ±0.5
        expectGradients([spread]) { $0[0].clamped(-0.5, 0.5) }
        expectGradients([a]) { $0[0].gelu() }
        expectGradients([a]) { $0[0].gelu(approximate: true) }
        expectGradients([a]) { $0[0].silu() }
    }

    @Test func dropoutScalesKeptElements() {
        let a = leaf([8, 8], seed: 7)
        var rng = RandomGenerator(seed: 1)
        let y = a.dropout(0.25, training: true, using: &rng)
        let kept = (0..<a.count).filter { y.ptr[$0] != 0 }
        #expect(kept.count > 32 && kept.count < 64)
        for i in kept { #expect(Swift.abs(y.ptr[i] - a.ptr[i] / 0.75) < 1e-6) }
        expectGradients([a]) { x in var r = RandomGenerator(seed: 9); return x[0].dropout(0.25, training: true, using: &r) }
        #expect(a.dropout(0.25, training: false, using: &rng) === a)
    }
}

@Suite struct ReductionGradients {
    @Test func sumAndMean() {
        let a = leaf([2, 3, 4], seed: 8)
        expectGradients([a]) { $0[0].sum() }
        expectGradients([a]) { $0[0].sum(axes: [1]) }
        expectGradients([a]) { $0[0].sum(axes: [0, 2], keepDims: true) }
        expectGradients([a]) { $0[0].mean(axes: [-1]) }
        expectGradients([a]) { $0[0].mean() }
    }

    @Test func maxAlongAxis() {
        let a = leaf([3, 5], seed: 9)
        expectGradients([a]) { $0[0].max(axis: 1) }
        expectGradients([a]) { $0[0].max(axis: 0, keepDims: true) }
    }

    @Test func sumValues() {
        let t = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(t.sum().item == 21)
        #expect(t.sum(axes: [0]).scalars == [5, 7, 9])
        #expect(t.sum(axes: [1]).scalars == [6, 15])
        #expect(t.mean(axes: [1], keepDims: true).shape == [2, 1])
        #expect(t.max(axis: 1).scalars == [3, 6])
        #expect(t.argmax(axis: 0) == [1, 1, 1])
    }
}

@Suite struct ShapeGradients {
    @Test func reshapePermuteTranspose() {
        let a = leaf([2, 3, 4], seed: 10)
        expectGradients([a]) { $0[0].reshaped([4, -1]) }
        expectGradients([a]) { $0[0].permuted([2, 0, 1]) }
        expectGradients([a]) { $0[0].transposed(0, 2) }
        expectGradients([a]) { $0[0].flattened(from: 1) }
        expectGradients([leaf([3, 1], seed: 11)]) { $0[0].expanded(to: [2, 3, 4]) }
    }

    @Test func sliceConcatStack() {
        let a = leaf([2, 5, 3], seed: 12), b = leaf([2, 2, 3], seed: 13)
        expectGradients([a]) { $0[0].slice(axis: 1, 1..<4) }
        expectGradients([a]) { $0[0].slice(axis: 0, 1..<2) }
        expectGradients([a, b]) { concat([$0[0], $0[1]], axis: 1) }
        expectGradients([a]) { x in stack([x[0], x[0] * 2], axis: 1) }
    }

    @Test func indexSelectAndGather() {
        let a = leaf([3, 4, 2], seed: 14)
        expectGradients([a]) { $0[0].indexSelect(axis: 1, [3, 0, 3]) }
        expectGradients([a]) { $0[0].gather(batchIndices: [[0, 2], [3, 3], [1, 0]]) }
    }

    @Test func permuteValues() {
        let t = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(t.transposed().scalars == [1, 4, 2, 5, 3, 6])
        #expect(concat([t, t], axis: 0).shape == [4, 3])
        #expect(t.slice(axis: 1, 1..<3).scalars == [2, 3, 5, 6])
        let row = t.slice(axis: 0, 1..<2)
        #expect(row.scalars == [4, 5, 6] && row.storage === t.storage)
        #expect(t.gather(batchIndices: [[2, 0], [1, 1]]).scalars == [3, 1, 5, 5])
    }
}

@Suite struct MatrixGradients {
    @Test func matmulAllTransposes() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = leaf(ta ? [2, 4, 3] : [2, 3, 4], seed: 15), b = leaf(tb ? [2, 5, 4] : [2, 4, 5], seed: 16)
            expectGradients([a, b]) { $0[0].matmul($0[1], transposeSelf: ta, transposeOther: tb) }
            let b2 = leaf(tb ? [5, 4] : [4, 5], seed: 17)
            expectGradients([a, b2]) { $0[0].matmul($0[1], transposeSelf: ta, transposeOther: tb) }
        }
    }

    @Test func matmulValues() {
        let a = Tensor([1, 2, 3, 4], shape: [2, 2]), b = Tensor([5, 6, 7, 8], shape: [2, 2])
        #expect(a.matmul(b).scalars == [19, 22, 43, 50])
        #expect(a.matmul(b, transposeSelf: true).scalars == [26, 30, 38, 44])
    }

    @Test func linear() {
        let x = leaf([2, 3, 5], seed: 18), w = leaf([4, 5], seed: 19), b = leaf([4], seed: 20)
        expectGradients([x, w, b]) { $0[0].linear(weight: $0[1], bias: $0[2]) }
        expectGradients([x, w]) { $0[0].linear(weight: $0[1], bias: nil) }
        let r = leaf([2, 3, 4], seed: 21)
        expectGradients([x, w, b, r]) { $0[0].linear(weight: $0[1], bias: $0[2], residual: $0[3]) }
        expectGradients([x, w, r]) { $0[0].linear(weight: $0[1], bias: nil, residual: $0[2]) }
        let fused = x.linear(weight: w, bias: b, residual: r).scalars
        let separate = (x.linear(weight: w, bias: b) + r).scalars
        #expect(zip(fused, separate).allSatisfy { Swift.abs($0 - $1) <= 1e-5 })
    }

    @Test func largeProductsSplitAcrossWorkersMatchOneWorker() {
        var rng = RandomGenerator(seed: 3)
        let a = Tensor.randn([300, 200], using: &rng), b = Tensor.randn([200, 150], using: &rng)
        let split = a.matmul(b)
        let one = Tensor.zeros([300, 150])
        BLAS.gemm(m: 300, n: 150, k: 200, a: a.ptr, lda: 200, b: b.ptr, ldb: 150, c: one.ptr, ldc: 150, threads: 1)
        // Panels may hit different OpenBLAS edge kernels, so the last bits can differ.
        var worst: Float = 0
        for i in 0..<one.count { worst = Swift.max(worst, Swift.abs(split.ptr[i] - one.ptr[i])) }
        #expect(worst < 1e-4)
    }
}

@Suite struct NormalizationGradients {
    @Test func softmaxAndLogSoftmax() {
        let a = leaf([3, 6], seed: 21, low: -2, high: 2)
        expectGradients([a]) { $0[0].softmax() }
        expectGradients([a]) { $0[0].logSoftmax() }
        let s = a.softmax().sum(axes: [1])
        for i in 0..<3 { #expect(Swift.abs(s.ptr[i] - 1) < 1e-6) }
    }

    @Test func layerNorm() {
        let x = leaf([2, 3, 6], seed: 22, low: -2, high: 2), w = leaf([6], seed: 23, low: 0.5, high: 1.5), b = leaf([6], seed: 24)
        expectGradients([x, w, b]) { $0[0].layerNorm(weight: $0[1], bias: $0[2], eps: 1e-5) }
        expectGradients([x]) { $0[0].layerNorm(weight: nil, bias: nil) }
    }
}

@Suite struct AttentionAndConvGradients {
    @Test func selfAttentionPlainAndMasked() {
        let qkv = leaf([2, 5, 12], seed: 25)
        expectGradients([qkv]) { selfAttention(qkv: $0[0], heads: 2) }
        var m = [Float](repeating: 1, count: 25)
        for i in 0..<5 { for j in 0..<5 where j / 2 > i / 2 { m[i * 5 + j] = 0 } }
        let mask = Tensor(m, shape: [5, 5])
        expectGradients([qkv]) { selfAttention(qkv: $0[0], heads: 2, mask: mask) }
        let qkv3 = leaf([2, 5, 18], seed: 30)
        expectGradients([qkv3]) { selfAttention(qkv: $0[0], heads: 3, mask: mask.expanded(to: [2, 5, 5]).detached()) }
    }

    @Test func selfAttentionMatchesComposedOps() {
        let qkv = leaf([2, 4, 12], seed: 26)
        let fused = selfAttention(qkv: qkv, heads: 2)
        let parts = qkv.reshaped([2, 4, 3, 2, 2]).permuted([2, 0, 3, 1, 4])   // (3, B, H, N, hd)
        let q = parts.slice(axis: 0, 0..<1).reshaped([4, 4, 2])
        let k = parts.slice(axis: 0, 1..<2).reshaped([4, 4, 2])
        let v = parts.slice(axis: 0, 2..<3).reshaped([4, 4, 2])
        let att = (q.matmul(k, transposeOther: true) * (1 / Float(2).squareRoot())).softmax()
        let composed = att.matmul(v).reshaped([2, 2, 4, 2]).permuted([0, 2, 1, 3]).reshaped([2, 4, 4])
        for i in 0..<fused.count { #expect(Swift.abs(fused.ptr[i] - composed.ptr[i]) < 1e-5) }
    }

    @Test func conv2d() {
        let x = leaf([2, 3, 6, 5], seed: 27), w = leaf([4, 3, 3, 3], seed: 28), b = leaf([4], seed: 29)
        expectGradients([x, w, b]) { $0[0].conv2d(weight: $0[1], bias: $0[2], stride: 1, padding: 1) }
        expectGradients([x, w, b]) { $0[0].conv2d(weight: $0[1], bias: $0[2], stride: 2, padding: 0) }
        expectGradients([x, w]) { $0[0].conv2d(weight: $0[1], bias: nil, stride: 2, padding: 1) }
    }
}
