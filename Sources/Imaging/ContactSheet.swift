extension Image {
    /// The image from one channels-first frame ([C, H, W] bytes, C = 1 or 3).
    public init(channelsFirst data: ArraySlice<UInt8>, channels: Int, height: Int, width: Int) {
        precondition(data.count == channels * height * width,
                     "Image(channelsFirst:): \(data.count) bytes for \(channels)×\(height)×\(width)")
        if channels == 1 {
            self.init(width: width, height: height, channels: 1, pixels: Array(data))
            return
        }
        var pixels = [UInt8](repeating: 0, count: data.count)
        let plane = height * width, base = data.startIndex
        for c in 0..<channels {
            for i in 0..<plane { pixels[i * channels + c] = data[base + c * plane + i] }
        }
        self.init(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Nearest-neighbour enlargement by an integer factor.
    public func upscaled(by factor: Int) -> Image {
        precondition(factor >= 1, "upscaled(by:): factor must be at least 1, got \(factor)")
        if factor == 1 { return self }
        let w = width * factor, h = height * factor
        var out = [UInt8](repeating: 0, count: w * h * channels)
        for y in 0..<h {
            let sy = y / factor
            for x in 0..<w {
                let src = (sy * width + x / factor) * channels, dst = (y * w + x) * channels
                for c in 0..<channels { out[dst + c] = pixels[src + c] }
            }
        }
        return Image(width: w, height: h, channels: channels, pixels: out)
    }

    /// The same picture with three channels.
    public func rgb() -> Image {
        if channels == 3 { return self }
        return Image(width: width, height: height, channels: 3, pixels: pixels.flatMap { [$0, $0, $0] })
    }
}

/// Tiles `rows` of images into one grid: every cell the size of the largest image (each image
/// upscaled by `scale` first), cells separated and surrounded by a 1-pixel line of `separator`.
/// Rows may have different lengths; missing cells stay `separator`. Mixed grey and RGB images give RGB.
public func contactSheet(_ rows: [[Image]], scale: Int = 1, separator: UInt8 = 128) -> Image {
    let images = rows.flatMap { $0 }
    precondition(!images.isEmpty, "contactSheet: no images")
    let channels = images.contains { $0.channels == 3 } ? 3 : 1
    let cellW = images.map(\.width).max()! * scale, cellH = images.map(\.height).max()! * scale
    let columns = rows.map(\.count).max()!
    let width = columns * (cellW + 1) + 1, height = rows.count * (cellH + 1) + 1
    var sheet = Image(width: width, height: height, channels: channels, fill: separator)
    for (r, row) in rows.enumerated() {
        for (c, image) in row.enumerated() {
            var cell = image.upscaled(by: scale)
            if channels == 3 { cell = cell.rgb() }
            let x0 = 1 + c * (cellW + 1), y0 = 1 + r * (cellH + 1)
            let rowBytes = cell.width * channels
            for y in 0..<cell.height {
                let dst = ((y0 + y) * width + x0) * channels
                sheet.pixels.replaceSubrange(dst..<(dst + rowBytes), with: cell.pixels[(y * rowBytes)..<((y + 1) * rowBytes)])
            }
        }
    }
    return sheet
}
