import Foundation

/// A small SVG plotting library: one panel with axes, ticks, labels, title and legend, and layers of
/// lines, markers, filled cells (decision regions), arrows (vector fields) and filled bands (stacked areas).
///
/// Total: any data and settings give a finite, well-formed picture (see `Axis`). Legible at any number of
/// series: a named series whose look repeats an earlier one's is re-styled (`resolvedLayers`), and the legend
/// goes where it fits (`Legend.Placement`), enlarging the picture rather than running off it.
struct Plot {
    enum Marker: Hashable { case circle, square, triangle, cross, star }
    enum Layer {
        case line(name: String?, xs: [Double], ys: [Double], color: String, width: Double, dashed: Bool)
        case points(name: String?, xs: [Double], ys: [Double], color: String, size: Double, marker: Marker)
        /// nx × ny cells covering [x0, x1] × [y0, y1], row-major from the bottom-left, one fill colour each.
        case cells(x0: Double, x1: Double, y0: Double, y1: Double, nx: Int, ny: Int, colors: [String])
        case arrows(xs: [Double], ys: [Double], dxs: [Double], dys: [Double], color: String)
        /// A band between two curves (stacked areas, confidence bands).
        case band(name: String?, xs: [Double], lower: [Double], upper: [Double], color: String)
        case label(x: Double, y: Double, text: String, color: String)
        /// A line and/or markers in a `Style`, optionally in a legend group (`series`, `line(style:)`, `points(style:)`).
        case series(Series)
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var xLog: Bool
    var yLog: Bool
    var xRange: ClosedRange<Double>?
    var yRange: ClosedRange<Double>?
    /// Size of the picture without a legend panel (a legend beside or below the plot adds to it).
    var width: Double
    var height: Double
    var layers: [Layer]
    enum Corner { case topRight, bottomRight, topLeft, bottomLeft }
    /// The corner of an inside legend (nil: the corner that covers the fewest data points).
    var legendCorner: Corner?
    /// Where the legend goes (default: inside when it fits, else beside or below the plot).
    var legend: Legend.Placement
    /// The x axis aims at one tick per this many pixels (linear axes; fewer when the labels would overlap).
    var xTickSpacing = 70.0

    init(title: String, xLabel: String, yLabel: String, xLog: Bool = false, yLog: Bool = false, xRange: ClosedRange<Double>? = nil,
         yRange: ClosedRange<Double>? = nil, width: Double = 680, height: Double = 440, layers: [Layer] = [],
         legendCorner: Corner? = nil, legend: Legend.Placement = .auto) {
        (self.title, self.xLabel, self.yLabel, self.xLog, self.yLog) = (title, xLabel, yLabel, xLog, yLog)
        (self.xRange, self.yRange, self.width, self.height, self.layers) = (xRange, yRange, width, height, layers)
        (self.legendCorner, self.legend) = (legendCorner, legend)
    }

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    /// Palette colour i (cycling). For many series use `style(i)` or `series(...)`: they also vary the dash.
    static func color(_ i: Int) -> String { palette[((i % palette.count) + palette.count) % palette.count] }

    mutating func line(_ name: String?, _ xs: [Double], _ ys: [Double], color: String, width: Double = 2, dashed: Bool = false) {
        layers.append(.line(name: name, xs: xs, ys: ys, color: color, width: width, dashed: dashed))
    }
    mutating func points(_ name: String?, _ xs: [Double], _ ys: [Double], color: String, size: Double = 4, marker: Marker = .circle) {
        layers.append(.points(name: name, xs: xs, ys: ys, color: color, size: size, marker: marker))
    }

    // MARK: Rendering

    /// Plot sizes are clamped to this range of pixels, so no setting makes a picture empty or unbounded.
    static let sizeLimits = 120.0...20_000.0

