/// Settings a section runs with, for one thread count.
struct BenchContext: Sendable {
    /// Worker count under test (OpenBLAS threads for raw sgemm; the toolkit's workers elsewhere).
    var threads: Int
    /// Minimum timed seconds per case (see `Timing.measure`).
    var seconds: Double
    /// Minimum timed calls per case.
    var minReps: Int = Timing.defaultMinReps
    /// Square sizes for the raw sgemm section.
    var sizes: [Int]
}

/// One measured case: a line of the table and an entry of the JSON report.
struct BenchRow: Sendable, Codable {
    var section: String
    var name: String
    /// Free-form shape, e.g. "4096x192 · 192x576".
    var shape: String
    var threads: Int
    var reps: Int
    var medianMs: Double
    var bestMs: Double
    var medianGFLOPS: Double?
    var bestGFLOPS: Double?
    /// Anything else worth a column (a ratio, a check); optional.
    var note: String?

    /// A row from timing statistics; `flops` per call, when known, adds GFLOP/s.
    init(section: String, name: String, shape: String, threads: Int,
         stats: TimingStats, flops: Double? = nil, note: String? = nil) {
        self.section = section
        self.name = name
        self.shape = shape
        self.threads = threads
        self.reps = stats.reps
        self.medianMs = stats.median * 1e3
        self.bestMs = stats.best * 1e3
        if let flops {
            let g = stats.gflops(flops)
            medianGFLOPS = g.median
            bestGFLOPS = g.best
        }
        self.note = note
    }
}

/// A group of benchmark cases. `jepa bench` runs every registered section once per thread count,
/// in order, and prints the rows each returns. To add one, conform a type and append it to
/// `BenchSections.all`; time work with `Timing.measure` so all sections share one method.
protocol BenchSection: Sendable {
    /// Short stable identifier, used by `--sections` and in the JSON report.
    var id: String { get }
    /// One-line title printed above the section's rows.
    var title: String { get }
    func run(_ context: BenchContext) throws -> [BenchRow]
}

enum BenchSections {
    /// Every section, in the order they run.
    static let all: [any BenchSection] = [
        SquareSgemmSection(),
        ModelSgemmSection(),
        ToolkitGemmSection(),
        VitBlockSection(),
        TrainStepSection(),
        CheckpointSection(),
    ]
}
