import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Demos

/// Collects element names and text of an SVG document; fails on malformed XML.
final class SVGReader: NSObject, XMLParserDelegate {
    var elements: [String: Int] = [:]
    var texts: [String] = []
    private var current = ""
    func parser(_ p: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        elements[name, default: 0] += 1
        current = ""
    }
    func parser(_ p: XMLParser, foundCharacters s: String) { current += s }
    func parser(_ p: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { texts.append(current) }
    }
    static func read(_ svg: String) -> SVGReader? {
        let r = SVGReader(), p = XMLParser(data: Data(svg.utf8))
        p.delegate = r
        return p.parse() ? r : nil
    }
}

@Suite("Demo support: SVG plots")
struct PlotTests {
    @Test func logLogLinePlotHasAxesTicksLegendAndEscapedText() throws {
        var p = Plot(title: "Filters <K & η>", xLabel: "eigenvalue μ", yLabel: "g(μ)", xLog: true, yLog: true)
        let mu = (0..<50).map { pow(10, -4 + 4 * Double($0) / 49) }
        p.line("exact 1/μ", mu, mu.map { 1 / $0 }, color: Plot.color(0))
        p.line("with a gap", mu, mu.map { $0 < 1e-2 ? -1 : 2 }, color: Plot.color(1), dashed: true)   // ≤ 0 is skipped on a log axis
        let svg = p.svg()
        let r = try #require(SVGReader.read(svg), "not well-formed XML")
        #expect(r.elements["svg"] == 1 && r.elements["polyline"] == 2)
        #expect(r.texts.contains("Filters <K & η>") && r.texts.contains("eigenvalue μ") && r.texts.contains("g(μ)"))
        #expect(r.texts.contains("exact 1/μ") && r.texts.contains("with a gap"))
        for tick in ["1e-4", "1e-3", "0.01", "0.1", "1", "10", "100", "1000", "1e4"] { #expect(r.texts.contains(tick), "tick \(tick) missing: \(r.texts)") }
        #expect(!svg.contains("nan") && !svg.contains("inf"))
    }

    @Test func scatterTrajectoryRegionsAndStackedAreas() throws {
        var p = Plot(title: "kinds", xLabel: "x", yLabel: "y")
        p.regions(x: 0...1, y: 0...1, nx: 4, ny: 2, classes: [0, 0, 1, 1, 0, 0, 0, 2])
        p.scatter([0.1, 0.2, 0.8, 0.9, 0.5], [0.1, 0.3, 0.7, 0.2, 0.5], classes: [0, 0, 1, 1, 2])
        p.trajectory("path", [0, 0.2, 0.4, 0.6], [0, 0.1, 0.3, 0.6], color: Plot.color(3), arrowEvery: 1)
        let svg = p.svg()
        let r = try #require(SVGReader.read(svg))
        // Cells: runs of equal colours per row, 2 + 2 = 4 rectangles; + background, clip, frame, legend box;
        // + the square markers of class 1: 2 points and its legend entry (legend entries show each class's marker).
        #expect(r.elements["rect"] == 4 + 4 + 2 + 1)
        #expect(r.texts.filter { $0.hasPrefix("class ") } == ["class 0", "class 1", "class 2"])
        #expect(r.elements["circle", default: 0] >= 2 + 4)       // class 0 markers + trajectory markers
        #expect(svg.components(separatedBy: "marker-end=").count - 1 == 3)   // one arrow per segment
        var s = Plot(title: "stacked", xLabel: "step", yLabel: "share")
        s.stackedAreas([0, 1, 2], series: [("a", [0.2, 0.5, 0.9]), ("b", [0.8, 0.5, 0.1])])
        guard case let .band(_, _, lower, upper, _) = s.layers[1] else { Issue.record("not a band"); return }
        #expect(lower == [0.2, 0.5, 0.9] && upper == [1, 1, 1])
        #expect(SVGReader.read(s.svg())?.elements["polygon"] == 2)
    }

    @Test func imageGridIsWellFormed() throws {
        let img = (0..<64).map { Double($0 % 8) }
        let svg = imageGridSVG(title: "digits", images: [img, img.reversed()], side: 8, captions: ["0 (0.9)", "1 & 7"])
        let r = try #require(SVGReader.read(svg))
        #expect(r.elements["rect"] == 1 + 2 * (64 + 1))
        #expect(r.texts == ["digits", "0 (0.9)", "1 & 7"])
        // Narrow tiles under a long title: the picture widens to hold the title and the captions.
        let one = imageGridSVG(title: "Synthetic images (top soft label)", images: [img], side: 8, captions: ["warm: 3 (78 %)"], columns: 1, cell: 4)
        let doc = try #require(SVGDocument.parse(one))
        let view = Box(x0: 0, y0: 0, x1: doc.size.0, y1: doc.size.1)
        for t in doc.all("text") { #expect(view.contains(Box(text: t)), "'\(t.text)' outside the \(doc.size) picture") }
        // Degenerate input: no columns, no side, NaN and infinite pixels, no images.
        for svg in [imageGridSVG(title: "", images: [[.nan, .infinity, 1, 2]], side: 0, captions: [], columns: 0, cell: .nan),
                    imageGridSVG(title: "none", images: [], side: 8, captions: ["x"])] {
            #expect(SVGDocument.parse(svg) != nil && svgNumbers(svg).allSatisfy(\.isFinite))
        }
    }
}

/// An SVG as a flat list of elements with their attributes, text and the classes of their ancestors.
final class SVGDocument: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text = ""
        /// Classes of the enclosing elements, outermost first.
        var ancestors: [String]
        func number(_ key: String) -> Double { Double(attributes[key] ?? "") ?? .nan }
        var inLegendEntry: Bool { ancestors.contains("legend-entry") }
    }
    private(set) var elements: [Element] = []
    private var open: [Int] = []
    func parser(_ p: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        let ancestors = open.compactMap { elements[$0].attributes["class"] }
        elements.append(Element(name: name, attributes: attributes, ancestors: ancestors))
        open.append(elements.count - 1)
    }
    func parser(_ p: XMLParser, foundCharacters s: String) { if let i = open.last { elements[i].text += s } }
    func parser(_ p: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { open.removeLast() }

    static func parse(_ svg: String) -> SVGDocument? {
        let d = SVGDocument(), p = XMLParser(data: Data(svg.utf8))
        p.delegate = d
        return p.parse() ? d : nil
    }
    func all(_ name: String, class c: String? = nil) -> [Element] { elements.filter { $0.name == name && (c == nil || $0.attributes["class"] == c) } }
    var size: (Double, Double) { (elements[0].number("width"), elements[0].number("height")) }
}

/// A box in pixels.
struct Box {
    var x0: Double, y0: Double, x1: Double, y1: Double
    func overlaps(_ o: Box) -> Bool { x0 < o.x1 - 0.5 && o.x0 < x1 - 0.5 && y0 < o.y1 - 0.5 && o.y0 < y1 - 0.5 }
    func contains(_ o: Box) -> Bool { o.x0 >= x0 - 0.5 && o.x1 <= x1 + 0.5 && o.y0 >= y0 - 0.5 && o.y1 <= y1 + 0.5 }
    init(x0: Double, y0: Double, x1: Double, y1: Double) { (self.x0, self.y0, self.x1, self.y1) = (x0, y0, x1, y1) }
    init(rect e: SVGDocument.Element) { self.init(x0: e.number("x"), y0: e.number("y"), x1: e.number("x") + e.number("width"), y1: e.number("y") + e.number("height")) }
    /// The box of a text element (12 px font unless it says otherwise) from its anchor, width and baseline.
    init(text e: SVGDocument.Element) {
        let size = Double(e.attributes["font-size"] ?? "12") ?? 12, w = PlotGeometry.textWidth(e.text, fontSize: size)
        let x = e.number("x"), anchor = e.attributes["text-anchor"] ?? "start"
        let left = anchor == "middle" ? x - w / 2 : anchor == "end" ? x - w : x
        self.init(x0: left, y0: e.number("y") - 0.8 * size, x1: left + w, y1: e.number("y") + 0.25 * size)
    }
}

@Suite("Demo support: legible plots at any number of series")
struct PlotLegibilityTests {
    /// Methods of the reference grid of anti-distillation, with their families.
    static func methods(_ n: Int) -> [(name: String, family: String)] {
        let families = ["exact", "Neumann", "CG", "damped", "unrolled"]
        return (0..<n).map { i in
            let f = families[i % families.count]
            return (f == "exact" ? "exact \(i)" : f == "damped" ? "damped η=\(pow(10, -Double(i % 7)))" : "\(f) K=\(1 << (i % 11))", f)
        }
    }

