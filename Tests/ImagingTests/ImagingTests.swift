import Checksums
import Foundation
import Testing
@testable import Imaging

// MARK: - Independent minimal decoders, to check the encoders' streams

/// Inflates a zlib stream made only of stored blocks; nil if anything is malformed.
func inflateStored(_ z: [UInt8]) -> [UInt8]? {
    guard z.count >= 6, z[0] == 0x78, (UInt16(z[0]) << 8 | UInt16(z[1])) % 31 == 0 else { return nil }
    var i = 2, out: [UInt8] = []
    while true {
        guard i + 5 <= z.count else { return nil }
        let header = z[i]
        guard header & 0b110 == 0 else { return nil }  // BTYPE must be 00
        let len = Int(z[i + 1]) | Int(z[i + 2]) << 8, nlen = Int(z[i + 3]) | Int(z[i + 4]) << 8
        guard len ^ nlen == 0xFFFF, i + 5 + len <= z.count else { return nil }
        out += z[(i + 5)..<(i + 5 + len)]
        i += 5 + len
        if header & 1 == 1 { break }
    }
    guard i + 4 == z.count else { return nil }
    let adler = UInt32(z[i]) << 24 | UInt32(z[i + 1]) << 16 | UInt32(z[i + 2]) << 8 | UInt32(z[i + 3])
    return adler == Adler32.checksum(out) ? out : nil
}

/// Textbook GIF LZW decoder (codes assigned one step behind the encoder).
func lzwDecode(_ data: [UInt8], minimumCodeSize: Int) -> [UInt8]? {
    let clear = 1 << minimumCodeSize, end = clear + 1
    var table: [[UInt8]] = []
    func reset() { table = (0..<clear).map { [UInt8($0)] } + [[], []] }
    reset()
    var codeSize = minimumCodeSize + 1, bitPos = 0, out: [UInt8] = [], previous: [UInt8]? = nil
    while true {
        guard bitPos + codeSize <= data.count * 8 else { return nil }
        var code = 0
        for k in 0..<codeSize where data[(bitPos + k) / 8] & (1 << ((bitPos + k) % 8)) != 0 { code |= 1 << k }
        bitPos += codeSize
        if code == clear { reset(); codeSize = minimumCodeSize + 1; previous = nil; continue }
        if code == end { return out }
        var entry: [UInt8]
        if code < table.count { entry = table[code] } else if code == table.count, let p = previous { entry = p + [p[0]] } else { return nil }
        out += entry
        if let p = previous, table.count < 4096 {
            table.append(p + [entry[0]])
            if table.count == 1 << codeSize && codeSize < 12 { codeSize += 1 }
        }
        previous = entry
    }
}

struct PNGChunk { var type: String; var body: [UInt8]; var crcOK: Bool }

func parsePNG(_ png: [UInt8]) -> [PNGChunk]? {
    guard Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { return nil }
    var i = 8, chunks: [PNGChunk] = []
    func be32(_ j: Int) -> Int { Int(png[j]) << 24 | Int(png[j + 1]) << 16 | Int(png[j + 2]) << 8 | Int(png[j + 3]) }
    while i < png.count {
        guard i + 12 <= png.count else { return nil }
        let length = be32(i)
        guard i + 12 + length <= png.count else { return nil }
        let type = String(decoding: png[(i + 4)..<(i + 8)], as: UTF8.self)
        let body = Array(png[(i + 8)..<(i + 8 + length)])
        let crc = UInt32(be32(i + 8 + length))
        chunks.append(PNGChunk(type: type, body: body, crcOK: crc == CRC32.checksum(png[(i + 4)..<(i + 8 + length)])))
        i += 12 + length
    }
    return chunks
}

func testImage(width: Int, height: Int, channels: Int, seed: Int = 1) -> Image {
    var state = UInt32(truncatingIfNeeded: seed) &* 2_654_435_761 | 1
    let pixels = (0..<(width * height * channels)).map { i -> UInt8 in
        state = state &* 1_103_515_245 &+ 12_345
        return i % 7 == 0 ? UInt8((state >> 16) & 0xFF) : UInt8((i / 5) & 0xFF)  // some runs, some noise
    }
    return Image(width: width, height: height, channels: channels, pixels: pixels)
}

