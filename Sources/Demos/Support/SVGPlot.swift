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

    private let margin = (left: 78.0, right: 24.0, top: 44.0, bottom: 58.0)

    func svg() -> String {
        let (xr, yr) = ranges()
        let pw = width - margin.left - margin.right, ph = height - margin.top - margin.bottom
        func tx(_ x: Double) -> Double { margin.left + pw * (map(x, xLog) - map(xr.lowerBound, xLog)) / (map(xr.upperBound, xLog) - map(xr.lowerBound, xLog)) }
        func ty(_ y: Double) -> Double { margin.top + ph * (1 - (map(y, yLog) - map(yr.lowerBound, yLog)) / (map(yr.upperBound, yLog) - map(yr.lowerBound, yLog))) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<defs><clipPath id=\"plot\"><rect x=\"\(f(margin.left))\" y=\"\(f(margin.top))\" width=\"\(f(pw))\" height=\"\(f(ph))\"/></clipPath>"
        s += "<marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"5\" markerHeight=\"5\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"context-stroke\"/></marker></defs>\n"
        // Grid and ticks.
        for t in ticks(xr, xLog) {
            let x = tx(t)
            s += "<line x1=\"\(f(x))\" y1=\"\(f(margin.top))\" x2=\"\(f(x))\" y2=\"\(f(margin.top + ph))\" stroke=\"#e6e6e6\"/>"
            s += "<text x=\"\(f(x))\" y=\"\(f(margin.top + ph + 16))\" text-anchor=\"middle\">\(tickLabel(t, xLog))</text>\n"
        }
        for t in ticks(yr, yLog) {
            let y = ty(t)
            s += "<line x1=\"\(f(margin.left))\" y1=\"\(f(y))\" x2=\"\(f(margin.left + pw))\" y2=\"\(f(y))\" stroke=\"#e6e6e6\"/>"
            s += "<text x=\"\(f(margin.left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(tickLabel(t, yLog))</text>\n"
        }
        s += "<g clip-path=\"url(#plot)\">\n"
        var legend: [(String, String, Bool, Bool, Marker?)] = []   // name, colour, is line, dashed, marker of a point layer
        for layer in layers {
            switch layer {
            case let .cells(x0, x1, y0, y1, nx, ny, colors):
                let dx = (x1 - x0) / Double(nx), dy = (y1 - y0) / Double(ny)
                // One rectangle per run of equal colours in a row keeps the file small.
                for j in 0..<ny {
                    var i = 0
                    while i < nx, j * nx + i < colors.count {
                        var e = i + 1
                        while e < nx, j * nx + e < colors.count, colors[j * nx + e] == colors[j * nx + i] { e += 1 }
                        let a = tx(x0 + Double(i) * dx), b = tx(x0 + Double(e) * dx)
                        let c = ty(y0 + Double(j + 1) * dy), d = ty(y0 + Double(j) * dy)
                        s += "<rect x=\"\(f(a))\" y=\"\(f(c))\" width=\"\(f(b - a + 0.5))\" height=\"\(f(d - c + 0.5))\" fill=\"\(colors[j * nx + i])\"/>"
                        i = e
                    }
                }
                s += "\n"
            case let .band(name, xs, lower, upper, color):
                let top = zip(xs, upper).filter { valid($0.0, xLog) && valid($0.1, yLog) }.map { "\(f(tx($0.0))),\(f(ty($0.1)))" }
                let bottom = zip(xs, lower).filter { valid($0.0, xLog) && valid($0.1, yLog) }.reversed().map { "\(f(tx($0.0))),\(f(ty($0.1)))" }
                s += "<polygon points=\"\((top + bottom).joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.85\" stroke=\"white\" stroke-width=\"0.5\"/>\n"
                if let name { legend.append((name, color, false, false, nil)) }
            case let .line(name, xs, ys, color, w, dashed):
                var segments: [[String]] = [[]]
                for (x, y) in zip(xs, ys) {
                    if valid(x, xLog) && valid(y, yLog) { segments[segments.count - 1].append("\(f(tx(x))),\(f(ty(y)))") }
                    else if !(segments.last!.isEmpty) { segments.append([]) }
                }
                for seg in segments where seg.count > 1 {
                    s += "<polyline points=\"\(seg.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(w)\"\(dashed ? " stroke-dasharray=\"6,4\"" : "") stroke-linejoin=\"round\"/>\n"
                }
                if let name { legend.append((name, color, true, dashed, nil)) }
            case let .points(name, xs, ys, color, size, marker):
                for (x, y) in zip(xs, ys) where valid(x, xLog) && valid(y, yLog) { s += Plot.marker(marker, tx(x), ty(y), size, color) }
                s += "\n"
                if let name { legend.append((name, color, false, false, marker)) }
            case let .arrows(xs, ys, dxs, dys, color):
                for k in xs.indices {
                    s += "<line x1=\"\(f(tx(xs[k])))\" y1=\"\(f(ty(ys[k])))\" x2=\"\(f(tx(xs[k] + dxs[k])))\" y2=\"\(f(ty(ys[k] + dys[k])))\" stroke=\"\(color)\" stroke-width=\"1.2\" marker-end=\"url(#arrow)\"/>"
                }
                s += "\n"
            case let .label(x, y, text, color):
                s += "<text x=\"\(f(tx(x) + 6))\" y=\"\(f(ty(y) - 6))\" fill=\"\(color)\">\(escape(text))</text>\n"
            }
        }
        s += "</g>\n"
        s += "<rect x=\"\(f(margin.left))\" y=\"\(f(margin.top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(f(width / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">\(escape(title))</text>\n"
        s += "<text x=\"\(f(margin.left + pw / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\" font-size=\"13\">\(escape(xLabel))</text>\n"
        s += "<text transform=\"translate(18,\(f(margin.top + ph / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">\(escape(yLabel))</text>\n"
        if !legend.isEmpty {
            let lw = 22.0 + 7.0 * Double(legend.map { $0.0.count }.max() ?? 0), lh = 18.0 * Double(legend.count) + 8
            let right = legendCorner == .topRight || legendCorner == .bottomRight
            let top = legendCorner == .topRight || legendCorner == .topLeft
            let lx = right ? margin.left + pw - lw - 8 : margin.left + 8, ly = top ? margin.top + 8 : margin.top + ph - lh - 8
            s += "<rect x=\"\(f(lx))\" y=\"\(f(ly))\" width=\"\(f(lw))\" height=\"\(f(lh))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"/>\n"
            for (k, (name, color, isLine, dashed, marker)) in legend.enumerated() {
                let y = ly + 16 + 18 * Double(k)
                s += marker.map { Plot.marker($0, lx + 13, y - 4, 4, color) } ?? ""
                s += marker != nil ? "" : isLine ? "<line x1=\"\(f(lx + 4))\" y1=\"\(f(y - 4))\" x2=\"\(f(lx + 21))\" y2=\"\(f(y - 4))\" stroke=\"\(color)\" stroke-width=\"2.5\"\(dashed ? " stroke-dasharray=\"4,3\"" : "")/>"
                            : "<rect x=\"\(f(lx + 8))\" y=\"\(f(y - 9))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
                s += "<text x=\"\(f(lx + 24))\" y=\"\(f(y))\">\(escape(name))</text>\n"
            }
        }
        return s + "</svg>\n"
    }

    static func marker(_ m: Marker, _ x: Double, _ y: Double, _ r: Double, _ color: String) -> String {
        switch m {
        case .circle: return "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"\(f(r))\" fill=\"\(color)\" stroke=\"black\" stroke-width=\"0.6\"/>"
        case .square: return "<rect x=\"\(f(x - r))\" y=\"\(f(y - r))\" width=\"\(f(2 * r))\" height=\"\(f(2 * r))\" fill=\"\(color)\" stroke=\"black\" stroke-width=\"0.6\"/>"
        case .triangle: return "<polygon points=\"\(f(x)),\(f(y - r * 1.2)) \(f(x - r)),\(f(y + r * 0.8)) \(f(x + r)),\(f(y + r * 0.8))\" fill=\"\(color)\" stroke=\"black\" stroke-width=\"0.6\"/>"
        case .cross: return "<path d=\"M\(f(x - r)),\(f(y - r)) L\(f(x + r)),\(f(y + r)) M\(f(x - r)),\(f(y + r)) L\(f(x + r)),\(f(y - r))\" stroke=\"\(color)\" stroke-width=\"2\"/>"
        case .star:
            let pts = (0..<10).map { k -> String in
                let a = Double.pi / 2 + Double(k) * Double.pi / 5, rr = k % 2 == 0 ? r * 1.6 : r * 0.7
                return "\(f(x + rr * cos(a))),\(f(y - rr * sin(a)))"
            }
            return "<polygon points=\"\(pts.joined(separator: " "))\" fill=\"\(color)\" stroke=\"black\" stroke-width=\"0.8\"/>"
        }
    }

    private func ranges() -> (ClosedRange<Double>, ClosedRange<Double>) {
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
        return (xRange ?? Plot.autoRange(xs.filter { valid($0, xLog) }, xLog), yRange ?? Plot.autoRange(ys.filter { valid($0, yLog) }, yLog))
    }

    static func autoRange(_ v: [Double], _ log: Bool) -> ClosedRange<Double> {
        guard let lo = v.min(), let hi = v.max() else { return log ? 1...10 : 0...1 }
        if log { return lo == hi ? lo / 10...hi * 10 : lo / 1.15...hi * 1.15 }
        if lo == hi { return lo - 1...hi + 1 }
        let pad = 0.04 * (hi - lo)
        return lo - pad...hi + pad
    }

    private func valid(_ v: Double, _ log: Bool) -> Bool { v.isFinite && (!log || v > 0) }
    private func map(_ v: Double, _ log: Bool) -> Double { log ? Foundation.log10(v) : v }

    private func ticks(_ r: ClosedRange<Double>, _ log: Bool) -> [Double] {
        if log {
            let a = Int(Foundation.floor(Foundation.log10(r.lowerBound))), b = Int(Foundation.ceil(Foundation.log10(r.upperBound)))
            let step = max(1, (b - a) / 8)
            let mantissas: [Double] = b - a <= 2 ? [1, 2, 5] : [1]
            return stride(from: a, through: b, by: step).flatMap { e in mantissas.map { $0 * Foundation.pow(10, Double(e)) } }.filter { r.contains($0) }
        }
        let span = r.upperBound - r.lowerBound
        let raw = span / 6, mag = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = Foundation.ceil(r.lowerBound / step) * step
        var out: [Double] = []
        while t <= r.upperBound + 1e-9 * span { out.append(abs(t) < 1e-12 * span ? 0 : t); t += step }
        return out
    }

    private func tickLabel(_ t: Double, _ log: Bool) -> String {
        if log {
            let e = Int(Foundation.floor(Foundation.log10(t) + 1e-9)), m = (t / Foundation.pow(10, Double(e))).rounded()
            if e >= -2 && e <= 3 { return String(format: "%g", t) }
            return m == 1 ? "1e\(e)" : "\(Int(m))e\(e)"
        }
        return t == t.rounded() && abs(t) < 1e6 ? String(Int(t)) : String(format: "%g", t)
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

private func f(_ x: Double) -> String { String(format: "%.1f", x) }
private func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
}
