import Testing
@testable import Imaging

@Suite struct PlotTests {
    @Test func lineGoesFromTopLeftToBottomRightForAFallingSeries() {
        let img = linePlot(x: [0, 1, 2], series: [(values: [3, 2, 1], color: (200, 0, 0))], width: 100, height: 80)
        #expect(img.width == 100 && img.height == 80 && img.channels == 3)
        func isRed(_ x: Int, _ y: Int) -> Bool {
            let i = (y * 100 + x) * 3
            return img.pixels[i] == 200 && img.pixels[i + 1] == 0
        }
        // Plot area: x 56...87, y 12...57 (margins 56/12/12/22).
        #expect(isRed(56, 12) && isRed(87, 57))
        #expect(!isRed(87, 12) && !isRed(56, 57))
    }

    @Test func digitsAreDrawn() {
        var img = Image(width: 20, height: 10, channels: 1, fill: 255)
        drawText("1", x: 0, y: 0, into: &img)
        #expect(img.pixels[2] == 40)        // the top of "1" is its middle column
        #expect(img.pixels[0] == 255)
    }
}
