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
    }
}
