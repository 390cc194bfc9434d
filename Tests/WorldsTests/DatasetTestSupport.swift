import Foundation
import HDF5
import Testing
@testable import Worlds

/// A tiny deterministic world: pixel values and states encode (seed, episode, frame).
struct CounterWorld: WorldGenerator {
    var channels = 1, height = 5, width = 4, actionCount = 2
    /// Frame bytes to drop from every episode (to provoke a size error).
    var truncate = 0
    var name: String { "counter" }
    var frameShape: [Int] { [channels, height, width] }
    var stateNames: [String] { ["episode", "frame", "seed"] }
    var actionNames: [String] { (0..<actionCount).map { "a\($0)" } }
    var configJSON: String { #"{"height":\#(height),"width":\#(width)}"# }

    func episode(index: Int, seed: UInt64, frames: Int) -> EpisodeData {
        let frameSize = channels * height * width
        var pixels = [UInt8](repeating: 0, count: frames * frameSize)
        for t in 0..<frames {
            for i in 0..<frameSize { pixels[t * frameSize + i] = UInt8(truncatingIfNeeded: index &* 31 &+ t &* 7 &+ i &+ Int(seed)) }
        }
        let states = (0..<frames).flatMap { [Float(index), Float($0), Float(seed)] }
        let actions = (0..<(frames * actionCount)).map { Float(index * 1000 + $0) }
        return EpisodeData(frames: Array(pixels.dropLast(truncate)), states: states, actions: actions)
    }
}

/// A fresh directory, removed by `cleanup`.
struct TempDir {
    let url: URL
    init(_ label: String = #function) throws {
        let safe = label.filter { $0.isLetter || $0.isNumber }
        url = FileManager.default.temporaryDirectory.appendingPathComponent("jepa-data-\(safe)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func contents() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted() }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

func pythonHas(_ module: String) -> Bool {
    runProcess(["python3", "-c", "import \(module)"]).status == 0
}

func runProcess(_ arguments: [String]) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return (-1, "\(error)") }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output)
}

func repositoryRoot() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
