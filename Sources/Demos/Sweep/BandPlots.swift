import Foundation

/// How `collect` draws the spread of a series over seeds around the mean line.
enum BandKind: String {
    /// From the smallest to the largest value over the seeds.
    case minMax = "min-max"
    /// Mean ± one sample standard deviation.
    case sd

    var description: String { self == .minMax ? "band: min–max over seeds" : "band: mean ± 1 sd over seeds" }
}

/// One SVG per series: for every configuration, the mean over seeds as a line and the spread as a band.
enum BandPlots {
    /// The plot of the series at `path` across `summaries` (configurations without it are left out); nil when no
    /// configuration has two or more entries of it.
    static func plot(path: String, subcommand: String, summaries: [ConfigurationSummary], band: BandKind) -> Plot? {
        var entries: [(name: String, x: [Double], mean: [Double], lower: [Double], upper: [Double])] = []
        var xIsStep = false
        for s in summaries {
            guard let series = s.series.first(where: { $0.path == path }), series.stats.count >= 2 else { continue }
            let idx = series.stats.indices.filter { series.stats[$0] != nil }
            let stats = idx.map { series.stats[$0]! }
            let x = idx.map { series.x?[$0] ?? Double($0) }
            xIsStep = xIsStep || series.x != nil
            let lower = stats.map { band == .minMax ? $0.min : $0.mean - ($0.sd ?? 0) }
            let upper = stats.map { band == .minMax ? $0.max : $0.mean + ($0.sd ?? 0) }
            let n = Set(stats.map(\.n)).sorted()
            let nText = n.count == 1 ? "n = \(n[0])" : "n = \(n.first!)–\(n.last!)"
            entries.append(("\(s.configuration) (\(nText))", x, stats.map(\.mean), lower, upper))
        }
        guard !entries.isEmpty else { return nil }
        // A log axis when every value is positive and they span more than three decades (residuals, losses).
        let lows = entries.flatMap { $0.lower + $0.mean }, highs = entries.flatMap(\.upper)
        let positive = (lows.min() ?? 0) > 0
        let log = positive && (highs.max() ?? 1) / (lows.min() ?? 1) > 1e3
        var plot = Plot(title: "\(subcommand): \(path)", xLabel: xIsStep ? "step" : "index",
                        yLabel: "mean over seeds (\(band.description))", yLog: log)
        for (k, e) in entries.enumerated() {
            plot.layers.append(.band(name: nil, xs: e.x, lower: e.lower, upper: e.upper, color: lightColor(k, strength: 0.3)))
        }
        for (k, e) in entries.enumerated() {
            plot.line(e.name, e.x, e.mean, color: Plot.color(k), width: 1.8)
            if e.x.count <= 12 { plot.points(nil, e.x, e.mean, color: Plot.color(k), size: 3) }
        }
        return plot
    }

    /// A file name for a series path: `runs[0].neumann` → `runs_0.neumann.svg`.
    static func fileName(_ path: String) -> String {
        var s = ""
        for c in path.unicodeScalars {
            if c == "]" { continue }
            let ok = ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "." || c == "-" || c == "_"
            s.unicodeScalars.append(ok ? c : "_")
        }
        return (s.isEmpty ? "series" : s) + ".svg"
    }
}