    /// The SVG text. Total: any data (empty, NaN, ±inf, huge, ≤ 0 on a log axis) and any ranges give a finite,
    /// well-formed picture in time bounded by the number of points and the picture's size.
    func svg() -> String {
        let drawn = resolvedLayers()
        let (xa, ya) = axes()
        let width = Plot.clampSize(self.width, default: 680), height = Plot.clampSize(self.height, default: 440)
        let top = 44.0, bottom = 58.0, right = 24.0
        let ph = max(40, height - top - bottom)
        let yTicks = ya.ticks(length: ph, extent: { _ in 14 }, gap: 4, spacing: 45)
        let yLabelWidth = yTicks.compactMap(\.label).map { PlotGeometry.textWidth($0) }.max() ?? 0
        let left = max(78, yLabelWidth + 36)
        let pw = max(40, width - left - right)
        let xTicks = xa.ticks(length: pw, extent: { PlotGeometry.textWidth($0) }, spacing: xTickSpacing)
        let frame = PlotFrame(left: left, top: top, width: pw, height: ph, x: xa, y: ya)
        let (legendSVG, totalWidth, totalHeight) = placeLegend(Plot.legendEntries(drawn), drawn: drawn, frame: frame, width: width, height: height)
        let f = PlotGeometry.number, esc = PlotGeometry.escape
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(totalWidth))\" height=\"\(Int(totalHeight))\" viewBox=\"0 0 \(Int(totalWidth)) \(Int(totalHeight))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<defs><clipPath id=\"plot\"><rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\"/></clipPath>"
        s += "<marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"5\" markerHeight=\"5\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"context-stroke\"/></marker></defs>\n"
        s += Plot.ticksSVG(xTicks, frame: frame, horizontal: true) + Plot.ticksSVG(yTicks, frame: frame, horizontal: false)
        s += "<g clip-path=\"url(#plot)\">\n"
        for layer in drawn { s += Plot.render(layer, in: frame) }
        s += "</g>\n"
        s += "<rect class=\"frame\" x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#333\"/>\n"
        let titleText = PlotGeometry.fitted(title, width: totalWidth - 16, fontSize: 15, bold: true)
        s += "<text class=\"title\" x=\"\(f(totalWidth / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(esc(titleText))</text>\n"
        let xText = PlotGeometry.fitted(xLabel, width: pw + left - 10, fontSize: 13)
        s += "<text class=\"xlabel\" x=\"\(f(left + pw / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\" font-size=\"13\">\(esc(xText))</text>\n"
        let yText = PlotGeometry.fitted(yLabel, width: ph + 30, fontSize: 13)
        s += "<text class=\"ylabel\" transform=\"translate(\(f(left - yLabelWidth - 20)),\(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">\(esc(yText))</text>\n"
        return s + legendSVG + "</svg>\n"
    }

    /// The legend's SVG and the picture's size with it: inside the plot area when one column fits in a corner
    /// where it hides no line, marker, band or label (or in `legendCorner` when set), else in a panel to the
    /// right (up to two columns of the picture's height), else below in as many columns as fit the width.
    private func placeLegend(_ entries: [Legend.Entry], drawn: [Layer], frame: PlotFrame, width: Double,
                             height: Double) -> (svg: String, width: Double, height: Double) {
        guard !entries.isEmpty, legend != .hidden else { return ("", width, height) }
        let inset = 8.0
        let single = Legend(entries: entries, maxRows: Int.max)
        let fitsInside = single.height <= frame.height - 2 * inset && single.width <= 0.5 * frame.width
        let sideRows = Int((height - frame.top - 12 - 2 * Legend.padding) / Legend.rowHeight)
        let side = Legend(entries: entries, maxRows: sideRows)
        var placement = legend
        if case .inside = placement, !fitsInside { placement = .auto }
        if placement == .auto {
            // Inside only where it hides nothing (or in the corner asked for); else beside the plot, else below.
            let corner = legendCorner.map { (corner: $0, covered: 0) } ?? bestCorner(single, drawn: drawn, frame: frame, inset: inset)
            placement = fitsInside && (corner.covered == 0 || legendCorner != nil) ? .inside(corner.corner)
                : side.columns.count <= 2 ? .right : .below
        }
        switch placement {
        case .inside(let corner):
            let (x, y) = Plot.cornerOrigin(corner, size: (single.width, single.height), frame: frame, inset: inset)
            return (single.svg(x: x, y: y, opaque: false), width, height)
        case .right:
            let x = frame.left + frame.width + 14
            return (side.svg(x: x, y: frame.top, opaque: true), max(width, x + side.width + 10), max(height, frame.top + side.height + 12))
        default:
            let below = Legend(entries: entries, fittingWidth: width - 24)
            let total = max(width, below.width + 24)
            return (below.svg(x: (total - below.width) / 2, y: height + 2, opaque: true), total, height + below.height + 12)
        }
    }

