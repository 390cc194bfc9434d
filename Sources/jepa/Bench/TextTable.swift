import Foundation

/// A plain-text table with aligned columns; rows can be printed one at a time.
struct TextTable {
    enum Alignment { case left, right }

    struct Column {
        var title: String
        var width: Int
        var alignment: Alignment
        init(_ title: String, width: Int = 0, _ alignment: Alignment = .right) {
            self.title = title
            self.width = max(width, title.count)
            self.alignment = alignment
        }
    }

    var columns: [Column]
    var separator = "  "

    /// Widens the columns to fit `rows` (for tables printed in one go).
    mutating func fit(_ rows: [[String]]) {
        for row in rows {
            for (i, cell) in row.enumerated() where i < columns.count {
                columns[i].width = max(columns[i].width, cell.count)
            }
        }
    }

    func line(_ cells: [String]) -> String {
        var parts: [String] = []
        for (i, column) in columns.enumerated() {
            let cell = i < cells.count ? cells[i] : ""
            let pad = String(repeating: " ", count: max(0, column.width - cell.count))
            parts.append(column.alignment == .left ? cell + pad : pad + cell)
        }
        var text = parts.joined(separator: separator)
        while text.last == " " { text.removeLast() }
        return text
    }

    var header: String { line(columns.map(\.title)) }

    var rule: String {
        String(repeating: "-", count: columns.reduce(0) { $0 + $1.width } + separator.count * (columns.count - 1))
    }
}

/// Formats a number with a fixed count of decimals.
func fixed(_ x: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", x)
}
