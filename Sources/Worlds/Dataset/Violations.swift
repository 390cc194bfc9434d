import Foundation
import HDF5

/// One pair of a violation-of-expectation set: a physically possible clip and an impossible twin
/// that departs from it at `violationFrame`.
public struct ViolationRecord: Sendable {
    public var possible: EpisodeData
    public var impossible: EpisodeData
    /// First frame at which the impossible clip differs from physics.
    public var violationFrame: Int
    /// Index into the set's category names.
    public var category: Int
    public init(possible: EpisodeData, impossible: EpisodeData, violationFrame: Int, category: Int) {
        self.possible = possible
        self.impossible = impossible
        self.violationFrame = violationFrame
        self.category = category
    }
}

/// Writes a violation-of-expectation set: the ordinary dataset layout with 2·pairs rows (row 2p is
/// pair p's possible clip, row 2p+1 its impossible clip) plus `impossible` uint8 [N], `pair`
/// int64 [N], `category` int64 [N], `violation_frame` int64 [N] and the root attribute
/// `category_names` (JSON array). Same temporary-file-then-rename guarantee as `generateDataset`.
public func writeViolationDataset(_ pairs: [ViolationRecord], world: any WorldGenerator, frames: Int, seed: UInt64,
                                  categoryNames: [String], to path: String, overwrite: Bool = false,
                                  compression: Int = DatasetFormat.defaultCompression,
                                  createdBy: String = CommandLine.arguments.joined(separator: " ")) throws {
    guard !pairs.isEmpty else { throw DatasetError("a violation set needs at least one pair") }
    for (p, pair) in pairs.enumerated() {
        guard categoryNames.indices.contains(pair.category) else {
            throw DatasetError("pair \(p): category \(pair.category) is out of range 0..<\(categoryNames.count)")
        }
        guard (0..<frames).contains(pair.violationFrame) else {
            throw DatasetError("pair \(p): violation frame \(pair.violationFrame) is out of range 0..<\(frames)")
        }
    }
    let n = 2 * pairs.count
    let writer = try DatasetWriter(path: path, world: world, episodes: n, framesPerEpisode: frames, seed: seed,
                                   overwrite: overwrite, createdBy: createdBy, compression: compression)
    do {
        let batch = writer.rowsPerStateChunk
        let rows = pairs.flatMap { [$0.possible, $0.impossible] }
        for start in stride(from: 0, to: n, by: batch) {
            try writer.write(Array(rows[start..<min(start + batch, n)]), start: start)
        }
        guard let file = writer.hdf5 else { throw DatasetError("\(path): writer closed early") }
        try file.write(DatasetFormat.impossible, shape: [n], uint8: (0..<n).map { UInt8($0 % 2) })
        try file.write(DatasetFormat.pair, shape: [n], int64: (0..<n).map { Int64($0 / 2) })
        try file.write(DatasetFormat.category, shape: [n], int64: pairs.flatMap { [Int64($0.category), Int64($0.category)] })
        try file.write(DatasetFormat.violationFrame, shape: [n],
                       int64: pairs.flatMap { [Int64($0.violationFrame), Int64($0.violationFrame)] })
        try file.setAttribute("category_names", jsonArray(categoryNames))
        try writer.finish()
    } catch {
        writer.abort()
        throw error
    }
}
