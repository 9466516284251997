import Foundation
import Testing
import Tape
@testable import Demos

/// Runs `body` on another thread and waits at most `seconds`: a hang is recorded as a failure instead of
/// stalling the suite (the bounded tick counts below are the real check; this is the backstop).
func withinTime<T: Sendable>(_ seconds: Double, _ what: String, _ body: @escaping @Sendable () -> T) -> T? {
    let box = ResultBox<T>(), done = DispatchSemaphore(value: 0)
    Thread.detachNewThread { box.value = body(); done.signal() }
    guard done.wait(timeout: .now() + seconds) == .success else {
        Issue.record("\(what) did not return within \(seconds) s")
        return nil
    }
    return box.value
}

/// Hands a result from the worker thread to the waiting one (the semaphore orders the accesses).
final class ResultBox<T>: @unchecked Sendable { var value: T? }

/// Every number in the SVG's attributes (coordinates, sizes), for finiteness and bounds checks.
func svgNumbers(_ svg: String) -> [Double] {
    let attribute = try! NSRegularExpression(pattern: "(?:x|y|x1|x2|y1|y2|cx|cy|r|width|height|points|d|transform|stroke-width)=\"([^\"]*)\"")
    let number = try! NSRegularExpression(pattern: "[-+]?(?:[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?|nan|inf)", options: .caseInsensitive)
    var out: [Double] = []
    for m in attribute.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)) {
        let value = String(svg[Range(m.range(at: 1), in: svg)!])
        for n in number.matches(in: value, range: NSRange(value.startIndex..., in: value)) {
            let token = String(value[Range(n.range, in: value)!]).lowercased()
            out.append(token.contains("nan") ? .nan : token.contains("inf") ? .infinity : Double(token) ?? .nan)
        }
    }
    return out
}

@Suite("Demo support: axes and ticks are total")
struct AxisTests {
    static let tiny = Double.leastNonzeroMagnitude
    /// Data sets that broke or could break an axis: empty, one value, equal values, non-finite, extremes,
    /// subnormals, ≤ 0 (on a log axis), a range narrower than its magnitude's round-off.
    static let degenerateData: [[Double]] = [
        [], [5], [0], [-3, -3, -3], [.nan], [.infinity], [-.infinity], [.nan, .infinity, -.infinity], [1e300], [-1e300],
        [-1e300, 1e300], [1e308, -1e308], [.greatestFiniteMagnitude, -.greatestFiniteMagnitude], [tiny], [tiny, 2 * tiny],
        [-1, 0], [0, -2, .nan], [1e15, 1e15 + 1], [0.1, 0.1 + 1e-17], [1e-300, 1e300], [2, 2, .nan, 2],
    ]
    /// Requested ranges: none, degenerate, reversed, non-finite, ≤ 0 (log), narrow at a large magnitude.
    static let requested: [ClosedRange<Double>?] = [
        nil, 3...3, ClosedRange(uncheckedBounds: (5, 1)), ClosedRange(uncheckedBounds: (.nan, .nan)),
        ClosedRange(uncheckedBounds: (-.infinity, .infinity)), ClosedRange(uncheckedBounds: (.nan, 4)), 0...10, -5 ... -1,
        1e15...(1e15 + 1), 0...0, -1e308...1e308, tiny...tiny,
    ]

