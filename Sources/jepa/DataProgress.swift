import Foundation
import Worlds

/// Data generation's progress: a bar and a count redrawn in place on a terminal, otherwise one line
/// per ~10% (so logs stay short).
final class ProgressBar: @unchecked Sendable {  // only used from the thread that runs generateDataset
    let label: String
    private let line = CountLine()

    init(label: String) { self.label = label }

    func update(_ p: DatasetProgress) {
        let fraction = Double(p.episodesDone) / Double(max(1, p.episodesTotal))
        let eta = p.etaSeconds.isFinite ? String(format: "%.0f s", p.etaSeconds) : "?"
        let text = String(format: "%@ %d/%d episodes (%3.0f%%)  %.0f frames/s  ETA %@",
                          label, p.episodesDone, p.episodesTotal, fraction * 100, p.framesPerSecond, eta)
        let width = 24, filled = Int(fraction * Double(width))
        let bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
        line.show(text, done: p.episodesDone, total: p.episodesTotal, terminalPrefix: bar)
    }
}

/// A count of work done: redrawn in place on a terminal; in a log, a line per ~10% of the total.
final class CountLine {
    let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastDecile = -1

    func show(_ text: String, done: Int, total: Int, terminalPrefix: String = "") {
        if isTerminal {
            FileHandle.standardError.write(Data(("\r" + terminalPrefix + text + "\u{1B}[K" + (done >= total ? "\n" : "")).utf8))
        } else if case let decile = done * 10 / max(1, total), decile > lastDecile {
            lastDecile = decile
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }
}
