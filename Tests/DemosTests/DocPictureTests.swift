import Foundation
import Testing
@testable import Demos

/// The pictures in docs/demos/img as a reader sees them: every legend inside the figure (and not half over the
/// plot area), no text outside it, x tick labels that do not overlap, at least two labels on every axis, and no
/// two legend lines that look alike.
@Suite("Docs pictures: legends inside, readable axes")
struct DocPictureTests {
    static let img = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/demos/img")

    /// Pictures exempt from these checks until they are regenerated (none: every picture was refreshed with the
    /// current plot code; name a file here only with the reason, while its demo is being reworked).
    static let awaitingRefresh: Set<String> = []

    @Test func everyDocsPictureIsLegible() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.img.path).filter { $0.hasSuffix(".svg") }.sorted()
        #expect(!files.isEmpty, "no pictures in \(Self.img.path)")
        for file in files where !Self.awaitingRefresh.contains(file) {
            let svg = try String(contentsOf: Self.img.appendingPathComponent(file), encoding: .utf8)
            let doc = try #require(SVGDocument.parse(svg), "\(file): not well-formed")
            let (w, h) = doc.size
            #expect(w.isFinite && h.isFinite && w > 0 && h > 0, "\(file): no size on the <svg> element")
            let view = Box(x0: 0, y0: 0, x1: w, y1: h)
            for t in doc.all("text") where !t.text.isEmpty && t.attributes["transform"] == nil {
                #expect(view.contains(Box(text: t)), "\(file): text '\(t.text)' outside the \(w)×\(h) picture")
            }
            // Image grids (digits) have no axes or legend; a plot (it clips to its frame) without the frame's class was
            // drawn by plot code from before issue 16 and is checked by nothing below: it must be regenerated.
            guard let frame = doc.all("rect", class: "frame").first.map(Box.init(rect:)) else {
                let isPlot = !doc.all("clipPath").isEmpty
                #expect(!isPlot, "\(file): a plot drawn by the old plot code (no class=\"frame\"): regenerate it")
                continue
            }
            for legend in doc.all("rect", class: "legend-box").map(Box.init(rect:)) {
                #expect(view.contains(legend), "\(file): legend \(legend) outside the \(w)×\(h) picture")
                #expect(frame.contains(legend) || !frame.overlaps(legend), "\(file): legend half over the plot area")
                if frame.contains(legend), let curve = Self.curveUnder(legend, in: doc) {
                    Issue.record("\(file): the legend inside the plot hides part of a curve (\(curve))")
                }
            }
            let samples = doc.elements.filter { $0.name == "line" && $0.inLegendEntry }
                .map { "\($0.attributes["stroke"] ?? "") \($0.attributes["stroke-dasharray"] ?? "solid")" }
            #expect(Set(samples).count == samples.count, "\(file): two legend lines look alike: \(samples)")
            let xt = doc.all("text", class: "xtick").map(Box.init(text:)).sorted { $0.x0 < $1.x0 }
            #expect(zip(xt, xt.dropFirst()).allSatisfy { !$0.overlaps($1) }, "\(file): x tick labels overlap")
            for axis in ["xtick", "ytick"] {
                let labels = doc.all("text", class: axis).map(\.text)
                #expect(labels.count >= 2, "\(file): \(axis) labels \(labels): an axis needs two to be read")
            }
        }
    }

    /// The first curve (a polyline: every data line is one; the legend draws its samples as lines) with a segment
    /// through `legend` (1 px inside its edges), as "stroke at (x, y)", or nil when the legend hides no curve.
    static func curveUnder(_ legend: Box, in doc: SVGDocument) -> String? {
        let x = (legend.x0 + 1)...(legend.x1 - 1), y = (legend.y0 + 1)...(legend.y1 - 1)
        for line in doc.all("polyline") {
            let points = (line.attributes["points"] ?? "").split(separator: " ").compactMap { pair -> (Double, Double)? in
                let c = pair.split(separator: ",").compactMap { Double($0) }
                return c.count == 2 ? (c[0], c[1]) : nil
            }
            for (p, q) in zip(points, points.dropFirst()) where PlotGeometry.clip(p, q, x: x, y: y) != nil {
                return "\(line.attributes["stroke"] ?? "?") at (\(PlotGeometry.number(p.0)), \(PlotGeometry.number(p.1)))"
            }
        }
        return nil
    }
}
