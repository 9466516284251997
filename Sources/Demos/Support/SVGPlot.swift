import Foundation

/// A small SVG plotting library: one panel with axes, ticks, labels, title and legend, and layers of
/// lines, markers, filled cells (decision regions), arrows (vector fields) and filled bands (stacked areas).
struct Plot {
    enum Marker { case circle, square, triangle, cross, star }
    enum Layer {
        case line(name: String?, xs: [Double], ys: [Double], color: String, width: Double, dashed: Bool)
        case points(name: String?, xs: [Double], ys: [Double], color: String, size: Double, marker: Marker)
        /// nx × ny cells covering [x0, x1] × [y0, y1], row-major from the bottom-left, one fill colour each.
        case cells(x0: Double, x1: Double, y0: Double, y1: Double, nx: Int, ny: Int, colors: [String])
        case arrows(xs: [Double], ys: [Double], dxs: [Double], dys: [Double], color: String)
        /// A band between two curves (stacked areas, confidence bands).
        case band(name: String?, xs: [Double], lower: [Double], upper: [Double], color: String)
        case label(x: Double, y: Double, text: String, color: String)
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var xLog = false
    var yLog = false
    var xRange: ClosedRange<Double>? = nil
    var yRange: ClosedRange<Double>? = nil
    var width = 680.0
    var height = 440.0
    var layers: [Layer] = []
    enum Corner { case topRight, bottomRight, topLeft, bottomLeft }
    var legendCorner = Corner.topRight

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
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
    /// Axis fractions drawn: the frame is [0, 1]; geometry is clipped to a little beyond it (the clip path
    /// hides the rest), so every coordinate in the file is finite and near the picture.
    private static let clipBox = (lo: -0.02, hi: 1.02)