// MARK: - Checksums

@Test func crc32CheckValue() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(CRC32.checksum([UInt8]()) == 0)
    #expect(CRC32.update(CRC32.checksum(Array("1234".utf8)), Array("56789".utf8)) == 0xCBF4_3926)
}

@Test func adler32CheckValue() {
    #expect(Adler32.checksum(Array("Wikipedia".utf8)) == 0x11E6_0398)
    #expect(Adler32.checksum([UInt8]()) == 1)
    // Long input exercises the deferred modulo.
    let long = [UInt8](repeating: 255, count: 100_000)
    var a: UInt64 = 1, b: UInt64 = 0
    for x in long { a = (a + UInt64(x)) % 65521; b = (b + a) % 65521 }
    #expect(Adler32.checksum(long) == UInt32(b << 16 | a))
}

// MARK: - PNG

@Test(arguments: [1, 3]) func pngStructureAndPixels(channels: Int) throws {
    let image = testImage(width: 37, height: 23, channels: channels)
    let chunks = try #require(parsePNG(pngData(image)))
    #expect(chunks.map(\.type) == ["IHDR", "IDAT", "IEND"])
    #expect(chunks.allSatisfy { $0.crcOK })
    #expect(chunks[0].body == [0, 0, 0, 37, 0, 0, 0, 23, 8, channels == 1 ? 0 : 2, 0, 0, 0])
    #expect(chunks[2].body.isEmpty)
    let raw = try #require(inflateStored(chunks[1].body))
    let rowBytes = 37 * channels
    #expect(raw.count == 23 * (rowBytes + 1))
    var pixels: [UInt8] = []
    for y in 0..<23 {
        #expect(raw[y * (rowBytes + 1)] == 0)
        pixels += raw[(y * (rowBytes + 1) + 1)..<((y + 1) * (rowBytes + 1))]
    }
    #expect(pixels == image.pixels)
}

@Test func zlibStoredSplitsLargeInput() throws {
    let data = (0..<150_000).map { UInt8($0 % 251) }
    let z = zlibStored(data)
    #expect(z.count == 2 + 3 * 5 + data.count + 4)
    #expect(inflateStored(z) == data)
    #expect(inflateStored(zlibStored([])) == [])
}

// MARK: - GIF

@Test func lzwRoundTripsAcrossTableResets() throws {
    // Noise fills the 4096-entry table several times; runs exercise long strings and the KwKwK case.
    let noise = testImage(width: 200, height: 200, channels: 1, seed: 7).pixels
    let runs = [UInt8](repeating: 9, count: 5000) + [1, 2, 1, 2, 1, 2, 1, 2, 1]
    for input in [noise, runs, [0], [], Array(0...255)] {
        #expect(lzwDecode(lzwEncode(input, minimumCodeSize: 8), minimumCodeSize: 8) == input)
    }
}

@Test(arguments: [1, 3]) func gifStructure(channels: Int) throws {
    let frames = (0..<3).map { testImage(width: 20, height: 11, channels: channels, seed: $0) }
    let gif = gifData(frames: frames, delayCentiseconds: 7)
    #expect(Array(gif.prefix(6)) == Array("GIF89a".utf8))
    #expect(gif[6] == 20 && gif[7] == 0 && gif[8] == 11 && gif[9] == 0 && gif[10] == 0xF7)
    #expect(gif.last == 0x3B)
    var i = 13 + 768
    #expect(Array(gif[i..<(i + 19)]) == [0x21, 0xFF, 0x0B] + Array("NETSCAPE2.0".utf8) + [3, 1, 0, 0, 0])
    i += 19
    for frame in frames {
        #expect(Array(gif[i..<(i + 8)]) == [0x21, 0xF9, 4, 4, 7, 0, 0, 0])
        i += 8
        #expect(gif[i] == 0x2C)
        i += 10
        #expect(gif[i] == 8)
        i += 1
        var data: [UInt8] = []
        while gif[i] != 0 {
            let n = Int(gif[i])
            data += gif[(i + 1)..<(i + 1 + n)]
            i += 1 + n
        }
        i += 1
        let indices = try #require(lzwDecode(data, minimumCodeSize: 8))
        let expected = channels == 1 ? frame.pixels : GIFPalette.quantise(frame.pixels)
        #expect(indices == expected)
    }
    #expect(i == gif.count - 1)
}

