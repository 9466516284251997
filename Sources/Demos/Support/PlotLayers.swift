import Foundation

/// The plot area in pixels and its two axes: maps data to pixels.
struct PlotFrame {
    var left: Double, top: Double, width: Double, height: Double
    var x: Axis, y: Axis
    /// Axis fractions drawn: the frame is [0, 1]²; geometry is clipped a little beyond it (the clip path hides
    /// the rest), so every coordinate in the file is finite and near the picture.
    static let clip = (lo: -0.02, hi: 1.02)

    func px(_ u: Double) -> Double { left + width * u }
    func py(_ v: Double) -> Double { top + height * (1 - v) }
    /// Axis fractions of a point, nil when it cannot be placed (NaN, ±inf, ≤ 0 on a log axis).
    func fraction(_ x: Double, _ y: Double) -> (Double, Double)? {
        self.x.accepts(x) && self.y.accepts(y) ? (self.x.fraction(x), self.y.fraction(y)) : nil
    }
    func inside(_ p: (Double, Double)) -> Bool { p.0 >= 0 && p.0 <= 1 && p.1 >= 0 && p.1 <= 1 }
    func point(_ p: (Double, Double)) -> String { "\(PlotGeometry.number(px(p.0))),\(PlotGeometry.number(py(p.1)))" }
}

extension Plot {
    /// The layers as drawn: `.line` and `.points` become series, and a named series whose colour, dash and marker
    /// repeat an earlier named one's gets the first unused `Plot.style(i)` instead (its unnamed companions right
    /// after it — markers, arrows of the same colour — follow), so no two legend entries look alike.
    func resolvedLayers() -> [Layer] {
        var used = Set<StyleKey>(), bandColors = Set<String>()
        var restyle: (from: String, to: Style)?
        var out: [Layer] = []
        for layer in layers {
            if var s = layer.asSeries {
                if s.name != nil {
                    restyle = nil
                    if used.contains(StyleKey(s)) {
                        let old = s.style
                        var i = 0
                        repeat {
                            let c = Plot.style(i)
                            s.style = s.width > 0 ? c : Style(color: c.color, marker: c.marker ?? old.marker)
                            i += 1
                        } while used.contains(StyleKey(s)) && i < 100_000
                        restyle = (old.color.lowercased(), s.style)
                    }
                    used.insert(StyleKey(s))
                } else if let r = restyle, s.style.color.lowercased() == r.from {
                    s.style.color = r.to.color
                    if s.width > 0 { s.style.dash = r.to.dash } else if s.style.marker == .circle, let m = r.to.marker { s.style.marker = m }
                }
                out.append(.series(s))
            } else if case let .arrows(xs, ys, dxs, dys, color) = layer, let r = restyle, color.lowercased() == r.from {
                out.append(.arrows(xs: xs, ys: ys, dxs: dxs, dys: dys, color: r.to.color))
            } else if case let .band(name?, xs, lower, upper, color) = layer {
                // Named bands (stacked areas) are told apart by colour alone: a repeated one gets the next unused.
                restyle = nil
                var c = color, i = 0
                while bandColors.contains(c.lowercased()) && i < 100_000 { c = i < 50 ? Plot.style(i).color : Plot.generatedColor(i); i += 1 }
                bandColors.insert(c.lowercased())
                out.append(.band(name: name, xs: xs, lower: lower, upper: upper, color: c))
            } else {
                out.append(layer)
            }
        }
        return out
    }

    /// The legend entries of resolved layers: named series and bands, in order.
    static func legendEntries(_ layers: [Layer]) -> [Legend.Entry] {
        layers.compactMap { layer in
            switch layer {
            case let .series(s):
                guard let name = s.name else { return nil }
                return Legend.Entry(name: name, group: s.group, symbol: s.width > 0 ? .line(s.style, width: s.width) : .marker(s.style))
            case let .band(name?, _, _, _, color): return Legend.Entry(name: name, group: nil, symbol: .swatch(color))
            default: return nil
            }
        }
    }

