// The integrity header of checkpoint files: HDF5 itself checksums only its metadata (and not in
// every structure), and a damaged file can crash the library while it parses. So the writer
// reserves a 512-byte HDF5 user block (which HDF5 and h5py skip) and, once the file is complete,
// records there the length and CRC-32 of everything after it; readers check both before HDF5
// sees the file. Files without the header (written before it existed) are read unchecked.
import Checksums
import Foundation

enum Integrity {
    static let blockSize = 512
    static let magic = "jepa-swift-checkpoint integrity\n"

    /// Writes the header into the user block of the complete file at `path`.
    static func seal(_ path: String) throws {
        let (length, crc) = try checksum(path)
        var header = Array("\(magic)content_bytes \(length)\ncrc32 \(String(crc, radix: 16))\n".utf8)
        header += [UInt8](repeating: 0, count: blockSize - header.count)
        guard let handle = FileHandle(forUpdatingAtPath: path) else {
            throw CheckpointError(.io, path: path, "cannot open \(path) to write its integrity header")
        }
        defer { try? handle.close() }
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: header)
    }

    /// Whether the file starts with the header (not checked).
    static func hasHeader(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return ((try? handle.read(upToCount: magic.utf8.count)) ?? Data()).elementsEqual(magic.utf8)
    }

    /// Checks the header, if the file has one: the length and CRC-32 of the content after it.
    static func verify(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        let head = (try? handle.read(upToCount: blockSize)) ?? Data()
        try? handle.close()
        guard head.count == blockSize, head.starts(with: Array(magic.utf8)) else { return }
        let text = String(decoding: head.prefix { $0 != 0 }, as: UTF8.self)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let expectedLength = fields["content_bytes"].flatMap({ Int($0) }),
              let expectedCRC = fields["crc32"].flatMap({ UInt32($0, radix: 16) }) else {
            throw CheckpointError(.corrupt, path: path, "\(path) is corrupt: its integrity header is damaged")
        }
        let (length, crc) = try checksum(path)
        guard length == expectedLength else {
            let how = length < expectedLength ? "truncated" : "longer than written"
            throw CheckpointError(.corrupt, path: path, "\(path) is \(how): \(blockSize + length) bytes, written as \(blockSize + expectedLength)")
        }
        guard crc == expectedCRC else {
            throw CheckpointError(.corrupt, path: path, "\(path) is corrupt: CRC-32 \(String(crc, radix: 16)) does not match the \(String(expectedCRC, radix: 16)) recorded when it was written")
        }
    }

    /// Length and CRC-32 of the bytes after the user block.
    static func checksum(_ path: String) throws -> (Int, UInt32) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CheckpointError(.io, path: path, "cannot read \(path)")
        }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(blockSize))
        var crc: UInt32 = 0, length = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            crc = chunk.withUnsafeBytes { CRC32.update(crc, $0) }
            length += chunk.count
        }
        return (length, crc)
    }
}
