/// Animated GIF (GIF89a) encoding: one global 256-entry palette, LZW-compressed frames, an
/// infinite NETSCAPE2.0 loop.
///
/// Greyscale frames use a palette of 256 greys (index = intensity). RGB frames are quantised to a
/// fixed 6×7×6 colour cube (252 entries; red and blue in 6 levels, green in 7).
public func gifData(frames: [Image], delayCentiseconds: Int) -> [UInt8] {
    precondition(!frames.isEmpty, "gifData: no frames")
    let width = frames[0].width, height = frames[0].height, channels = frames[0].channels
    precondition(frames.allSatisfy { $0.width == width && $0.height == height && $0.channels == channels },
                 "gifData: frames differ in size or channels")
    precondition((1...65_535).contains(width) && (1...65_535).contains(height), "gifData: size out of range")

    var out = Array("GIF89a".utf8)
    out.appendLE16(width)
    out.appendLE16(height)
    out += [0xF7, 0, 0]  // global colour table of 2^(7+1) entries, 8-bit resolution; background 0; aspect 0
    out += channels == 1 ? GIFPalette.grey : GIFPalette.cube
    // Application extension: loop forever.
    out += [0x21, 0xFF, 0x0B] + Array("NETSCAPE2.0".utf8) + [0x03, 0x01, 0x00, 0x00, 0x00]

    let delay = max(0, min(delayCentiseconds, 65_535))
    for frame in frames {
        // Graphic control extension: disposal 1 (leave in place), no transparency, per-frame delay.
        out += [0x21, 0xF9, 0x04, 0x04]
        out.appendLE16(delay)
        out += [0x00, 0x00]
        // Image descriptor: whole canvas, no local colour table, not interlaced.
        out.append(0x2C)
        out.appendLE16(0); out.appendLE16(0)
        out.appendLE16(width); out.appendLE16(height)
        out.append(0)
        let indices = channels == 1 ? frame.pixels : GIFPalette.quantise(frame.pixels)
        out.append(8)  // LZW minimum code size
        let compressed = lzwEncode(indices, minimumCodeSize: 8)
        var start = 0
        while start < compressed.count {  // data sub-blocks of at most 255 bytes
            let end = min(start + 255, compressed.count)
            out.append(UInt8(end - start))
            out.append(contentsOf: compressed[start..<end])
            start = end
        }
        out.append(0)  // block terminator
    }
    out.append(0x3B)  // trailer
    return out
}

/// Writes an animated GIF file.
public func writeGIF(frames: [Image], delayCentiseconds: Int, to path: String) throws {
    try writeBytes(gifData(frames: frames, delayCentiseconds: delayCentiseconds), to: path)
}

enum GIFPalette {
    static let grey: [UInt8] = (0..<256).flatMap { [UInt8($0), UInt8($0), UInt8($0)] }

    static let redLevels = 6, greenLevels = 7, blueLevels = 6

    /// 6×7×6 cube padded to 256 entries with black.
    static let cube: [UInt8] = {
        var table: [UInt8] = []
        for r in 0..<redLevels {
            for g in 0..<greenLevels {
                for b in 0..<blueLevels {
                    table += [level(r, redLevels), level(g, greenLevels), level(b, blueLevels)]
                }
            }
        }
        table += [UInt8](repeating: 0, count: 768 - table.count)
        return table
    }()

    static func level(_ i: Int, _ levels: Int) -> UInt8 { UInt8((i * 255 + (levels - 1) / 2) / (levels - 1)) }

    /// Nearest level index of `v` among `levels` evenly spaced values in 0...255.
    @inline(__always) static func index(_ v: UInt8, _ levels: Int) -> Int { (Int(v) * (levels - 1) + 127) / 255 }

    /// Interleaved RGB → palette indices into `cube`.
    static func quantise(_ rgb: [UInt8]) -> [UInt8] {
        var indices = [UInt8](repeating: 0, count: rgb.count / 3)
        for i in 0..<indices.count {
            let r = index(rgb[3 * i], redLevels), g = index(rgb[3 * i + 1], greenLevels), b = index(rgb[3 * i + 2], blueLevels)
            indices[i] = UInt8((r * greenLevels + g) * blueLevels + b)
        }
        return indices
    }
}

/// GIF-flavoured LZW: codes packed least-significant bit first, a clear code first, the code width
/// growing from minimumCodeSize+1 up to 12 bits, and a clear code (table reset) once code 4095 is
/// assigned; ends with the end-of-information code.
func lzwEncode(_ symbols: [UInt8], minimumCodeSize: Int) -> [UInt8] {
    let clearCode = 1 << minimumCodeSize, endCode = clearCode + 1
    let alphabet = clearCode
    var out: [UInt8] = []
    out.reserveCapacity(symbols.count / 2 + 16)
    var bitBuffer: UInt32 = 0, bitCount = 0
    var codeSize = minimumCodeSize + 1
    func emit(_ code: Int) {
        bitBuffer |= UInt32(code) << UInt32(bitCount)
        bitCount += codeSize
        while bitCount >= 8 {
            out.append(UInt8(bitBuffer & 0xFF))
            bitBuffer >>= 8
            bitCount -= 8
        }
    }
    // child[prefix * alphabet + symbol] = code of (prefix string + symbol), 0 if absent.
    var child = [UInt16](repeating: 0, count: 4096 * alphabet)
    var nextCode = endCode + 1
    emit(clearCode)
    guard var current = symbols.first.map(Int.init) else {
        emit(endCode)
        if bitCount > 0 { out.append(UInt8(bitBuffer & 0xFF)) }
        return out
    }
    for s in symbols.dropFirst() {
        let symbol = Int(s)
        precondition(symbol < alphabet, "LZW symbol \(symbol) out of range")
        let found = child[current * alphabet + symbol]
        if found != 0 {
            current = Int(found)
            continue
        }
        emit(current)
        child[current * alphabet + symbol] = UInt16(nextCode)
        // The decoder assigns each code one step later, so the width grows once the code just
        // assigned no longer fits the current width.
        if nextCode >= (1 << codeSize) && codeSize < 12 { codeSize += 1 }
        nextCode += 1
        if nextCode == 4096 {
            emit(clearCode)
            for i in child.indices { child[i] = 0 }
            nextCode = endCode + 1
            codeSize = minimumCodeSize + 1
        }
        current = symbol
    }
    emit(current)
    emit(endCode)
    if bitCount > 0 { out.append(UInt8(bitBuffer & 0xFF)) }
    return out
}