    /// A plot of n curves drawn the three ways demos draw them: the original `line(color: Plot.color(i))`
    /// (colours repeat after ten), `series` without groups, and `series` grouped by family.
    static func plot(_ n: Int, api: Int, yLog: Bool = false) -> Plot {
        var p = Plot(title: "\(n) series", xLabel: "x", yLabel: "y", yLog: yLog)
        let xs = (0..<40).map { Double($0) / 39 }
        for (i, m) in methods(n).enumerated() {
            let ys = xs.map { 1 + sin(3 * $0 + Double(i)) * Double(i + 1) / Double(n) + 0.5 }
            switch api {
            case 0: p.line(m.name, xs, ys, color: Plot.color(i)); p.points(nil, xs, ys, color: Plot.color(i), size: 2)
            case 1: p.series(m.name, xs, ys)
            default: p.series(m.name, xs, ys, group: m.family)
            }
        }
        return p
    }

    /// Everything a reader needs from a picture, checked on its SVG.
    static func checkLegibility(_ svg: String, entries n: Int, _ what: String) throws {
        let doc = try #require(SVGDocument.parse(svg), "\(what): not well-formed")
        let (w, h) = doc.size
        let view = Box(x0: 0, y0: 0, x1: w, y1: h)
        let legendBox = try #require(doc.all("rect", class: "legend-box").first.map(Box.init(rect:)), "\(what): no legend")
        #expect(view.contains(legendBox), "\(what): legend \(legendBox) outside the \(w)×\(h) picture")
        let frame = try #require(doc.all("rect", class: "frame").first.map(Box.init(rect:)))
        #expect(frame.contains(legendBox) || !frame.overlaps(legendBox), "\(what): legend half inside the plot area")
        // One box per entry (symbol + name); none overlaps another or leaves the legend box.
        let names = doc.elements.filter { $0.name == "text" && $0.inLegendEntry }
        #expect(names.count == n, "\(what): \(names.count) legend entries for \(n) series")
        let headings = doc.all("text", class: "legend-heading").map(Box.init(text:))
        let boxes = names.map { Box(text: $0) }.map { Box(x0: $0.x0 - Legend.symbolWidth, y0: $0.y0, x1: $0.x1, y1: $0.y1) } + headings
        for (i, a) in boxes.enumerated() {
            #expect(legendBox.contains(a), "\(what): entry \(i) \(a) outside the legend box \(legendBox)")
            for b in boxes[(i + 1)...] where a.overlaps(b) { Issue.record("\(what): legend entries overlap: \(a) and \(b)") }
        }
        // No two line entries share colour and dash; the lines drawn use exactly the legend's styles.
        let samples = doc.elements.filter { $0.name == "line" && $0.inLegendEntry }.map { "\($0.attributes["stroke"]!) \($0.attributes["stroke-dasharray"] ?? "solid")" }
        #expect(Set(samples).count == samples.count, "\(what): repeated colour and dash among \(samples.count) entries")
        let drawn = Set(doc.all("polyline").map { "\($0.attributes["stroke"]!) \($0.attributes["stroke-dasharray"] ?? "solid")" })
        #expect(drawn == Set(samples), "\(what): lines drawn in styles the legend does not show")
        // A legend inside the plot area hides no line.
        if frame.contains(legendBox) {
            for line in doc.all("polyline") {
                let pts = (line.attributes["points"] ?? "").split(separator: " ").map { $0.split(separator: ",").compactMap { Double($0) } }
                for (p, q) in zip(pts, pts.dropFirst()) where PlotGeometry.clip((p[0], p[1]), (q[0], q[1]), x: legendBox.x0...legendBox.x1, y: legendBox.y0...legendBox.y1) != nil {
                    Issue.record("\(what): the legend hides a line at \(p)–\(q)")
                    break
                }
            }
        }
        // Tick labels of the x axis do not overlap; nothing is placed outside the picture.
        let xt = doc.all("text", class: "xtick").map(Box.init(text:)).sorted { $0.x0 < $1.x0 }
        #expect(zip(xt, xt.dropFirst()).allSatisfy { !$0.overlaps($1) }, "\(what): x tick labels overlap")
        for t in doc.all("text") where !t.text.isEmpty && t.attributes["transform"] == nil {
            #expect(view.contains(Box(text: t)), "\(what): text '\(t.text)' outside the picture")
        }
    }

