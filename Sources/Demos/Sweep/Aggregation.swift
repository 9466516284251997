import Foundation

/// Mean, sample standard deviation, min, max and count of some numbers (the seeds of one grid configuration).
struct Stats: Equatable {
    var n: Int
    var mean: Double
    /// Sample standard deviation (divides by n − 1); nil when n < 2.
    var sd: Double?
    var min: Double
    var max: Double

    /// Nil for no numbers.
    init?(_ xs: [Double]) {
        guard let lo = xs.min(), let hi = xs.max() else { return nil }
        n = xs.count
        // Two passes: the mean, then the squared deviations from it (no cancellation of large sums).
        mean = xs.reduce(0, +) / Double(n)
        let m = mean
        sd = n < 2 ? nil : (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)).squareRoot()
        min = lo
        max = hi
    }

    var json: JSON {
        .object([("n", .int(n)), ("mean", .number(mean)), ("sd", .optional(sd)), ("min", .number(min)), ("max", .number(max))])
    }
}

/// The numbers of one result.json, by path (`warm.accuracy`, `runs[1].neumann`), in the order of the file.
///
/// The conventions (docs/demos/support.md): the top-level `settings` object is the run's settings and is not
/// aggregated; strings, booleans and null are labels, not data; every other number is a *scalar*; an array
/// whose entries are all numbers (null marks a gap) is a *series*, aggregated entry by entry; other arrays
/// (of objects, of arrays) are entered by position, `runs[0]`. A numeric array named `step` gives the x values
/// of the series beside it in the same object (same length) and is not itself a quantity; without it the x value
/// is the index.
struct ResultLeaves {
    var scalars: [(path: String, value: Double)] = []
    var series: [(path: String, values: [Double?])] = []
    /// x values by the path of the object that holds a `step` array.
    var steps: [String: [Double]] = [:]

    init(_ json: JSON) { visit(json, path: "", top: true) }

    private mutating func visit(_ v: JSON, path: String, top: Bool = false) {
        switch v {
        case .number, .int:
            scalars.append((path, v.double!))
        case .object(let kv):
            for (k, x) in kv where !(top && k == "settings") {
                if k == "step", let xs = ResultLeaves.numericArray(x)?.compactMap({ $0 }) { steps[path] = xs }
                visit(x, path: path.isEmpty ? k : path + "." + k)
            }
        case .array(let xs):
            if let numbers = ResultLeaves.numericArray(v) { series.append((path, numbers)); return }
            for (i, x) in xs.enumerated() { visit(x, path: path + "[\(i)]") }
        case .string, .bool, .null:
            break
        }
    }

    /// The entries of an array of numbers (nulls allowed as gaps, at least one number), else nil.
    static func numericArray(_ v: JSON) -> [Double?]? {
        guard case .array(let xs) = v, xs.contains(where: { $0.double != nil }),
              xs.allSatisfy({ $0.double != nil || { if case .null = $0 { return true } else { return false } }($0) }) else { return nil }
        return xs.map(\.double)
    }

    /// Whether the series at `path` is a `step` array (x values, not a quantity).
    static func isStep(_ path: String) -> Bool { path == "step" || path.hasSuffix(".step") }

    /// The path of the object holding the leaf at `path` (`runs[0]` for `runs[0].neumann`), or nil when the leaf
    /// is an array entry rather than an object member.
    static func parent(of path: String) -> String? {
        if path.hasSuffix("]") { return nil }
        guard let dot = path.lastIndex(of: ".") else { return "" }
        return String(path[..<dot])
    }
}

/// One configuration of the grid (all flags but the seed) aggregated over its seeds.
struct ConfigurationSummary {
    var configuration: String
    var flags: [(flag: String, value: String)]
    /// The points of this configuration, in seed order, and which of them had a result.
    var points: [SweepPoint]
    var found: [SweepPoint]
    /// Scalars, then each series' last entry as `PATH[-1]`, in first-seen order.
    var scalars: [(path: String, stats: Stats)] = []
    /// Series entry by entry (nil where no seed has the entry), with their x values.
    var series: [(path: String, stats: [Stats?], x: [Double]?)] = []

    /// Aggregates the parsed results of `found` (same order).
    init(configuration: String, flags: [(flag: String, value: String)], points: [SweepPoint], found: [SweepPoint], results: [ResultLeaves]) {
        self.configuration = configuration
        self.flags = flags
        self.points = points
        self.found = found
        var scalarOrder: [String] = [], scalarValues: [String: [Double]] = [:]
        var seriesOrder: [String] = [], seriesValues: [String: [[Double?]]] = [:], xs: [String: [Double]] = [:]
        func add(_ path: String, _ x: Double) {
            if scalarValues[path] == nil { scalarOrder.append(path) }
            scalarValues[path, default: []].append(x)
        }
        for r in results {
            for (p, x) in r.scalars { add(p, x) }
            for (p, s) in r.series {
                if seriesValues[p] == nil { seriesOrder.append(p) }
                seriesValues[p, default: []].append(s)
                if xs[p] == nil, let parent = ResultLeaves.parent(of: p), let step = r.steps[parent], step.count == s.count, !ResultLeaves.isStep(p) {
                    xs[p] = step
                }
            }
        }
        for p in seriesOrder where !ResultLeaves.isStep(p) { for s in seriesValues[p]! { if let last = s.last(where: { $0 != nil }) { add(p + "[-1]", last!) } } }
        scalars = scalarOrder.map { ($0, Stats(scalarValues[$0]!)!) }
        series = seriesOrder.map { p in
            let all = seriesValues[p]!
            let length = all.map(\.count).max() ?? 0
            let stats = (0..<length).map { i in Stats(all.compactMap { i < $0.count ? $0[i] : nil }) }
            return (p, stats, xs[p])
        }
    }

    var missing: [SweepPoint] { points.filter { p in !found.contains(p) } }

    var json: JSON {
        func column(_ stats: [Stats?], _ f: (Stats) -> Double?) -> JSON { .array(stats.map { $0.flatMap(f).map(JSON.number) ?? .null }) }
        return .object([
            ("configuration", .string(configuration)),
            ("flags", .object(flags.map { ($0.flag, JSON.string($0.value)) })),
            ("seeds", .array(points.map { .int($0.seed) })),
            ("seeds_found", .array(found.map { .int($0.seed) })),
            ("missing", .array(missing.map { .string($0.name) })),
            ("scalars", .object(scalars.map { ($0.path, $0.stats.json) })),
            ("series", .object(series.map { s in
                (s.path, .object([("n", .array(s.stats.map { .int($0?.n ?? 0) })), ("mean", column(s.stats) { $0.mean }),
                                  ("sd", column(s.stats) { $0.sd }), ("min", column(s.stats) { $0.min }), ("max", column(s.stats) { $0.max }),
                                  ("x", s.x.map(JSON.numbers) ?? .null)]))
            })),
        ])
    }
}
