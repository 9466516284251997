import Foundation
import Tape

/// The plot kinds the demos draw, as one call each on top of `Plot`'s layers.
extension Plot {
    /// Markers in class order: class c gets colour `Plot.color(c)` and marker `classMarkers[c % 5]`.
    static let classMarkers: [Marker] = [.circle, .square, .triangle, .cross, .star]

    /// A scatter plot of labelled points, one colour and marker per class, with one legend entry per class.
    /// `xs`, `ys`, `classes` have one entry per point.
    mutating func scatter(_ xs: [Double], _ ys: [Double], classes: [Int], names: (Int) -> String = { "class \($0)" }, size: Double = 3.5) {
        require(xs.count == ys.count && xs.count == classes.count, "Plot.scatter: \(xs.count) x, \(ys.count) y, \(classes.count) classes")
        for c in Set(classes).sorted() {
            let idx = classes.indices.filter { classes[$0] == c }
            points(names(c), idx.map { xs[$0] }, idx.map { ys[$0] }, color: Plot.color(c), size: size, marker: Plot.classMarkers[c % 5])
        }
    }

    /// A trajectory: a polyline through the points with a small marker at each recorded point, an arrow head on
    /// every `arrowEvery`-th segment showing the direction of travel, and a star at the end.
    mutating func trajectory(_ name: String?, _ xs: [Double], _ ys: [Double], color: String, arrowEvery: Int = 10, markers: Bool = true) {
        require(xs.count == ys.count, "Plot.trajectory: \(xs.count) x for \(ys.count) y")
        line(name, xs, ys, color: color, width: 1.8)
        if markers { points(nil, xs, ys, color: color, size: 1.8) }
        if arrowEvery > 0 && xs.count > 1 {
            let idx = Array(stride(from: 0, to: xs.count - 1, by: arrowEvery))
            layers.append(.arrows(xs: idx.map { xs[$0] }, ys: idx.map { ys[$0] }, dxs: idx.map { xs[$0 + 1] - xs[$0] },
                                  dys: idx.map { ys[$0 + 1] - ys[$0] }, color: color))
        }
        if let x = xs.last, let y = ys.last { points(nil, [x], [y], color: color, size: 5, marker: .star) }
    }

    /// A vector field: an arrow (dx, dy) drawn at each (x, y).
    mutating func arrows(_ xs: [Double], _ ys: [Double], _ dxs: [Double], _ dys: [Double], color: String = "#b0b0b0") {
        require(xs.count == ys.count && xs.count == dxs.count && xs.count == dys.count, "Plot.arrows: lengths \(xs.count), \(ys.count), \(dxs.count), \(dys.count)")
        layers.append(.arrows(xs: xs, ys: ys, dxs: dxs, dys: dys, color: color))
    }

    /// Decision regions: an nx × ny grid over `x` × `y` (row-major from the bottom-left), each cell filled with
    /// its class's light colour. Draw points on top afterwards.
    mutating func regions(x: ClosedRange<Double>, y: ClosedRange<Double>, nx: Int, ny: Int, classes: [Int], strength: Double = 0.3) {
        require(classes.count == nx * ny, "Plot.regions: \(classes.count) classes for a \(nx)×\(ny) grid")
        layers.append(.cells(x0: x.lowerBound, x1: x.upperBound, y0: y.lowerBound, y1: y.upperBound, nx: nx, ny: ny,
                             colors: classes.map { lightColor($0, strength: strength) }))
    }

    /// Probability regions: like `regions`, with each cell's colour mixed towards its class colour by the
    /// probability of that class (a confident cell is dark, an uncertain one pale). Probabilities in [0, 1].
    mutating func probabilityRegions(x: ClosedRange<Double>, y: ClosedRange<Double>, nx: Int, ny: Int, classes: [Int], probabilities: [Double]) {
        require(classes.count == nx * ny && probabilities.count == nx * ny,
                "Plot.probabilityRegions: \(classes.count) classes and \(probabilities.count) probabilities for a \(nx)×\(ny) grid")
        // Quantized to 10 levels, so neighbouring cells share a colour and the run-length rectangles stay few.
        let colors = zip(classes, probabilities).map { c, p in lightColor(c, strength: 0.05 + 0.5 * (min(max(p, 0), 1) * 10).rounded() / 10) }
        layers.append(.cells(x0: x.lowerBound, x1: x.upperBound, y0: y.lowerBound, y1: y.upperBound, nx: nx, ny: ny, colors: colors))
    }

    /// A stacked area chart: series k fills the band between the sum of series 0..<k and 0...k, at each x.
    /// (E.g. soft-label probabilities over outer steps, which sum to 1.)
    mutating func stackedAreas(_ xs: [Double], series: [(name: String, values: [Double])]) {
        var lower = [Double](repeating: 0, count: xs.count)
        for (k, s) in series.enumerated() {
            require(s.values.count == xs.count, "Plot.stackedAreas: series '\(s.name)' has \(s.values.count) values for \(xs.count) x")
            let upper = zip(lower, s.values).map(+)
            layers.append(.band(name: s.name, xs: xs, lower: lower, upper: upper, color: Plot.color(k)))
            lower = upper
        }
    }

    /// A text label at (x, y) in data coordinates.
    mutating func label(_ text: String, x: Double, y: Double, color: String = "#333333") {
        layers.append(.label(x: x, y: y, text: text, color: color))
    }
}
