import CBLAS

/// One float32 GEMM case: C[m×n] = op(A)[m×k] · op(B)[k×n], row-major, alpha 1, beta 0.
struct GemmCase: Sendable {
    var name: String
    var m: Int
    var n: Int
    var k: Int
    /// A is stored k×m and used transposed.
    var transA = false
    /// B is stored n×k and used transposed.
    var transB = false

    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    /// Shapes of the operands as stored, with ᵀ marking a transposed operand.
    var shape: String {
        let a = transA ? "(\(k)x\(m))ᵀ" : "\(m)x\(k)"
        let b = transB ? "(\(n)x\(k))ᵀ" : "\(k)x\(n)"
        return "\(a) · \(b)"
    }
}

enum BenchError: Error, CustomStringConvertible {
    case wrongResult(String)
    var description: String {
        switch self {
        case .wrongResult(let what): return "benchmark self-check failed: \(what)"
        }
    }
}

/// A 64-byte-aligned float buffer filled with deterministic values in [-0.5, 0.5).
final class BenchBuffer {
    let count: Int
    let pointer: UnsafeMutablePointer<Float>

    init(count: Int, seed: UInt32) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        var state = seed | 1  // xorshift32, never zero
        for i in 0..<count {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            pointer[i] = Float(state >> 8) / Float(1 << 24) - 0.5
        }
    }

    deinit { pointer.deallocate() }
}

/// Times `cblas_sgemm` on one case with the shared method, then checks a few entries of C
/// against a double-precision dot product (guards against wrong leading dimensions).
func benchSgemm(_ g: GemmCase, section: String, context: BenchContext) throws -> BenchRow {
    let a = BenchBuffer(count: g.m * g.k, seed: 0x9E37_79B9)
    let b = BenchBuffer(count: g.k * g.n, seed: 0x85EB_CA6B)
    let c = BenchBuffer(count: g.m * g.n, seed: 1)
    let lda = g.transA ? g.m : g.k
    let ldb = g.transB ? g.k : g.n
    let stats = Timing.measure(seconds: context.seconds, minReps: context.minReps) {
        cblas_sgemm(CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans,
                    Int32(g.m), Int32(g.n), Int32(g.k), 1, a.pointer, Int32(lda), b.pointer, Int32(ldb),
                    0, c.pointer, Int32(g.n))
    }

    for (i, j) in [(0, 0), (g.m - 1, g.n - 1), (g.m / 2, g.n / 3)] {
        var ref = 0.0, scale = 0.0
        for p in 0..<g.k {
            let x = Double(g.transA ? a.pointer[p * lda + i] : a.pointer[i * lda + p])
            let y = Double(g.transB ? b.pointer[j * ldb + p] : b.pointer[p * ldb + j])
            ref += x * y
            scale += abs(x * y)
        }
        let got = Double(c.pointer[i * g.n + j])
        if abs(got - ref) > 1e-4 * scale + 1e-6 {
            throw BenchError.wrongResult("\(g.name): C[\(i),\(j)] = \(got), expected \(ref)")
        }
    }
    return BenchRow(section: section, name: g.name, shape: g.shape, threads: context.threads,
                    stats: stats, flops: g.flops)
}

/// Raw OpenBLAS sgemm on square sizes, no transposes: the float32 ceiling of this machine.
struct SquareSgemmSection: BenchSection {
    let id = "sgemm-square"
    let title = "raw cblas_sgemm, square, row-major C = A·B"

    func run(_ context: BenchContext) throws -> [BenchRow] {
        OpenBLAS.setThreads(context.threads)
        return try context.sizes.map { n in
            try benchSgemm(GemmCase(name: "square \(n)", m: n, n: n, k: n), section: id, context: context)
        }
    }
}

/// Raw OpenBLAS sgemm on the GEMM shapes of one reference ViT block (dim 192, MLP 768) over a
/// batch of 16 clips × 256 tokens = 4096 rows, plus one weight-gradient shape (A transposed).
struct ModelSgemmSection: BenchSection {
    let id = "sgemm-model"
    let title = "raw cblas_sgemm, ViT-block shapes (16 clips x 256 tokens = 4096 rows)"

    static let cases: [GemmCase] = [
        GemmCase(name: "qkv  fwd", m: 4096, n: 576, k: 192),
        GemmCase(name: "proj fwd", m: 4096, n: 192, k: 192),
        GemmCase(name: "fc1  fwd", m: 4096, n: 768, k: 192),
        GemmCase(name: "fc2  fwd", m: 4096, n: 192, k: 768),
        GemmCase(name: "qkv  dW (Aᵀ)", m: 576, n: 192, k: 4096, transA: true),
    ]

    func run(_ context: BenchContext) throws -> [BenchRow] {
        OpenBLAS.setThreads(context.threads)
        return try Self.cases.map { try benchSgemm($0, section: id, context: context) }
    }
}
