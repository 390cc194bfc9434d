import CBLAS
import NN
import Tensors

/// The toolkit's own matrix products (`Tensor.linear` / `Tensor.matmul`: single-threaded OpenBLAS
/// calls on panels split across the toolkit's workers) against raw `cblas_sgemm` with OpenBLAS's
/// own threads, on the ViT-block shapes, measured alternately in one run.
struct ToolkitGemmSection: BenchSection {
    let id = "toolkit-gemm"
    let title = "toolkit linear/matmul vs raw cblas_sgemm (same shapes, same thread count)"

    func run(_ context: BenchContext) throws -> [BenchRow] {
        var rng = RandomGenerator(seed: 1)
        var rows: [BenchRow] = []
        for g in ModelSgemmSection.cases {
            OpenBLAS.setThreads(context.threads)
            let raw = try benchSgemm(g, section: id, context: context)
            OpenBLAS.setThreads(1)
            Parallel.threads = context.threads
            let a = Tensor.uniform(g.transA ? [g.k, g.m] : [g.m, g.k], low: -0.5, high: 0.5, using: &rng)
            let b = Tensor.uniform(g.transB ? [g.n, g.k] : [g.k, g.n], low: -0.5, high: 0.5, using: &rng)
            let stats = Timing.measure(seconds: context.seconds, minReps: context.minReps) {
                // A transposed B is a linear layer's weight [out, in]: go through `linear` as a layer does.
                _ = g.transB && !g.transA ? a.linear(weight: b, bias: nil)
                                          : a.matmul(b, transposeSelf: g.transA, transposeOther: g.transB)
            }
            var row = BenchRow(section: id, name: g.name, shape: g.shape, threads: context.threads,
                               stats: stats, flops: g.flops)
            if let ours = row.medianGFLOPS, let theirs = raw.medianGFLOPS {
                row.note = "raw \(fixed(theirs, 1)) GFLOP/s, ours/raw \(fixed(ours / theirs, 2))"
            }
            rows.append(row)
        }
        return rows
    }
}

/// Forward + backward of one pre-norm ViT block at the reference size: batch 16 × 256 tokens,
/// dim 192, 3 heads, MLP ratio 4 — the block `peer_jepa.py --mode block` times in PyTorch.
struct VitBlockSection: BenchSection {
    let id = "vit-block"
    let title = "ViT block forward+backward (batch 16, 256 tokens, dim 192, 3 heads, MLP 4)"
    static let (batch, tokens, dim, heads) = (16, 256, 192, 3)

    /// 3 × (forward FLOPs): 24·n·d² for the linears + 4·n²·d for attention, per clip (as the peer counts).
    static var flops: Double {
        let (n, d) = (Double(tokens), Double(dim))
        return 3 * Double(batch) * (24 * n * d * d + 4 * n * n * d)
    }

    func run(_ context: BenchContext) throws -> [BenchRow] {
        OpenBLAS.setThreads(1)
        Parallel.threads = context.threads
        var rng = RandomGenerator(seed: 0)
        let block = TransformerBlock(Self.dim, heads: Self.heads, mlpRatio: 4, initialization: .vit, rng: &rng)
        let x = Tensor.randn([Self.batch, Self.tokens, Self.dim], using: &rng, requiresGrad: true)
        let upstream = Tensor.randn(x.shape, using: &rng)
        let stats = Timing.measure(seconds: context.seconds, minReps: context.minReps) {
            block.zeroGrad()
            x.grad = nil
            block(x).backward(upstream)
        }
        // Its attention alone (the fused op on the packed qkv): 3 × 4·n²·d per clip.
        let qkv = Tensor.randn([Self.batch, Self.tokens, 3 * Self.dim], using: &rng, requiresGrad: true)
        let attentionUpstream = Tensor.randn([Self.batch, Self.tokens, Self.dim], using: &rng)
        let attention = Timing.measure(seconds: context.seconds, minReps: context.minReps) {
            qkv.grad = nil
            selfAttention(qkv: qkv, heads: Self.heads).backward(attentionUpstream)
        }
        let attentionFlops = 3 * Double(Self.batch) * 4 * Double(Self.tokens * Self.tokens * Self.dim)
        // The six per-head products of that forward and backward through TileGemm alone (no softmax).
        let (n, hd, items) = (Self.tokens, Self.dim / Self.heads, Self.batch * Self.heads)
        let q = Tensor.randn([n, 3 * Self.dim], using: &rng), p = Tensor.randn([n, n], using: &rng)
        let c = Tensor.zeros([n, n]), pack = Tensor.zeros([TileGemm.packCapacity(k: n)])
        let products = Timing.measure(seconds: context.seconds, minReps: context.minReps) {
            for _ in 0..<items {
                TileGemm.gemm(transA: false, transB: true, m: n, n: n, k: hd, alpha: 1, a: q.ptr, lda: 3 * Self.dim,
                              b: q.ptr + Self.dim, ldb: 3 * Self.dim, c: c.ptr, ldc: n, pack: pack.ptr)
                TileGemm.gemm(transA: false, transB: false, m: n, n: hd, k: n, alpha: 1, a: p.ptr, lda: n,
                              b: q.ptr, ldb: 3 * Self.dim, c: c.ptr, ldc: n, pack: pack.ptr)
                TileGemm.gemm(transA: true, transB: false, m: n, n: hd, k: n, alpha: 1, a: p.ptr, lda: n,
                              b: q.ptr, ldb: 3 * Self.dim, c: c.ptr, ldc: n, pack: pack.ptr)
            }
        }
        let productFlops = Double(items) * 3 * 2 * Double(n * n * hd)
        return [BenchRow(section: id, name: "block fwd+bwd", shape: "16x256x192", threads: context.threads,
                         stats: stats, flops: Self.flops),
                BenchRow(section: id, name: "attention fwd+bwd", shape: "16x256x3x64", threads: context.threads,
                         stats: attention, flops: attentionFlops),
                BenchRow(section: id, name: "attention products, 1 thread", shape: "48x(256x256x64)x3", threads: context.threads,
                         stats: products, flops: productFlops)]
    }
}