    /// How many drawn things (line segments, markers, arrows, band slices, labels) a box covers; the box is in
    /// axis fractions. Used to put an inside legend where it hides nothing, or else outside the plot area.
    static func coverage(of box: (x: ClosedRange<Double>, y: ClosedRange<Double>), _ layers: [Layer], frame: PlotFrame) -> Int {
        func hits(_ p: (Double, Double)?, _ q: (Double, Double)?) -> Bool {
            guard let p, let q else { return false }
            return PlotGeometry.clip(p, q, x: box.x, y: box.y) != nil
        }
        func inside(_ p: (Double, Double)?) -> Bool { p.map { box.x.contains($0.0) && box.y.contains($0.1) } ?? false }
        var count = 0
        for layer in layers {
            switch layer {
            case let .series(s):
                let pts = zip(s.xs, s.ys).map { frame.fraction($0.0, $0.1) }
                if s.width > 0 { count += zip(pts, pts.dropFirst()).filter { hits($0, $1) }.count }
                if s.width == 0 || s.style.marker != nil { count += pts.filter(inside).count }
            case let .band(_, xs, lo, hi, _):
                let bottom = zip(xs, lo).map { frame.fraction($0.0, $0.1) }, top = zip(xs, hi).map { frame.fraction($0.0, $0.1) }
                count += zip(bottom, top).filter { hits($0, $1) }.count
                count += zip(top, top.dropFirst()).filter { hits($0, $1) }.count
            case let .arrows(xs, ys, dxs, dys, _):
                for k in 0..<min(xs.count, ys.count, dxs.count, dys.count) where hits(frame.fraction(xs[k], ys[k]), frame.fraction(xs[k] + dxs[k], ys[k] + dys[k])) {
                    count += 1
                }
            case let .label(x, y, text, _):
                guard let p = frame.fraction(x, y) else { continue }
                let w = PlotGeometry.textWidth(text) / frame.width, h = 14 / frame.height
                let (x0, x1) = p.0 > 0.5 ? (p.0 - w, p.0) : (p.0, p.0 + w)
                if x0 <= box.x.upperBound && x1 >= box.x.lowerBound && p.1 <= box.y.upperBound && p.1 + h >= box.y.lowerBound { count += 1 }
            case .cells, .line, .points:
                continue   // cells fill the area under everything; .line and .points are resolved into series
            }
        }
        return count
    }

