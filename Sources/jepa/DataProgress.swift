import Foundation
import Worlds

/// A progress line on stderr: redrawn in place with `\r` on a terminal, otherwise one line per
/// ~10% (so logs stay short).
final class ProgressBar: @unchecked Sendable {  // only used from the thread that runs generateDataset
    let label: String
    let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastDecile = -1

    init(label: String) { self.label = label }

    func update(_ p: DatasetProgress) {
        let fraction = Double(p.episodesDone) / Double(max(1, p.episodesTotal))
        let eta = p.etaSeconds.isFinite ? String(format: "%.0f s", p.etaSeconds) : "?"
        let text = String(format: "%@ %d/%d episodes (%3.0f%%)  %.0f frames/s  ETA %@",
                          label, p.episodesDone, p.episodesTotal, fraction * 100, p.framesPerSecond, eta)
        if isTerminal {
            let width = 24, filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r[\(bar)] \(text)\u{1B}[K".utf8))
            if p.episodesDone == p.episodesTotal { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            let decile = Int(fraction * 10)
            if decile > lastDecile {
                lastDecile = decile
                FileHandle.standardError.write(Data((text + "\n").utf8))
            }
        }
    }
}