@Test func colourCubeQuantisesToNearestLevel() {
    let palette = GIFPalette.cube
    for (r, g, b) in [(0, 0, 0), (255, 255, 255), (255, 0, 0), (100, 180, 30)] as [(UInt8, UInt8, UInt8)] {
        let index = Int(GIFPalette.quantise([r, g, b])[0])
        for (value, channel, levels) in [(r, 0, 6), (g, 1, 7), (b, 2, 6)] {
            let step = 255.0 / Double(levels - 1)
            #expect(abs(Double(palette[3 * index + channel]) - Double(value)) <= step / 2 + 1)
        }
    }
}

// MARK: - Contact sheet and conversions

@Test func contactSheetLayout() {
    let a = Image(width: 2, height: 1, channels: 1, pixels: [10, 20])
    let sheet = contactSheet([[a, a], [a]], scale: 2, separator: 255)
    #expect(sheet.width == 2 * (4 + 1) + 1 && sheet.height == 2 * (2 + 1) + 1)
    #expect(sheet.pixels[0] == 255)
    #expect(Array(sheet.pixels[(1 * 11 + 1)..<(1 * 11 + 5)]) == [10, 10, 20, 20])
    #expect(sheet.pixels[1 * 11 + 5] == 255)  // separator between cells
    #expect(sheet.pixels[4 * 11 + 7] == 255)  // missing cell stays separator
}

@Test func channelsFirstToInterleaved() {
    let chw: [UInt8] = [1, 2, 3, 4, 5, 6]  // C=3, H=1, W=2
    let image = Image(channelsFirst: chw[...], channels: 3, height: 1, width: 2)
    #expect(image.pixels == [1, 3, 5, 2, 4, 6])
}

// MARK: - Pillow cross-check (only when Pillow is installed)

func pythonHas(_ module: String) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import \(module)"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}

func repositoryRoot() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

@Test func pillowDecodesOurFiles() throws {
    guard pythonHas("PIL") else {
        print("note: Pillow not installed (pip install pillow); skipping the Pillow cross-check")
        return
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("jepa-imaging-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let grey = testImage(width: 31, height: 17, channels: 1)
    let rgb = testImage(width: 13, height: 9, channels: 3)
    let frames = (0..<4).map { testImage(width: 64, height: 64, channels: 1, seed: $0) }
    let rgbFrames = (0..<2).map { testImage(width: 10, height: 6, channels: 3, seed: $0 + 9) }
    try writePNG(grey, to: dir.appendingPathComponent("grey.png").path)
    try writePNG(rgb, to: dir.appendingPathComponent("rgb.png").path)
    try writeGIF(frames: frames, delayCentiseconds: 5, to: dir.appendingPathComponent("grey.gif").path)
    try writeGIF(frames: rgbFrames, delayCentiseconds: 5, to: dir.appendingPathComponent("rgb.gif").path)
    // Expected pixels as raw files: the GIF's RGB frames after quantisation to the cube.
    func raw(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: dir.appendingPathComponent(name)) }
    try raw("grey.png.raw", grey.pixels)
    try raw("rgb.png.raw", rgb.pixels)
    try raw("grey.gif.raw", frames.flatMap(\.pixels))
    try raw("rgb.gif.raw", rgbFrames.flatMap { GIFPalette.quantise($0.pixels).flatMap { Array(GIFPalette.cube[(3 * Int($0))..<(3 * Int($0) + 3)]) } })

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", repositoryRoot().appendingPathComponent("tools/check_images.py").path, dir.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "check_images.py failed:\n\(output)")
}