    /// The properties every axis and tick list must have, whatever it was built from.
    static func checkAxis(_ axis: Axis, length: Double, _ what: String) {
        #expect(axis.lower.isFinite && axis.upper.isFinite && axis.lower < axis.upper, "\(what): range \(axis.lower)…\(axis.upper)")
        if axis.log { #expect(axis.lower > 0, "\(what): log range \(axis.lower)…\(axis.upper)") }
        guard let ticks = withinTime(10, "ticks of \(what)", { axis.ticks(length: length, extent: { PlotGeometry.textWidth($0) }) }) else { return }
        #expect(ticks.count <= Int(length / 2) + 2, "\(what): \(ticks.count) ticks on \(length) px")
        #expect(ticks.allSatisfy { $0.value.isFinite && axis.contains($0.value) }, "\(what): a tick outside \(axis.lower)…\(axis.upper)")
        #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $0.value < $1.value }, "\(what): ticks not strictly increasing")
        let labelled = ticks.filter { $0.label != nil }
        #expect(Set(labelled.compactMap(\.label)).count == labelled.count, "\(what): repeated labels \(labelled.compactMap(\.label))")
        #expect(labelled.allSatisfy { !$0.label!.contains("nan") && !$0.label!.contains("inf") && $0.label!.count <= 24 })
        // Labels along a horizontal axis do not overlap.
        let boxes = labelled.map { t -> (Double, Double) in
            let p = axis.fraction(t.value) * length, w = PlotGeometry.textWidth(t.label!)
            return (p - w / 2, p + w / 2)
        }
        #expect(zip(boxes, boxes.dropFirst()).allSatisfy { $0.1 <= $1.0 }, "\(what): overlapping labels \(labelled.compactMap(\.label))")
        if length >= 200 {
            #expect(labelled.count >= 2, "\(what): \(labelled.count) labelled ticks \(labelled.compactMap(\.label)) on \(axis.lower)…\(axis.upper)")
        }
        // (Below 100 px two labels such as "1e-300" and "1e300" cannot both fit; a plot area is at least 40 px.)
        if axis.log && log10(axis.upper) - log10(axis.lower) >= 1 && length >= 100 {
            #expect(labelled.count >= 2, "\(what): a log axis over ≥ 1 decade has \(labelled.count) labelled ticks")
        }
    }

    @Test func degenerateDataAndRangesGiveValidAxes() {
        for log in [false, true] {
            for data in Self.degenerateData {
                for r in Self.requested {
                    let axis = Axis(data: data, requested: r, log: log)
                    for length in [40.0, 578, 5000] {
                        Self.checkAxis(axis, length: length, "log \(log), data \(data), range \(String(describing: r)), \(length) px")
                    }
                }
            }
        }
    }

    @Test func randomRangesGiveBoundedReadableTicks() {
        var g = SeededGenerator(seed: 16)
        for k in 0..<600 {
            let log = k % 2 == 1
            let data: [Double]
            if log {
                let a = Double.random(in: -330...310, using: &g), span = pow(10, Double.random(in: -8...2.9, using: &g))
                data = [pow(10, a), pow(10, a + span)]
            } else {
                let center = (Bool.random(using: &g) ? 1 : -1) * pow(10, Double.random(in: -300...300, using: &g))
                let width = abs(center) * pow(10, Double.random(in: -18...3, using: &g)) + pow(10, Double.random(in: -320 ... -250, using: &g))
                data = [center - width / 2, center + width / 2]
            }
            let length = Double.random(in: 40...3000, using: &g)
            Self.checkAxis(Axis(data: data, log: log), length: length, "random #\(k) log \(log) \(data) \(Int(length)) px")
        }
    }

    @Test func logAxesHaveATickPerDecadeAndReadableLabels() throws {
        // Eight decades on 578 px: every decade labelled, minor ticks present.
        let eight = Axis(data: [1e-4, 1e4], requested: 1e-4...1e4, log: true).ticks(length: 578, extent: { PlotGeometry.textWidth($0) })
        #expect(eight.filter(\.major).map(\.value) == (-4...4).map { pow(10, Double($0)) })
        #expect(eight.compactMap(\.label) == ["1e-4", "1e-3", "0.01", "0.1", "1", "10", "100", "1000", "1e4"])
        #expect(eight.contains { !$0.major && $0.value == 2e-4 })
        // 300 decades: a mark every few decades (not 300 marks), labels far enough apart, at least two of them.
        let wide = Axis(data: [1e-150, 1e150], requested: 1e-150...1e150, log: true).ticks(length: 578, extent: { PlotGeometry.textWidth($0) })
        #expect(wide.count <= 578 / 4 + 2 && wide.count >= 20)
        #expect(wide.compactMap(\.label).count >= 3 && wide.compactMap(\.label).allSatisfy { $0.hasPrefix("1e") || $0 == "1" })
        // One decade that holds a single power of ten: 2× and 5× are labelled too.
        let one = Axis(data: [1.5, 15], requested: 1.5...15, log: true).ticks(length: 300, extent: { PlotGeometry.textWidth($0) })
        #expect(one.compactMap(\.label) == ["2", "5", "10"])
        // Less than a decade, no power of ten inside: linear ticks placed on the log scale.
        let part = Axis(data: [2.1, 2.9], requested: 2.1...2.9, log: true).ticks(length: 300, extent: { PlotGeometry.textWidth($0) })
        #expect(part.compactMap(\.label).count >= 3 && part.compactMap(\.label).contains("2.4"))
    }

    @Test func linearLabelsUseTheDigitsTheirStepNeeds() {
        func labels(_ lo: Double, _ hi: Double, _ length: Double = 578) -> [String] {
            Axis(data: [], requested: lo...hi, log: false).ticks(length: length, extent: { PlotGeometry.textWidth($0) }).compactMap(\.label)
        }
        #expect(labels(0, 1) == ["0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"] || labels(0, 1) == ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        // One format per axis: scientific for all once one label needs it.
        #expect(labels(-1e6, 1e6).allSatisfy { $0 == "0" || $0.contains("e") }, "\(labels(-1e6, 1e6))")
        #expect(labels(0, 2.5e-7).contains("1.0e-7") && labels(0, 2.5e-7).contains("5.0e-8"), "\(labels(0, 2.5e-7))")
        #expect(labels(0, 1e5).contains("20000") && labels(0, 1e5).contains("100000"))
        // A narrow range at a large magnitude is widened to one that can be labelled, and the labels differ.
        let big = Axis(data: [1e15, 1e15 + 1], log: false)
        #expect(big.upper - big.lower >= 1e6 * 0.99)
        let l = big.ticks(length: 578, extent: { PlotGeometry.textWidth($0) }).compactMap(\.label)
        #expect(l.count >= 2 && Set(l).count == l.count, "\(l)")
    }

    /// The plot as a whole: every coordinate finite and near the picture, whatever the layers hold.
    @Test func plotsOfDegenerateDataAreFiniteAndBounded() throws {
        let bad: [Double] = [.nan, .infinity, -.infinity, 1e308, -1e308, 0, Self.tiny, -1, 1e300]
        for xLog in [false, true] {
            for yLog in [false, true] {
                for r in Self.requested {
                    var p = Plot(title: String(repeating: "t", count: 10_000), xLabel: "x", yLabel: "y", xLog: xLog, yLog: yLog, xRange: r, yRange: r)
                    p.line("a", bad, bad.reversed(), color: Plot.color(0))
                    p.points("b", bad, bad, color: Plot.color(1))
                    p.line("one point", [2], [3], color: Plot.color(2))
                    p.line("empty", [], [], color: Plot.color(3))
                    p.layers.append(.band(name: "band", xs: bad, lower: bad, upper: bad.map { $0 * 2 }, color: "#ccc"))
                    p.layers.append(.arrows(xs: [1, 2, 3], ys: [1e300], dxs: [.nan, 1], dys: [], color: "#999"))
                    p.layers.append(.cells(x0: .nan, x1: 1, y0: 0, y1: 1, nx: 0, ny: -3, colors: []))
                    p.layers.append(.cells(x0: -1e308, x1: 1e308, y0: 1e-300, y1: 1e300, nx: 1_000_000_000, ny: 1_000_000_000, colors: ["#fff", "#000"]))
                    p.label("far away", x: 1e308, y: -1e308)
                    let plot = p
                    let svg = try #require(withinTime(10, "svg of \(String(describing: r))") { plot.svg() })
                    let what = "xLog \(xLog) yLog \(yLog) range \(String(describing: r))"
                    #expect(SVGReader.read(svg) != nil, "\(what): not well-formed")
                    let numbers = svgNumbers(svg)
                    #expect(!numbers.isEmpty && numbers.allSatisfy { $0.isFinite && abs($0) <= 25_000 }, "\(what): \(numbers.filter { !$0.isFinite || abs($0) > 25_000 }.prefix(5))")
                    #expect(svg.utf8.count < 200_000, "\(what): \(svg.utf8.count) bytes")
                }
            }
        }
        // Sizes that are not sizes are clamped.
        for size in [Double.nan, 0, -5, .infinity, 1e300] {
            let p = Plot(title: "", xLabel: "", yLabel: "", width: size, height: size)
            #expect(svgNumbers(p.svg()).allSatisfy { $0.isFinite && abs($0) <= 25_000 })
        }
    }
}