    /// Grid lines (at major ticks), tick marks and labels of the x axis (`horizontal`) or the y axis.
    private static func ticksSVG(_ ticks: [Axis.Tick], frame: PlotFrame, horizontal: Bool) -> String {
        let f = PlotGeometry.number, esc = PlotGeometry.escape
        let (left, top, right, bottom) = (frame.left, frame.top, frame.left + frame.width, frame.top + frame.height)
        var s = ""
        for t in ticks {
            let length = t.major ? 5.0 : 3.0
            if horizontal {
                let x = frame.px(frame.x.fraction(t.value))
                if t.major { s += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(bottom))\" stroke=\"#e6e6e6\"/>" }
                s += "<line x1=\"\(f(x))\" y1=\"\(f(bottom))\" x2=\"\(f(x))\" y2=\"\(f(bottom + length))\" stroke=\"#333\"/>"
                if let label = t.label { s += "<text class=\"xtick\" x=\"\(f(x))\" y=\"\(f(bottom + 18))\" text-anchor=\"middle\">\(esc(label))</text>" }
            } else {
                let y = frame.py(frame.y.fraction(t.value))
                if t.major { s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(right))\" y2=\"\(f(y))\" stroke=\"#e6e6e6\"/>" }
                s += "<line x1=\"\(f(left - length))\" y1=\"\(f(y))\" x2=\"\(f(left))\" y2=\"\(f(y))\" stroke=\"#333\"/>"
                if let label = t.label { s += "<text class=\"ytick\" x=\"\(f(left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(esc(label))</text>" }
            }
            s += "\n"
        }
        return s
    }

    /// Top-left of a legend box of `size` in a corner of the plot area.
    private static func cornerOrigin(_ c: Corner, size: (Double, Double), frame: PlotFrame, inset: Double) -> (Double, Double) {
        let right = c == .topRight || c == .bottomRight, top = c == .topRight || c == .topLeft
        return (right ? frame.left + frame.width - size.0 - inset : frame.left + inset,
                top ? frame.top + inset : frame.top + frame.height - size.1 - inset)
    }

    /// The corner whose legend box covers the fewest drawn things, and how many (ties: top right, top left,
    /// bottom right, bottom left).
    private func bestCorner(_ legend: Legend, drawn: [Layer], frame: PlotFrame, inset: Double) -> (corner: Corner, covered: Int) {
        let corners: [Corner] = [.topRight, .topLeft, .bottomRight, .bottomLeft]
        let counts = corners.map { c -> Int in
            let (x, y) = Plot.cornerOrigin(c, size: (legend.width, legend.height), frame: frame, inset: inset)
            // The box in axis fractions, 4 px larger on every side.
            let u0 = (x - 4 - frame.left) / frame.width, u1 = (x + legend.width + 4 - frame.left) / frame.width
            let v0 = 1 - (y + legend.height + 4 - frame.top) / frame.height, v1 = 1 - (y - 4 - frame.top) / frame.height
            return Plot.coverage(of: (u0...u1, v0...v1), drawn, frame: frame)
        }
        let best = counts.indices.min { counts[$0] < counts[$1] } ?? 0
        return (corners[best], counts[best])
    }

    /// A size in pixels within `sizeLimits` (a non-finite one becomes the default).
    static func clampSize(_ v: Double, default d: Double) -> Double { v.isFinite ? min(max(v, sizeLimits.lowerBound), sizeLimits.upperBound) : d }
    /// A stroke width or marker size within 0.1…50 px.
    static func clampStroke(_ v: Double) -> Double { v.isFinite ? min(max(v, 0.1), 50) : 1 }

    static func marker(_ m: Marker, _ x: Double, _ y: Double, _ r: Double, _ color: String) -> String {
        switch m {
        case .circle: return "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"\(f(r))\" fill=\"\(escape(color))\" stroke=\"black\" stroke-width=\"0.6\"/>"
        case .square: return "<rect x=\"\(f(x - r))\" y=\"\(f(y - r))\" width=\"\(f(2 * r))\" height=\"\(f(2 * r))\" fill=\"\(escape(color))\" stroke=\"black\" stroke-width=\"0.6\"/>"
        case .triangle: return "<polygon points=\"\(f(x)),\(f(y - r * 1.2)) \(f(x - r)),\(f(y + r * 0.8)) \(f(x + r)),\(f(y + r * 0.8))\" fill=\"\(escape(color))\" stroke=\"black\" stroke-width=\"0.6\"/>"
        case .cross: return "<path d=\"M\(f(x - r)),\(f(y - r)) L\(f(x + r)),\(f(y + r)) M\(f(x - r)),\(f(y + r)) L\(f(x + r)),\(f(y - r))\" stroke=\"\(escape(color))\" stroke-width=\"2\"/>"
        case .star:
            let pts = (0..<10).map { k -> String in
                let a = Double.pi / 2 + Double(k) * Double.pi / 5, rr = k % 2 == 0 ? r * 1.6 : r * 0.7
                return "\(f(x + rr * cos(a))),\(f(y - rr * sin(a)))"
            }
            return "<polygon points=\"\(pts.joined(separator: " "))\" fill=\"\(escape(color))\" stroke=\"black\" stroke-width=\"0.8\"/>"
        }
    }

    /// The x and y axes: the requested ranges, or the range of every value of every layer (see `Axis`).
    func axes() -> (x: Axis, y: Axis) {
        var xs: [Double] = [], ys: [Double] = []
        for layer in layers {
            switch layer {
            case .line, .points, .series: if let s = layer.asSeries { xs += s.xs; ys += s.ys }
            case let .cells(x0, x1, y0, y1, _, _, _): xs += [x0, x1]; ys += [y0, y1]
            case let .arrows(x, y, dx, dy, _): xs += x + zip(x, dx).map(+); ys += y + zip(y, dy).map(+)
            case let .band(_, x, lo, hi, _): xs += x; ys += lo + hi
            case let .label(x, y, _, _): xs.append(x); ys.append(y)
            }
        }
        return (Axis(data: xs, requested: xRange, log: xLog), Axis(data: ys, requested: yRange, log: yLog))
    }

    /// The range an axis of these values gets (see `Axis`): finite, non-empty, > 0 on a log axis.
    static func autoRange(_ v: [Double], _ log: Bool) -> ClosedRange<Double> {
        let a = Axis(data: v, log: log)
        return a.lower...a.upper
    }
}

