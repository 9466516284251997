import Foundation

/// Geometry shared by the plot code: text extents, clipping to the frame, and the number and text formats
/// of the SVG.
enum PlotGeometry {
    /// Advance widths of the printable ASCII characters in em, as Chromium lays out "Helvetica, Arial,
    /// sans-serif" here (Liberation Sans, metric-compatible with Arial), measured with getComputedTextLength.
    private static let asciiWidths: [Double] = [
        0.278, 0.278, 0.355, 0.556, 0.556, 0.889, 0.667, 0.191, 0.333, 0.333, 0.389, 0.584, 0.278, 0.333, 0.278, 0.278,   // ' ' … '/'
        0.556, 0.556, 0.556, 0.556, 0.556, 0.556, 0.556, 0.556, 0.556, 0.556, 0.278, 0.278, 0.584, 0.584, 0.584, 0.556,   // '0' … '?'
        1.015, 0.667, 0.667, 0.722, 0.722, 0.667, 0.611, 0.778, 0.722, 0.278, 0.500, 0.667, 0.556, 0.833, 0.722, 0.778,   // '@' … 'O'
        0.667, 0.778, 0.722, 0.667, 0.611, 0.722, 0.667, 0.944, 0.667, 0.667, 0.611, 0.278, 0.278, 0.278, 0.469, 0.556,   // 'P' … '_'
        0.333, 0.556, 0.556, 0.500, 0.556, 0.556, 0.262, 0.556, 0.556, 0.222, 0.222, 0.500, 0.222, 0.833, 0.556, 0.556,   // '`' … 'o'
        0.556, 0.556, 0.333, 0.500, 0.278, 0.556, 0.500, 0.722, 0.500, 0.500, 0.500, 0.334, 0.260, 0.334, 0.584,          // 'p' … '~'
    ]

    /// The width in pixels of `text` at `fontSize`: measured widths for ASCII; 0.62 em for other characters (the
    /// Greek letters, ‖, ≥ and − measure 0.5–0.62 em), 1 em for wide ones (…, —, CJK).
    static func textWidth(_ text: String, fontSize: Double = 12) -> Double {
        var em = 0.0
        for u in text.unicodeScalars {
            let v = Int(u.value)
            if v >= 32 && v < 127 { em += asciiWidths[v - 32] }
            else if v < 32 { continue }
            else if u == "…" || u == "—" || v >= 0x2E80 { em += 1 }
            else { em += 0.62 }
        }
        return em * fontSize
    }

    /// `text` cut to at most `limit` characters (with "…"), so no label can make a picture unbounded.
    static func truncated(_ text: String, limit: Int = 90) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    /// `text` shortened with "…" until it fits `width` px (at most 90 characters in any case).
    static func fitted(_ text: String, width: Double, fontSize: Double, bold: Bool = false) -> String {
        var t = truncated(text)
        let scale = bold ? 1.08 : 1
        while t.count > 2 && textWidth(t, fontSize: fontSize) * scale > width { t = String(t.dropLast(2)) + "…" }
        return t
    }

    /// The part of the segment p → q inside [lo, hi]² (Liang–Barsky), or nil when it misses the box.
    static func clip(_ p: (Double, Double), _ q: (Double, Double), lo: Double, hi: Double) -> ((Double, Double), (Double, Double))? {
        clip(p, q, x: lo...hi, y: lo...hi)
    }

    /// The part of the segment p → q inside the box x × y (Liang–Barsky), or nil when it misses the box.
    static func clip(_ p: (Double, Double), _ q: (Double, Double), x: ClosedRange<Double>, y: ClosedRange<Double>) -> ((Double, Double), (Double, Double))? {
        var t0 = 0.0, t1 = 1.0
        let dx = q.0 - p.0, dy = q.1 - p.1
        for (den, num) in [(-dx, p.0 - x.lowerBound), (dx, x.upperBound - p.0), (-dy, p.1 - y.lowerBound), (dy, y.upperBound - p.1)] {
            if den == 0 {
                if num < 0 { return nil }
            } else {
                let t = num / den
                if den < 0 { if t > t1 { return nil }; t0 = max(t0, t) } else { if t < t0 { return nil }; t1 = min(t1, t) }
            }
        }
        return ((p.0 + t0 * dx, p.1 + t0 * dy), (p.0 + t1 * dx, p.1 + t1 * dy))
    }

    /// A polyline (points in axis fractions, nil for a gap) cut into runs that lie inside [lo, hi]².
    static func clipPolyline(_ points: [(Double, Double)?], lo: Double, hi: Double) -> [[(Double, Double)]] {
        var runs: [[(Double, Double)]] = []
        var current: [(Double, Double)] = []
        func close() { if current.count > 1 { runs.append(current) }; current = [] }
        for (p, q) in zip(points, points.dropFirst()) {
            guard let p, let q else { close(); continue }
            guard let (a, b) = clip(p, q, lo: lo, hi: hi) else { close(); continue }
            if let last = current.last, last == a { current.append(b) } else { close(); current = [a, b] }
        }
        close()
        // A lone point inside the box is a polyline of one vertex: kept as a zero-length run.
        if points.count == 1, let p = points[0], p.0 >= lo, p.0 <= hi, p.1 >= lo, p.1 <= hi { runs.append([p, p]) }
        return runs
    }

    /// A polygon (vertices in axis fractions) clipped to [lo, hi]² (Sutherland–Hodgman).
    static func clipPolygon(_ vertices: [(Double, Double)], lo: Double, hi: Double) -> [(Double, Double)] {
        var poly = vertices
        let edges: [(inside: ((Double, Double)) -> Bool, cut: ((Double, Double), (Double, Double)) -> (Double, Double))] = [
            ({ $0.0 >= lo }, { p, q in (lo, p.1 + (q.1 - p.1) * (lo - p.0) / (q.0 - p.0)) }),
            ({ $0.0 <= hi }, { p, q in (hi, p.1 + (q.1 - p.1) * (hi - p.0) / (q.0 - p.0)) }),
            ({ $0.1 >= lo }, { p, q in (p.0 + (q.0 - p.0) * (lo - p.1) / (q.1 - p.1), lo) }),
            ({ $0.1 <= hi }, { p, q in (p.0 + (q.0 - p.0) * (hi - p.1) / (q.1 - p.1), hi) }),
        ]
        for edge in edges {
            guard !poly.isEmpty else { break }
            var out: [(Double, Double)] = []
            for (k, q) in poly.enumerated() {
                let p = poly[(k + poly.count - 1) % poly.count]
                switch (edge.inside(p), edge.inside(q)) {
                case (true, true): out.append(q)
                case (true, false): out.append(edge.cut(p, q))
                case (false, true): out.append(edge.cut(p, q)); out.append(q)
                case (false, false): break
                }
            }
            poly = out
        }
        return poly
    }

    /// A coordinate in the SVG: one decimal; a non-finite value (which the plot code never produces) prints as 0
    /// rather than as "nan", so a file stays valid SVG whatever happens.
    static func number(_ x: Double) -> String { x.isFinite ? String(format: "%.1f", x) : "0" }

    /// Text for SVG: &, <, > and quotes escaped; control characters (invalid in XML) dropped.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n": out += " "
            default: if u.value >= 32 && u.value != 0x7F && !(0xFFFE...0xFFFF).contains(u.value) { out.unicodeScalars.append(u) }
            }
        }
        return out
    }
}
