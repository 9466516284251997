import Foundation

/// How series look: colours, dash patterns and markers that keep every series of a plot distinguishable at any
/// count, and series grouped by family (Neumann / CG / damped / unrolled / exact) for the legend.
extension Plot {
    /// A line's dash pattern.
    enum Dash: Int, CaseIterable, Hashable {
        case solid, dashed, dotted, dashDot, longDash
        /// The SVG stroke-dasharray (nil: solid), for a line `width` px wide.
        func pattern(width: Double = 2) -> String? {
            let w = max(1, min(width, 4)) / 2
            switch self {
            case .solid: return nil
            case .dashed: return "\(Int(7 * w)),\(Int(4 * w))"
            case .dotted: return "\(max(1, Int(1.5 * w))),\(Int(3 * w))"
            case .dashDot: return "\(Int(9 * w)),\(Int(3 * w)),\(max(1, Int(1.5 * w))),\(Int(3 * w))"
            case .longDash: return "\(Int(14 * w)),\(Int(4 * w))"
            }
        }
    }

    /// A series' look: colour, dash pattern and an optional marker (drawn at its points).
    struct Style: Hashable {
        var color: String
        var dash: Dash = .solid
        var marker: Marker? = nil
    }

    /// Style number `i` of a plot: the ten palette colours solid, then dashed with squares, dotted with
    /// triangles, dash-dotted with crosses, long-dashed with stars; from 50 on, generated colours. No two
    /// numbers share colour and dash, so series styled `style(0)`, `style(1)`, … are always told apart.
    static func style(_ i: Int) -> Style {
        let i = max(0, i), n = palette.count, cycles = Dash.allCases.count
        let cycle = i / n
        let color = cycle < cycles ? palette[i % n] : generatedColor(i)
        return Style(color: color, dash: Dash.allCases[cycle % cycles], marker: cycle == 0 ? nil : cycleMarkers[(cycle - 1) % cycleMarkers.count])
    }

    /// Member `member` of family `family` (e.g. family "Neumann", member "K = 10"): the family's palette colour,
    /// one dash pattern per member; after five members, darker and lighter shades of the family colour with
    /// markers. Distinct (colour, dash) for every (family, member).
    static func style(family: Int, member: Int) -> Style {
        let f = max(0, family), m = max(0, member), cycles = Dash.allCases.count
        let base = f < palette.count ? palette[f] : generatedColor(f + 50)
        let shade = m / cycles
        return Style(color: shade == 0 ? base : Plot.shade(base, level: shade), dash: Dash.allCases[m % cycles],
                     marker: shade == 0 ? nil : cycleMarkers[(shade - 1) % cycleMarkers.count])
    }

    /// Colour `i` of `n` on a ramp from light to dark blue (#9ecae1 → #08519c, not so dark that black drawn on it
    /// is lost): for the members of one family ordered by a parameter (Neumann K = 1, 2, 5, …), so the order reads
    /// off the colour.
    static func ramp(_ i: Int, of n: Int) -> String {
        let t = n > 1 ? min(max(Double(i) / Double(n - 1), 0), 1) : 1
        let light = [158.0, 202, 225], dark = [8.0, 81, 156]
        let c = zip(light, dark).map { Int(($0 + ($1 - $0) * t).rounded()) }
        return String(format: "#%02x%02x%02x", c[0], c[1], c[2])
    }

    /// Markers used by the later style cycles (and for colours that repeat with another dash).
    static let cycleMarkers: [Marker] = [.square, .triangle, .cross, .star, .circle]

    /// A colour of its own for style numbers past the palette cycles: hues a golden angle apart, three lightness
    /// levels. The saturation's four decimals hold i mod 10⁵ and the lightness's five decimals the rest, so the
    /// strings never repeat (for i < 10¹⁰) while the look varies only by the hue and the three levels.
    static func generatedColor(_ i: Int) -> String {
        let i = max(0, i)
        let hue = (Double(i % 1_000_003) * 137.50776).truncatingRemainder(dividingBy: 360)
        let saturation = 65 + Double(i % 100_000) / 10_000, lightness = [38.0, 50, 30][i % 3] + Double((i / 100_000) % 100_000) * 1e-5
        return String(format: "hsl(%.1f,%.4f%%,%.5f%%)", hue, saturation, lightness)
    }

