import Checksums
import Foundation

/// Errors from writing images to disk.
public struct ImagingError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A zlib stream (RFC 1950) of `data` made of stored (uncompressed) deflate blocks: no compression,
/// but valid for every decoder and trivially fast. Header 0x78 0x01, blocks of at most 65,535
/// bytes, Adler-32 trailer.
public func zlibStored(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x78, 0x01]
    let blockSize = 65_535
    out.reserveCapacity(data.count + 5 * (data.count / blockSize + 1) + 6)
    var start = 0
    repeat {
        let end = min(start + blockSize, data.count)
        let length = end - start
        out.append(end == data.count ? 1 : 0)  // BFINAL, BTYPE = 00 (stored)
        out.appendLE16(length)
        out.appendLE16(~length & 0xFFFF)
        out.append(contentsOf: data[start..<end])
        start = end
    } while start < data.count
    out.appendBE32(Adler32.checksum(data))
    return out
}

/// A PNG file of `image`: 8-bit greyscale (colour type 0) or RGB (colour type 2), not interlaced,
/// every scanline with filter type 0, image data in stored deflate blocks.
public func pngData(_ image: Image) -> [UInt8] {
    var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    func chunk(_ type: String, _ body: [UInt8]) {
        out.appendBE32(UInt32(body.count))
        let typeBytes = Array(type.utf8)
        out.append(contentsOf: typeBytes)
        out.append(contentsOf: body)
        out.appendBE32(CRC32.update(CRC32.checksum(typeBytes), body))
    }
    var header: [UInt8] = []
    header.appendBE32(UInt32(image.width))
    header.appendBE32(UInt32(image.height))
    header += [8, image.channels == 1 ? 0 : 2, 0, 0, 0]  // depth, colour type, deflate, filter, no interlace
    chunk("IHDR", header)

    let rowBytes = image.width * image.channels
    var raw = [UInt8]()
    raw.reserveCapacity((rowBytes + 1) * image.height)
    for y in 0..<image.height {
        raw.append(0)  // filter type 0 (None)
        raw.append(contentsOf: image.pixels[(y * rowBytes)..<((y + 1) * rowBytes)])
    }
    chunk("IDAT", zlibStored(raw))
    chunk("IEND", [])
    return out
}

/// Writes `bytes` to `path` atomically; the error names the path.
public func writeBytes(_ bytes: [UInt8], to path: String) throws {
    do {
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw ImagingError("cannot write '\(path)': \(error.localizedDescription)")
    }
}

/// Writes `image` as a PNG file.
public func writePNG(_ image: Image, to path: String) throws {
    try writeBytes(pngData(image), to: path)
}