    @Test(arguments: [1, 3, 9, 12, 23, 40, 120, 400])
    func legendsFitAndSeriesStayDistinct(_ n: Int) throws {
        for api in 0..<3 {
            let svg = Self.plot(n, api: api).svg()
            try Self.checkLegibility(svg, entries: n, "\(n) series, api \(api)")
            // Grouped: one heading per family present (and "(cont.)" when a column starts inside a family).
            if api == 2, let doc = SVGDocument.parse(svg) {
                let families = Set(Self.methods(n).map(\.family))
                #expect(Set(doc.all("text", class: "legend-heading").map { $0.text.replacingOccurrences(of: " (cont.)", with: "") }) == families)
            }
        }
    }

    @Test func legendPlacementsFollowTheRoomThereIs() throws {
        func box(_ p: Plot) throws -> (Box, Box, (Double, Double)) {
            let doc = try #require(SVGDocument.parse(p.svg()))
            return (Box(rect: try #require(doc.all("rect", class: "legend-box").first)), Box(rect: try #require(doc.all("rect", class: "frame").first)), doc.size)
        }
        var low = Self.plot(4, api: 1)
        low.yRange = 0...6   // the curves stay below 3: the top corners are free
        let (few, frame, size) = try box(low)
        #expect(frame.contains(few) && size == (680, 440), "four entries fit inside the plot area")
        var crowded = Plot(title: "", xLabel: "", yLabel: "")
        for (name, ys) in [("top", [1.0, 1]), ("bottom", [0.0, 0]), ("up", [0.0, 1]), ("down", [1.0, 0])] { crowded.series(name, [0, 1], ys) }
        let (busy, frame1, size1) = try box(crowded)
        #expect(busy.x0 >= frame1.x1 && size1.0 > 680, "curves in every corner: the legend goes beside the plot")
        let (side, frame2, size2) = try box(Self.plot(23, api: 1))
        #expect(side.x0 >= frame2.x1 && size2.0 > 680 && size2.1 == 440, "23 entries: a panel to the right widens the picture")
        let (below, frame3, size3) = try box(Self.plot(120, api: 1))
        #expect(below.y0 >= frame3.y1 + 20 && size3.1 > 440, "120 entries: below the plot, the picture grows taller")
        var forced = Self.plot(4, api: 1)
        forced.legend = .below
        #expect(try box(forced).0.y0 >= frame.y1)
        forced.legend = .hidden
        #expect(SVGDocument.parse(forced.svg())?.all("rect", class: "legend-box").isEmpty == true)
        // An inside legend goes to the corner with the fewest points under it (here: the top right is crowded).
        var corner = Plot(title: "", xLabel: "", yLabel: "")
        corner.series("rising", (0..<50).map(Double.init), (0..<50).map { Double($0 * $0) })
        let (c, f, _) = try box(corner)
        #expect(c.x0 < (f.x0 + f.x1) / 2 && c.y0 < f.y0 + 20, "legend at \(c), expected top left")
    }

    @Test func styleNumbersNeverRepeatColourAndDash() {
        let plain = (0..<3000).map { Plot.style($0) }
        #expect(Set(plain.map { "\($0.color) \($0.dash)" }).count == plain.count)
        let families = (0..<15).flatMap { f in (0..<80).map { Plot.style(family: f, member: $0) } }
        #expect(Set(families.map { "\($0.color) \($0.dash)" }).count == families.count)
        // The first members of a family share its colour and differ by dash.
        #expect(Set((0..<5).map { Plot.style(family: 2, member: $0).color }) == [Plot.palette[2]])
        var p = Plot(title: "", xLabel: "", yLabel: "")
        let a = p.series("neumann K=1", [0, 1], [0, 1], group: "Neumann"), b = p.series("cg K=1", [0, 1], [1, 0], group: "CG")
        let c = p.series("neumann K=10", [0, 1], [0, 2], group: "Neumann")
        #expect(a.color == c.color && a.dash != c.dash && b.color != a.color)
    }

    @Test func renderedLogAxesAreReadable() throws {
        for (lo, hi) in [(0.85, 12.0), (3.0, 40.0), (1e-8, 1e3), (1e-150, 1e150), (1e-300, 1e300)] {
            var p = Plot(title: "", xLabel: "K", yLabel: "norm", xLog: true, yLog: true)
            p.series("norm", [lo, hi], [lo, hi])
            let doc = try #require(SVGDocument.parse(p.svg()))
            for axis in ["xtick", "ytick"] {
                let labels = doc.all("text", class: axis).map(\.text)
                #expect(labels.count >= 2, "\(lo)…\(hi): \(axis) labels \(labels)")
            }
            // Up to a few decades, 2× and 5× are labelled too.
            if hi / lo < 20 { #expect(doc.all("text", class: "ytick").count >= 3, "\(lo)…\(hi): \(doc.all("text", class: "ytick").map(\.text))") }
        }
    }

    /// `xTickSpacing` brings x ticks closer: bars over ten classes get a label under every class (the default
    /// 70 px labels every other one, as the digits picture showed).
    @Test func xTickSpacingLabelsEveryClass() throws {
        func labels(_ spacing: Double?) throws -> [String] {
            var p = Plot(title: "", xLabel: "class", yLabel: "probability", xRange: -0.6...9.6, yRange: 0...1)
            p.series("q", [0, 9], [0.2, 0.8])
            if let spacing { p.xTickSpacing = spacing }
            return try #require(SVGDocument.parse(p.svg())).all("text", class: "xtick").map(\.text)
        }
        #expect(try labels(40) == (0...9).map(String.init))
        #expect(try labels(nil).count < 10)
        // Degenerate spacings still give a bounded, readable axis.
        for s in [0, -5, .nan, .infinity, 1e300] { #expect((2...60).contains(try labels(s).count), "spacing \(s)") }
    }
}
