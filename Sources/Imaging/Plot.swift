import Foundation

public typealias RGB = (UInt8, UInt8, UInt8)

/// A line chart of one or more series against a shared x axis, as an RGB image: white background,
/// a frame, the y range and the x range written in a small bitmap font, and optional vertical
/// markers (e.g. the frame where something happens). Enough to see a curve; not a plotting library.
public func linePlot(x: [Double], series: [(values: [Double], color: RGB)], markers: [(x: Double, color: RGB)] = [],
                     width: Int = 640, height: Int = 400, logY: Bool = false) -> Image {
    let ys = series.flatMap { $0.values }
    guard let x0 = x.first, let x1 = x.last,
          var canvas = PlotCanvas(width: width, height: height, xRange: (x0, x1), yValues: ys, logY: logY) else {
        return Image(width: width, height: height, channels: 3, fill: 255)
    }
    for marker in markers {
        let px = canvas.px(marker.x)
        canvas.line(px, canvas.top, px, canvas.bottom, marker.color)
    }
    for s in series {
        var previous: (Int, Int)?
        for (xv, yv) in zip(x, s.values) where yv.isFinite {
            let p = (canvas.px(xv), canvas.py(yv))
            if let q = previous { canvas.line(q.0, q.1, p.0, p.1, s.color) } else { canvas.set(p.0, p.1, s.color) }
            previous = p
        }
    }
    canvas.drawAxes(xLabels: (String(format: "%.0f", x0), String(format: "%.0f", x1)))
    return canvas.image
}

/// A scatter plot of predicted against true values (or any y against x) on one shared range, with
/// the y = x diagonal in grey: points on the diagonal are perfect predictions.
public func scatterPlot(x: [Double], y: [Double], color: RGB = (40, 90, 200), width: Int = 400, height: Int = 400) -> Image {
    let values = (x + y).filter(\.isFinite)
    guard let lo = values.min(), let hi = values.max(),
          var canvas = PlotCanvas(width: width, height: height, xRange: (lo, hi), yValues: [lo, hi], logY: false) else {
        return Image(width: width, height: height, channels: 3, fill: 255)
    }
    canvas.line(canvas.px(lo), canvas.py(lo), canvas.px(hi), canvas.py(hi), (170, 170, 170))
    for (xv, yv) in zip(x, y) where xv.isFinite && yv.isFinite {
        let (cx, cy) = (canvas.px(xv), canvas.py(yv))
        for (dx, dy) in [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)] { canvas.set(cx + dx, cy + dy, color) }
    }
    canvas.drawAxes(xLabels: (String(format: "%.3g", lo), String(format: "%.3g", hi)))
    return canvas.image
}

/// Points of y against x, each axis on its own range (e.g. a sweep's metric against one swept value).
public func pointPlot(x: [Double], y: [Double], color: RGB = (40, 90, 200), width: Int = 480, height: Int = 360) -> Image {
    let pairs = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
    guard let x0 = pairs.map(\.0).min(), let x1 = pairs.map(\.0).max(),
          var canvas = PlotCanvas(width: width, height: height, xRange: x0 < x1 ? (x0, x1) : (x0 - 1, x0 + 1),
                                  yValues: pairs.map(\.1), logY: false) else {
        return Image(width: width, height: height, channels: 3, fill: 255)
    }
    for (xv, yv) in pairs {
        let (cx, cy) = (canvas.px(xv), canvas.py(yv))
        for dx in -2...2 { for dy in -2...2 where abs(dx) + abs(dy) <= 2 { canvas.set(cx + dx, cy + dy, color) } }
    }
    canvas.drawAxes(xLabels: (String(format: "%.3g", x0), String(format: "%.3g", x1)))
    return canvas.image
}

/// The plot area of a chart: margins, value → pixel maps, and pixel drawing.
struct PlotCanvas {
    var image: Image
    let left = 56, right: Int, top = 12, bottom: Int
    let x0: Double, xSpan: Double, yMin: Double, yMax: Double, ySpan: Double, logY: Bool

    /// Nil when there is no finite y value or no room to draw.
    init?(width: Int, height: Int, xRange: (Double, Double), yValues: [Double], logY: Bool) {
        let transformed = yValues.filter(\.isFinite).map { logY ? log10(Swift.max($0, 1e-12)) : $0 }
        guard let lo = transformed.min(), let hi = transformed.max(), width > 70, height > 36 else { return nil }
        image = Image(width: width, height: height, channels: 3, fill: 255)
        (right, bottom) = (width - 12 - 1, height - 22 - 1)
        x0 = xRange.0
        xSpan = xRange.1 > xRange.0 ? xRange.1 - xRange.0 : 1
        (yMin, yMax, ySpan, self.logY) = (lo, hi, hi > lo ? hi - lo : 1, logY)
    }

    func px(_ v: Double) -> Int { left + Int((v - x0) / xSpan * Double(right - left)) }
    func py(_ v: Double) -> Int {
        let t = logY ? log10(Swift.max(v, 1e-12)) : v
        return bottom - Int((t - yMin) / ySpan * Double(bottom - top))
    }

    mutating func set(_ cx: Int, _ cy: Int, _ c: RGB) {
        guard cx >= 0, cx < image.width, cy >= 0, cy < image.height else { return }
        let i = (cy * image.width + cx) * 3
        (image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]) = c
    }

    mutating func line(_ ax: Int, _ ay: Int, _ bx: Int, _ by: Int, _ c: RGB) {
        let steps = Swift.max(Swift.abs(bx - ax), Swift.abs(by - ay), 1)
        for s in 0...steps { set(ax + (bx - ax) * s / steps, ay + (by - ay) * s / steps, c) }
    }

    /// The frame around the plot area and the range labels.
    mutating func drawAxes(xLabels: (String, String)) {
        let frame: RGB = (90, 90, 90)
        let (l, r, t, b) = (left - 1, right + 1, top - 1, bottom + 1)
        line(l, t, r, t, frame); line(l, b, r, b, frame); line(l, t, l, b, frame); line(r, t, r, b, frame)
        let isLog = logY
        let label = { (v: Double) in String(format: "%.3g", isLog ? pow(10, v) : v) }
        drawText(label(yMax), x: 2, y: t, into: &image)
        drawText(label(yMin), x: 2, y: b - 7, into: &image)
        drawText(xLabels.0, x: left, y: b + 6, into: &image)
        drawText(xLabels.1, x: r - xLabels.1.count * 6, y: b + 6, into: &image)
    }
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