/// Grayscale images in a grid (e.g. learned 8×8 digits), with a caption under each. Each image is scaled from its
/// own minimum (white) to its maximum (black); a non-finite pixel is drawn red. The picture is wide enough for the
/// title and the captions.
func imageGridSVG(title: String, images: [[Double]], side: Int, captions: [String], columns: Int = 5, cell: Double = 10) -> String {
    let columns = max(1, columns), side = max(1, side), cell = cell.isFinite ? min(max(cell, 1), 100) : 10
    let rows = (images.count + columns - 1) / columns
    let tile = Double(side) * cell, gap = 18.0
    let captionWidth = captions.map { PlotGeometry.textWidth(PlotGeometry.truncated($0, limit: 60)) }.max() ?? 0
    let column = max(tile, captionWidth + 6)
    let content = Double(columns) * (column + gap) + gap
    let titleText = PlotGeometry.truncated(title)
    let width = max(content, PlotGeometry.textWidth(titleText, fontSize: 15) * 1.08 + 24)
    let height = 40 + Double(rows) * (tile + gap + 14) + gap
    let left = (width - content) / 2
    var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"\(f(width / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(escape(titleText))</text>\n"
    for (k, img) in images.enumerated() {
        let ox = left + gap + Double(k % columns) * (column + gap) + (column - tile) / 2, oy = 40 + Double(k / columns) * (tile + gap + 14)
        let finite = img.filter(\.isFinite)
        let lo = finite.min() ?? 0, hi = finite.max() ?? 1
        for (p, v) in img.prefix(side * side).enumerated() {
            let level = v.isFinite ? Int((255 * (1 - (hi > lo ? (v - lo) / (hi - lo) : 0))).rounded()) : -1
            let fill = level < 0 ? "#d62728" : "rgb(\(level),\(level),\(level))"
            s += "<rect x=\"\(f(ox + Double(p % side) * cell))\" y=\"\(f(oy + Double(p / side) * cell))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"\(fill)\"/>"
        }
        s += "\n<rect x=\"\(f(ox))\" y=\"\(f(oy))\" width=\"\(f(tile))\" height=\"\(f(tile))\" fill=\"none\" stroke=\"#333\"/>"
        if k < captions.count {
            s += "<text x=\"\(f(ox + tile / 2))\" y=\"\(f(oy + tile + 13))\" text-anchor=\"middle\">\(escape(PlotGeometry.truncated(captions[k], limit: 60)))</text>\n"
        }
    }
    return s + "</svg>\n"
}

/// A colour for a class with a given opacity-like lightness (decision regions).
func lightColor(_ cls: Int, strength: Double = 0.25) -> String {
    let hex = Plot.color(cls).dropFirst()
    let v = Int(hex, radix: 16) ?? 0
    let (r, g, b) = (Double((v >> 16) & 255), Double((v >> 8) & 255), Double(v & 255))
    func mix(_ c: Double) -> Int { Int(255 - strength * (255 - c)) }
    return "rgb(\(mix(r)),\(mix(g)),\(mix(b)))"
}

private func f(_ x: Double) -> String { PlotGeometry.number(x) }
private func escape(_ s: String) -> String { PlotGeometry.escape(s) }