    /// The SVG text. Total: any data (empty, NaN, ±inf, huge, ≤ 0 on a log axis) and any ranges give a finite,
    /// well-formed picture in time bounded by the number of points and the picture's size.
    func svg() -> String {
        let (xa, ya) = axes()
        let width = Plot.clampSize(self.width, default: 680), height = Plot.clampSize(self.height, default: 440)
        let top = 44.0, bottom = 58.0, right = 24.0
        let ph = max(40, height - top - bottom)
        let yTicks = ya.ticks(length: ph, extent: { _ in 14 }, gap: 4)
        let yLabelWidth = yTicks.compactMap(\.label).map { PlotGeometry.textWidth($0) }.max() ?? 0
        let left = max(78, yLabelWidth + 36)
        let pw = max(40, width - left - right)
        let xTicks = xa.ticks(length: pw, extent: { PlotGeometry.textWidth($0) })
        func px(_ u: Double) -> Double { left + pw * u }
        func py(_ v: Double) -> Double { top + ph * (1 - v) }
        func tx(_ x: Double) -> Double { px(xa.fraction(x)) }
        func ty(_ y: Double) -> Double { py(ya.fraction(y)) }
        /// Axis fractions of a point, nil when it cannot be placed (NaN, ±inf, ≤ 0 on a log axis).
        func frac(_ x: Double, _ y: Double) -> (Double, Double)? {
            xa.accepts(x) && ya.accepts(y) ? (xa.fraction(x), ya.fraction(y)) : nil
        }
        func inside(_ p: (Double, Double)) -> Bool { p.0 >= 0 && p.0 <= 1 && p.1 >= 0 && p.1 <= 1 }
        let box = Plot.clipBox
        let totalWidth = width
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(totalWidth))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(totalWidth)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<defs><clipPath id=\"plot\"><rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\"/></clipPath>"
        s += "<marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"5\" markerHeight=\"5\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"context-stroke\"/></marker></defs>\n"
        // Grid, tick marks and tick labels.
        for t in xTicks {
            let x = tx(t.value)
            if t.major { s += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(top + ph))\" stroke=\"#e6e6e6\"/>" }
            s += "<line x1=\"\(f(x))\" y1=\"\(f(top + ph))\" x2=\"\(f(x))\" y2=\"\(f(top + ph + (t.major ? 5 : 3)))\" stroke=\"#333\"/>"
            if let label = t.label { s += "<text class=\"xtick\" x=\"\(f(x))\" y=\"\(f(top + ph + 18))\" text-anchor=\"middle\">\(escape(label))</text>" }
            s += "\n"
        }
        for t in yTicks {
            let y = ty(t.value)
            if t.major { s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + pw))\" y2=\"\(f(y))\" stroke=\"#e6e6e6\"/>" }
            s += "<line x1=\"\(f(left - (t.major ? 5 : 3)))\" y1=\"\(f(y))\" x2=\"\(f(left))\" y2=\"\(f(y))\" stroke=\"#333\"/>"
            if let label = t.label { s += "<text class=\"ytick\" x=\"\(f(left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(escape(label))</text>" }
            s += "\n"
        }
        s += "<g clip-path=\"url(#plot)\">\n"
        var legend: [(String, String, Bool, Bool, Marker?)] = []   // name, colour, is line, dashed, marker of a point layer
        for layer in layers {
            switch layer {
            case let .cells(x0, x1, y0, y1, nx, ny, colors):
                guard nx > 0, ny > 0, !colors.isEmpty, let a0 = frac(x0, y0), let a1 = frac(x1, y1) else { continue }
                // Cell edges as axis fractions, clamped to the clip box (for rectangles, clamping is clipping).
                func cx(_ i: Int) -> Double { min(max(a0.0 + (a1.0 - a0.0) * Double(i) / Double(nx), box.lo), box.hi) }
                func cy(_ j: Int) -> Double { min(max(a0.1 + (a1.1 - a0.1) * Double(j) / Double(ny), box.lo), box.hi) }
                // One rectangle per run of equal colours in a row keeps the file small.
                for j in 0..<min(ny, (colors.count + nx - 1) / nx) {
                    var i = 0
                    while i < nx, j * nx + i < colors.count {
                        var e = i + 1
                        while e < nx, j * nx + e < colors.count, colors[j * nx + e] == colors[j * nx + i] { e += 1 }
                        let xa = px(min(cx(i), cx(e))), xb = px(max(cx(i), cx(e)))
                        let yc = py(max(cy(j), cy(j + 1))), yd = py(min(cy(j), cy(j + 1)))
                        if xb > xa && yd > yc {
                            s += "<rect x=\"\(f(xa))\" y=\"\(f(yc))\" width=\"\(f(xb - xa + 0.5))\" height=\"\(f(yd - yc + 0.5))\" fill=\"\(escape(colors[j * nx + i]))\"/>"
                        }
                        i = e
                    }
                }
                s += "\n"
            case let .band(name, xs, lower, upper, color):
                let top = zip(xs, upper).compactMap { frac($0.0, $0.1) }
                let bottom = zip(xs, lower).compactMap { frac($0.0, $0.1) }.reversed()
                let poly = PlotGeometry.clipPolygon(top + bottom, lo: box.lo, hi: box.hi)
                if poly.count >= 3 {
                    s += "<polygon points=\"\(poly.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " "))\" fill=\"\(escape(color))\" fill-opacity=\"0.85\" stroke=\"white\" stroke-width=\"0.5\"/>\n"
                }
                if let name { legend.append((name, color, false, false, nil)) }
            case let .line(name, xs, ys, color, w, dashed):
                for run in PlotGeometry.clipPolyline(zip(xs, ys).map { frac($0.0, $0.1) }, lo: box.lo, hi: box.hi) {
                    s += "<polyline points=\"\(run.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(escape(color))\" stroke-width=\"\(f(Plot.clampStroke(w)))\"\(dashed ? " stroke-dasharray=\"6,4\"" : "") stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n"
                }
                if let name { legend.append((name, color, true, dashed, nil)) }
            case let .points(name, xs, ys, color, size, marker):
                for p in zip(xs, ys).compactMap({ frac($0.0, $0.1) }) where inside(p) { s += Plot.marker(marker, px(p.0), py(p.1), Plot.clampStroke(size), color) }
                s += "\n"
                if let name { legend.append((name, color, false, false, marker)) }
            case let .arrows(xs, ys, dxs, dys, color):
                for k in 0..<min(xs.count, ys.count, dxs.count, dys.count) {
                    guard let p = frac(xs[k], ys[k]), let q = frac(xs[k] + dxs[k], ys[k] + dys[k]),
                          let (a, b) = PlotGeometry.clip(p, q, lo: box.lo, hi: box.hi) else { continue }
                    s += "<line x1=\"\(f(px(a.0)))\" y1=\"\(f(py(a.1)))\" x2=\"\(f(px(b.0)))\" y2=\"\(f(py(b.1)))\" stroke=\"\(escape(color))\" stroke-width=\"1.2\"\(b == q ? " marker-end=\"url(#arrow)\"" : "")/>"
                }
                s += "\n"
            case let .label(x, y, text, color):
                guard let p = frac(x, y), inside(p) else { continue }
                // Text that starts right of the middle runs leftwards, so it stays inside the frame.
                let anchor = p.0 > 0.5 ? "end" : "start", dx = p.0 > 0.5 ? -6.0 : 6.0
                s += "<text x=\"\(f(px(p.0) + dx))\" y=\"\(f(py(p.1) - 6))\" text-anchor=\"\(anchor)\" fill=\"\(escape(color))\">\(escape(PlotGeometry.truncated(text)))</text>\n"
            }
        }
        s += "</g>\n"
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(f(width / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(escape(PlotGeometry.truncated(title)))</text>\n"
        s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\" font-size=\"13\">\(escape(PlotGeometry.truncated(xLabel)))</text>\n"
        s += "<text transform=\"translate(\(f(left - yLabelWidth - 20)),\(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">\(escape(PlotGeometry.truncated(yLabel)))</text>\n"
        if !legend.isEmpty {
            let names = legend.map { PlotGeometry.truncated($0.0) }
            let lw = 30 + (names.map { PlotGeometry.textWidth($0) }.max() ?? 0), lh = 18.0 * Double(legend.count) + 8
            let right = legendCorner == .topRight || legendCorner == .bottomRight
            let top = legendCorner == .topRight || legendCorner == .topLeft
            let lx = right ? left + pw - lw - 8 : left + 8, ly = top ? 44.0 + 8 : 44.0 + ph - lh - 8
            s += "<rect x=\"\(f(lx))\" y=\"\(f(ly))\" width=\"\(f(lw))\" height=\"\(f(lh))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"/>\n"
            for (k, (_, color, isLine, dashed, marker)) in legend.enumerated() {
                let y = ly + 16 + 18 * Double(k)
                s += marker.map { Plot.marker($0, lx + 13, y - 4, 4, color) } ?? ""
                s += marker != nil ? "" : isLine ? "<line x1=\"\(f(lx + 4))\" y1=\"\(f(y - 4))\" x2=\"\(f(lx + 21))\" y2=\"\(f(y - 4))\" stroke=\"\(escape(color))\" stroke-width=\"2.5\"\(dashed ? " stroke-dasharray=\"4,3\"" : "")/>"
                            : "<rect x=\"\(f(lx + 8))\" y=\"\(f(y - 9))\" width=\"10\" height=\"10\" fill=\"\(escape(color))\"/>"
                s += "<text x=\"\(f(lx + 24))\" y=\"\(f(y))\">\(escape(names[k]))</text>\n"
            }
        }
        return s + "</svg>\n"
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
            case let .line(_, x, y, _, _, _), let .points(_, x, y, _, _, _): xs += x; ys += y
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

/// Grayscale images in a grid (e.g. learned 8×8 digits), with a caption under each.
func imageGridSVG(title: String, images: [[Double]], side: Int, captions: [String], columns: Int = 5, cell: Double = 10) -> String {
    let rows = (images.count + columns - 1) / columns
    let tile = Double(side) * cell, gap = 18.0
    let width = Double(columns) * (tile + gap) + gap, height = 40 + Double(rows) * (tile + gap + 14) + gap
    var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"\(f(width / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>\n"
    for (k, img) in images.enumerated() {
        let ox = gap + Double(k % columns) * (tile + gap), oy = 40 + Double(k / columns) * (tile + gap + 14)
        let lo = img.min() ?? 0, hi = img.max() ?? 1
        for (p, v) in img.enumerated() {
            let level = Int(255 * (1 - (hi > lo ? (v - lo) / (hi - lo) : 0)))
            s += "<rect x=\"\(f(ox + Double(p % side) * cell))\" y=\"\(f(oy + Double(p / side) * cell))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"rgb(\(level),\(level),\(level))\"/>"
        }
        s += "\n<rect x=\"\(f(ox))\" y=\"\(f(oy))\" width=\"\(f(tile))\" height=\"\(f(tile))\" fill=\"none\" stroke=\"#333\"/>"
        if k < captions.count { s += "<text x=\"\(f(ox + tile / 2))\" y=\"\(f(oy + tile + 13))\" text-anchor=\"middle\">\(escape(captions[k]))</text>\n" }
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
