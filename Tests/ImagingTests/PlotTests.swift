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

    @Test func markersAreVerticalLinesAtTheirX() {
        let img = linePlot(x: [0, 10], series: [(values: [1, 1], color: (200, 0, 0))], markers: [(x: 5, color: (0, 0, 220))],
                           width: 100, height: 80)
        // x 5 of 0…10 maps to column 56 + 5/10·31 = 71; the marker spans the plot area's height.
        #expect((12...57).allSatisfy { y in img.pixels[(y * 100 + 71) * 3 + 2] == 220 || img.pixels[(y * 100 + 71) * 3] == 200 })
        #expect(img.pixels[(30 * 100 + 60) * 3 + 2] != 220)
    }

    @Test func scatterPutsPerfectPredictionsOnTheDiagonal() {
        let img = scatterPlot(x: [0, 1], y: [0, 1], color: (0, 150, 0), width: 100, height: 100)
        func isGreen(_ x: Int, _ y: Int) -> Bool { img.pixels[(y * 100 + x) * 3 + 1] == 150 && img.pixels[(y * 100 + x) * 3] == 0 }
        // Plot area x 56...87, y 12...77: (0, 0) is the bottom-left corner, (1, 1) the top-right.
        #expect(isGreen(56, 77) && isGreen(87, 12))
        #expect(!isGreen(87, 77) && !isGreen(56, 12))
    }

    @Test func digitsAreDrawn() {
        var img = Image(width: 20, height: 10, channels: 1, fill: 255)
        drawText("1", x: 0, y: 0, into: &img)
        #expect(img.pixels[2] == 40)        // the top of "1" is its middle column
        #expect(img.pixels[0] == 255)
    }
}
