import Foundation

/// The legend of a plot: entries (grouped by family when series have a group), laid out in columns, placed in a
/// corner of the plot area when it fits there, else in a panel beside the plot or below it that enlarges the
/// picture — so the legend is always inside the figure, whatever the number of series.
struct Legend {
    /// Where the legend goes.
    enum Placement: Equatable {
        /// Inside the plot area when one column fits in a corner where it hides nothing drawn (or in
        /// `legendCorner` when that is set); else a panel to the right (up to two columns); else below, in as many
        /// columns as fit.
        case auto
        /// Inside the plot area in this corner (when one column fits; else as `.auto`).
        case inside(Plot.Corner)
        /// In a panel to the right of the plot area, which widens the picture.
        case right
        /// Below the plot, across the picture's width, which makes the picture taller.
        case below
        /// No legend.
        case hidden
    }

    /// One legend entry: a name and the symbol of its series.
    struct Entry: Equatable {
        enum Symbol: Equatable {
            /// A line sample (with the style's marker in the middle, if any).
            case line(Plot.Style, width: Double)
            /// A marker alone.
            case marker(Plot.Style)
            /// A filled square (bands).
            case swatch(String)
        }
        var name: String
        var group: String?
        var symbol: Symbol
    }

    enum Row: Equatable { case heading(String), entry(Entry) }

    static let rowHeight = 17.0, padding = 6.0, symbolWidth = 30.0, fontSize = 12.0

    /// Columns of rows.
    private(set) var columns: [[Row]]
    /// The width of each column in px.
    private(set) var columnWidths: [Double]

    var width: Double { columnWidths.reduce(0, +) + 2 * Legend.padding }
    var height: Double { Double(columns.map(\.count).max() ?? 0) * Legend.rowHeight + 2 * Legend.padding }
    var rowCount: Int { columns.reduce(0) { $0 + $1.count } }

    /// The rows of `entries` in order; entries of one group stay together under a heading, at the place of the
    /// group's first entry (headings only when some entry has a group).
    static func rows(_ entries: [Entry]) -> [Row] {
        let grouped = entries.contains { $0.group != nil }
        var rows: [Row] = [], done = Set<String>()
        for e in entries {
            guard let g = e.group else { rows.append(.entry(e)); continue }
            guard done.insert(g).inserted else { continue }
            if grouped { rows.append(.heading(g)) }
            rows += entries.filter { $0.group == g }.map(Row.entry)
        }
        return rows
    }

    /// `entries` in columns of at most `maxRows` rows (at least 2). A heading never ends a column; a column that
    /// starts inside a group repeats its heading ("… (cont.)").
    init(entries: [Entry], maxRows: Int) {
        let maxRows = max(2, maxRows)
        var columns: [[Row]] = [[]]
        var currentGroup: String?
        for row in Legend.rows(entries) {
            if case .heading(let g) = row { currentGroup = g }
            if case .entry(let e) = row, e.group == nil { currentGroup = nil }
            let isHeading: Bool = { if case .heading = row { return true }; return false }()
            let full = columns[columns.count - 1].count >= maxRows || (isHeading && columns[columns.count - 1].count >= maxRows - 1)
            if full {
                columns.append([])
                if !isHeading, let g = currentGroup { columns[columns.count - 1].append(.heading(g + " (cont.)")) }
            }
            columns[columns.count - 1].append(row)
        }
        self.columns = columns.filter { !$0.isEmpty }
        columnWidths = self.columns.map { column in column.map(Legend.rowWidth).max() ?? 0 }
    }

    /// Columns of equal height for `entries` in at most `width` px: as many columns as fit (at least one).
    init(entries: [Entry], fittingWidth width: Double) {
        let rows = Legend.rows(entries)
        var best = Legend(entries: entries, maxRows: rows.count)
        var lo = 1, hi = max(1, rows.count)
        // Fewest rows per column whose layout still fits the width (binary search: the width falls as rows grow).
        while lo < hi {
            let mid = (lo + hi) / 2
            let candidate = Legend(entries: entries, maxRows: max(2, mid))
            if candidate.width <= width { best = candidate; hi = mid } else { lo = mid + 1 }
        }
        let last = Legend(entries: entries, maxRows: max(2, lo))
        self = last.width <= width ? last : best
    }

    static func rowWidth(_ row: Row) -> Double {
        switch row {
        case .heading(let g): return PlotGeometry.textWidth(PlotGeometry.truncated(g, limit: 60), fontSize: fontSize) * 1.08 + 10
        case .entry(let e): return symbolWidth + PlotGeometry.textWidth(PlotGeometry.truncated(e.name, limit: 60), fontSize: fontSize) + 10
        }
    }

    /// The legend's SVG with its top-left corner at (x, y): a box (class "legend-box"), headings in bold, and
    /// one group of class "legend-entry" per entry.
    func svg(x: Double, y: Double, opaque: Bool) -> String {
        let n = PlotGeometry.number, esc = PlotGeometry.escape
        var s = "<g class=\"legend\">\n<rect class=\"legend-box\" x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"white\""
        s += (opaque ? "" : " fill-opacity=\"0.88\"") + " stroke=\"#999\"/>\n"
        var cx = x + Legend.padding
        for (c, column) in columns.enumerated() {
            for (r, row) in column.enumerated() {
                let top = y + Legend.padding + Double(r) * Legend.rowHeight, mid = top + Legend.rowHeight / 2, base = mid + 4
                switch row {
                case .heading(let g):
                    s += "<text class=\"legend-heading\" x=\"\(n(cx + 2))\" y=\"\(n(base))\" font-weight=\"bold\">\(esc(PlotGeometry.truncated(g, limit: 60)))</text>\n"
                case .entry(let e):
                    s += "<g class=\"legend-entry\">"
                    switch e.symbol {
                    case let .line(style, width):
                        let w = min(max(width, 1), 4)
                        s += "<line x1=\"\(n(cx + 2))\" y1=\"\(n(mid))\" x2=\"\(n(cx + Legend.symbolWidth - 4))\" y2=\"\(n(mid))\" stroke=\"\(esc(style.color))\" stroke-width=\"\(n(w))\""
                        s += style.dash.pattern(width: w).map { " stroke-dasharray=\"\($0)\"" } ?? ""
                        s += "/>"
                        if let m = style.marker { s += Plot.marker(m, cx + Legend.symbolWidth / 2 - 1, mid, 3.5, style.color) }
                    case let .marker(style):
                        s += Plot.marker(style.marker ?? .circle, cx + Legend.symbolWidth / 2 - 1, mid, 4, style.color)
                    case let .swatch(color):
                        s += "<rect x=\"\(n(cx + 8))\" y=\"\(n(mid - 5))\" width=\"10\" height=\"10\" fill=\"\(esc(color))\"/>"
                    }
                    s += "<text x=\"\(n(cx + Legend.symbolWidth))\" y=\"\(n(base))\">\(esc(PlotGeometry.truncated(e.name, limit: 60)))</text></g>\n"
                }
            }
            cx += columnWidths[c]
        }
        return s + "</g>\n"
    }
}