    /// A darker (odd levels) or lighter (even levels) version of a "#rrggbb" colour, levels 1…8; past them, or
    /// for another colour format, a generated colour numbered from the colour's text and the level (stable
    /// across runs), so the strings stay distinct.
    static func shade(_ color: String, level: Int) -> String {
        guard level <= 8, color.hasPrefix("#"), color.count == 7, let v = Int(color.dropFirst(), radix: 16) else {
            let code = color.unicodeScalars.reduce(7) { ($0 &* 31 &+ Int($1.value)) & 0xFFFF }
            return generatedColor(10_000_000 + code * 100_000 + min(level, 99_999))
        }
        let darker = level % 2 == 1, amount = 0.3 + 0.12 * Double((level - 1) / 2)
        func mix(_ c: Int) -> Int { darker ? Int(Double(c) * (1 - amount)) : Int(Double(c) + (255 - Double(c)) * amount) }
        return String(format: "#%02x%02x%02x", mix((v >> 16) & 255), mix((v >> 8) & 255), mix(v & 255))
    }

    /// The next style for a series of this plot: ungrouped, the first `style(i)` no series uses yet; in a group,
    /// the group's family colour (groups numbered in order of first appearance) and the next member's dash.
    func nextStyle(group: String? = nil) -> Style {
        let existing = seriesLayers()
        if let group {
            var groups: [String] = []
            for s in existing { if let g = s.group, !groups.contains(g) { groups.append(g) } }
            let family = groups.firstIndex(of: group) ?? groups.count
            let used = Set(existing.map(\.style))
            var member = existing.filter { $0.group == group }.count
            while used.contains(Plot.style(family: family, member: member)) && member < 10_000 { member += 1 }
            return Plot.style(family: family, member: member)
        }
        let used = Set(existing.filter { $0.name != nil }.map { StyleKey($0) })
        var i = 0
        while used.contains(StyleKey(style: Plot.style(i), hasLine: true)) && i < 100_000 { i += 1 }
        return Plot.style(i)
    }

    /// A named series with an automatic style (`nextStyle(group:)`) unless one is given: a line through the
    /// points, with the style's marker (if any) on up to 12 of them. Returns the style, so that related layers
    /// (e.g. the learned points of the same method) can be drawn in it.
    @discardableResult
    mutating func series(_ name: String?, _ xs: [Double], _ ys: [Double], group: String? = nil, style: Style? = nil,
                         width: Double = 2) -> Style {
        let s = style ?? nextStyle(group: group)
        layers.append(.series(Series(name: name, xs: xs, ys: ys, style: s, width: width, markerSize: 3.5, group: group)))
        return s
    }

    /// A line in a given style (`Plot.style(i)`, `nextStyle()`), in a legend group if `group` is given.
    mutating func line(_ name: String?, _ xs: [Double], _ ys: [Double], style: Style, width: Double = 2, group: String? = nil) {
        layers.append(.series(Series(name: name, xs: xs, ys: ys, style: style, width: width, markerSize: 3.5, group: group)))
    }

    /// Markers (the style's marker, a circle if it has none) at every point, without a line.
    mutating func points(_ name: String?, _ xs: [Double], _ ys: [Double], style: Style, size: Double = 4, group: String? = nil) {
        var s = style
        if s.marker == nil { s.marker = .circle }
        layers.append(.series(Series(name: name, xs: xs, ys: ys, style: s, width: 0, markerSize: size, group: group)))
    }
}

/// One series of a plot, whatever call drew it: a line (width > 0) with optional markers, or markers alone.
struct Series {
    var name: String?
    var xs: [Double]
    var ys: [Double]
    var style: Plot.Style
    /// Line width in px; 0 draws markers only.
    var width: Double
    var markerSize: Double
    /// The legend group (family) it belongs to.
    var group: String?
    /// Markers on every point (false: on up to 12 of them, spread evenly — for a line with a marker style).
    var markersOnEveryPoint: Bool { width == 0 }
}

/// What tells two series apart in a legend: the colour, the dash if it is a line, the marker.
struct StyleKey: Hashable {
    var color: String
    var dash: Plot.Dash?
    var marker: Plot.Marker?
    init(style: Plot.Style, hasLine: Bool) {
        color = style.color.lowercased()
        dash = hasLine ? style.dash : nil
        marker = style.marker
    }
    init(_ s: Series) { self.init(style: s.style, hasLine: s.width > 0) }
}

extension Plot {
    /// Every layer that is a series (lines and points, from the old and the new calls), in order.
    func seriesLayers() -> [Series] { layers.compactMap { $0.asSeries } }
}

extension Plot.Layer {
    /// The layer as a series, if it is one: `.line` and `.points` (the original calls) convert.
    var asSeries: Series? {
        switch self {
        case let .series(s): return s
        case let .line(name, xs, ys, color, width, dashed):
            return Series(name: name, xs: xs, ys: ys, style: Plot.Style(color: color, dash: dashed ? .dashed : .solid), width: width,
                          markerSize: 3.5, group: nil)
        case let .points(name, xs, ys, color, size, marker):
            return Series(name: name, xs: xs, ys: ys, style: Plot.Style(color: color, marker: marker), width: 0, markerSize: size, group: nil)
        default: return nil
        }
    }
}