    /// The SVG of one resolved layer.
    static func render(_ layer: Layer, in frame: PlotFrame) -> String {
        let f = PlotGeometry.number, esc = PlotGeometry.escape, box = PlotFrame.clip
        var s = ""
        switch layer {
        case let .cells(x0, x1, y0, y1, nx, ny, colors):
            guard nx > 0, ny > 0, !colors.isEmpty, let a0 = frame.fraction(x0, y0), let a1 = frame.fraction(x1, y1) else { return "" }
            // Cell edges as axis fractions, clamped to the clip box (for rectangles, clamping is clipping).
            func cx(_ i: Int) -> Double { min(max(a0.0 + (a1.0 - a0.0) * Double(i) / Double(nx), box.lo), box.hi) }
            func cy(_ j: Int) -> Double { min(max(a0.1 + (a1.1 - a0.1) * Double(j) / Double(ny), box.lo), box.hi) }
            // One rectangle per run of equal colours in a row keeps the file small; crisp edges, so that
            // anti-aliasing leaves no light seams between rows.
            s += "<g shape-rendering=\"crispEdges\">"
            for j in 0..<min(ny, (colors.count + nx - 1) / nx) {
                var i = 0
                while i < nx, j * nx + i < colors.count {
                    var e = i + 1
                    while e < nx, j * nx + e < colors.count, colors[j * nx + e] == colors[j * nx + i] { e += 1 }
                    let xa = frame.px(min(cx(i), cx(e))), xb = frame.px(max(cx(i), cx(e)))
                    let yc = frame.py(max(cy(j), cy(j + 1))), yd = frame.py(min(cy(j), cy(j + 1)))
                    if xb > xa && yd > yc {
                        s += "<rect x=\"\(f(xa))\" y=\"\(f(yc))\" width=\"\(f(xb - xa + 0.5))\" height=\"\(f(yd - yc + 0.5))\" fill=\"\(esc(colors[j * nx + i]))\"/>"
                    }
                    i = e
                }
            }
            return s + "</g>\n"
        case let .band(_, xs, lower, upper, color):
            let top = zip(xs, upper).compactMap { frame.fraction($0.0, $0.1) }
            let bottom = zip(xs, lower).compactMap { frame.fraction($0.0, $0.1) }.reversed()
            let poly = PlotGeometry.clipPolygon(top + bottom, lo: box.lo, hi: box.hi)
            guard poly.count >= 3 else { return "" }
            return "<polygon points=\"\(poly.map(frame.point).joined(separator: " "))\" fill=\"\(esc(color))\" fill-opacity=\"0.85\" stroke=\"white\" stroke-width=\"0.5\"/>\n"
        case let .series(series):
            return renderSeries(series, in: frame)
        case let .arrows(xs, ys, dxs, dys, color):
            for k in 0..<min(xs.count, ys.count, dxs.count, dys.count) {
                guard let p = frame.fraction(xs[k], ys[k]), let q = frame.fraction(xs[k] + dxs[k], ys[k] + dys[k]),
                      let (a, b) = PlotGeometry.clip(p, q, lo: box.lo, hi: box.hi) else { continue }
                s += "<line x1=\"\(f(frame.px(a.0)))\" y1=\"\(f(frame.py(a.1)))\" x2=\"\(f(frame.px(b.0)))\" y2=\"\(f(frame.py(b.1)))\" stroke=\"\(esc(color))\" stroke-width=\"1.2\"\(b == q ? " marker-end=\"url(#arrow)\"" : "")/>"
            }
            return s + "\n"
        case let .label(x, y, text, color):
            guard let p = frame.fraction(x, y), frame.inside(p) else { return "" }
            // Text that starts right of the middle runs leftwards, so it stays inside the frame.
            let anchor = p.0 > 0.5 ? "end" : "start", dx = p.0 > 0.5 ? -6.0 : 6.0
            return "<text x=\"\(f(frame.px(p.0) + dx))\" y=\"\(f(frame.py(p.1) - 6))\" text-anchor=\"\(anchor)\" fill=\"\(esc(color))\">\(esc(PlotGeometry.truncated(text)))</text>\n"
        case .line, .points:
            return layer.asSeries.map { renderSeries($0, in: frame) } ?? ""
        }
    }

    /// A series: its line clipped to the frame, then its markers (on every point inside the frame for markers
    /// alone; on up to 12 evenly spread points of a line).
    static func renderSeries(_ series: Series, in frame: PlotFrame) -> String {
        let box = PlotFrame.clip, esc = PlotGeometry.escape
        let placed = zip(series.xs, series.ys).map { frame.fraction($0.0, $0.1) }
        var s = ""
        if series.width > 0 {
            let w = Plot.clampStroke(series.width)
            let dash = series.style.dash.pattern(width: w).map { " stroke-dasharray=\"\($0)\"" } ?? ""
            for run in PlotGeometry.clipPolyline(placed, lo: box.lo, hi: box.hi) {
                s += "<polyline points=\"\(run.map(frame.point).joined(separator: " "))\" fill=\"none\" stroke=\"\(esc(series.style.color))\" stroke-width=\"\(PlotGeometry.number(w))\"\(dash) stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n"
            }
        }
        if let marker = series.style.marker ?? (series.width > 0 ? nil : .circle) {
            let inside = placed.compactMap { $0 }.filter(frame.inside)
            let every = series.markersOnEveryPoint ? 1 : max(1, Int((Double(inside.count) / 12).rounded(.up)))
            for p in stride(from: 0, to: inside.count, by: every).map({ inside[$0] }) {
                s += Plot.marker(marker, frame.px(p.0), frame.py(p.1), Plot.clampStroke(series.markerSize), series.style.color)
            }
            s += "\n"
        }
        return s
    }
}
