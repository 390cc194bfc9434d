import Foundation

/// A line chart of one or more series against a shared x axis, as an RGB image: white background,
/// a frame, the y range and the x range written in a small bitmap font. Enough to see a loss
/// curve; not a plotting library.
public func linePlot(x: [Double], series: [(values: [Double], color: (UInt8, UInt8, UInt8))],
                     width: Int = 640, height: Int = 400, logY: Bool = false) -> Image {
    var image = Image(width: width, height: height, channels: 3, fill: 255)
    let margin = (left: 56, right: 12, top: 12, bottom: 22)
    let plotW = width - margin.left - margin.right, plotH = height - margin.top - margin.bottom
    func transform(_ y: Double) -> Double { logY ? log10(Swift.max(y, 1e-12)) : y }
    let ys = series.flatMap { $0.values }.filter(\.isFinite).map(transform)
    guard let x0 = x.first, let x1 = x.last, let yMin = ys.min(), let yMax = ys.max(), plotW > 1, plotH > 1 else {
        return image
    }
    let ySpan = yMax > yMin ? yMax - yMin : 1, xSpan = x1 > x0 ? x1 - x0 : 1
    func px(_ v: Double) -> Int { margin.left + Int((v - x0) / xSpan * Double(plotW - 1)) }
    func py(_ v: Double) -> Int { margin.top + plotH - 1 - Int((transform(v) - yMin) / ySpan * Double(plotH - 1)) }
    func set(_ cx: Int, _ cy: Int, _ c: (UInt8, UInt8, UInt8)) {
        guard cx >= 0, cx < width, cy >= 0, cy < height else { return }
        let i = (cy * width + cx) * 3
        (image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]) = c
    }
    func line(_ ax: Int, _ ay: Int, _ bx: Int, _ by: Int, _ c: (UInt8, UInt8, UInt8)) {
        let steps = Swift.max(Swift.abs(bx - ax), Swift.abs(by - ay), 1)
        for s in 0...steps {
            set(ax + (bx - ax) * s / steps, ay + (by - ay) * s / steps, c)
        }
    }
    let frame: (UInt8, UInt8, UInt8) = (90, 90, 90)
    let (l, r, t, b) = (margin.left - 1, margin.left + plotW, margin.top - 1, margin.top + plotH)
    line(l, t, r, t, frame); line(l, b, r, b, frame); line(l, t, l, b, frame); line(r, t, r, b, frame)
    for s in series {
        var previous: (Int, Int)?
        for (xv, yv) in zip(x, s.values) where yv.isFinite {
            let p = (px(xv), py(yv))
            if let q = previous { line(q.0, q.1, p.0, p.1, s.color) } else { set(p.0, p.1, s.color) }
            previous = p
        }
    }
    let label = { (v: Double) in logY ? String(format: "%.3g", pow(10, v)) : String(format: "%.3g", v) }
    drawText(label(yMax), x: 2, y: t, into: &image)
    drawText(label(yMin), x: 2, y: b - 7, into: &image)
    drawText(String(format: "%.0f", x0), x: margin.left, y: b + 6, into: &image)
    let right = String(format: "%.0f", x1)
    drawText(right, x: r - right.count * 6, y: b + 6, into: &image)
    return image
}

/// 5×7 glyphs for the characters a number needs, one string of 7 rows of 5 bits per glyph.
private let glyphs: [Character: [UInt8]] = [
    "0": [14, 17, 19, 21, 25, 17, 14], "1": [4, 12, 4, 4, 4, 4, 14], "2": [14, 17, 1, 2, 4, 8, 31],
    "3": [31, 2, 4, 2, 1, 17, 14], "4": [2, 6, 10, 18, 31, 2, 2], "5": [31, 16, 30, 1, 1, 17, 14],
    "6": [6, 8, 16, 30, 17, 17, 14], "7": [31, 1, 2, 4, 8, 8, 8], "8": [14, 17, 17, 14, 17, 17, 14],
    "9": [14, 17, 17, 15, 1, 2, 12], ".": [0, 0, 0, 0, 0, 12, 12], "-": [0, 0, 0, 31, 0, 0, 0],
    "e": [0, 0, 14, 17, 31, 16, 14], "+": [0, 4, 4, 31, 4, 4, 0],
]

/// Writes `text` (digits, '.', '-', '+', 'e') in dark grey with its top-left corner at (x, y).
public func drawText(_ text: String, x: Int, y: Int, into image: inout Image) {
    for (k, ch) in text.enumerated() {
        guard let rows = glyphs[ch] else { continue }
        for (dy, bits) in rows.enumerated() {
            for dx in 0..<5 where bits & (16 >> dx) != 0 {
                let cx = x + k * 6 + dx, cy = y + dy
                guard cx >= 0, cx < image.width, cy >= 0, cy < image.height else { continue }
                for ch in 0..<image.channels { image.pixels[(cy * image.width + cx) * image.channels + ch] = 40 }
            }
        }
    }
}
