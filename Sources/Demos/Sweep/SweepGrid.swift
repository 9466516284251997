import Foundation

/// One swept flag of the subcommand and the values it takes, in the order given (`--set terms=10,100`).
/// A switch (`--quick`) takes the values `on` and `off`.
struct SweepAxis: Equatable {
    var flag: String
    var values: [String]
    var isSwitch: Bool

    /// The flag as it goes on the child's command line for one value.
    func arguments(_ value: String) -> [String] {
        isSwitch ? (value == "on" ? ["--" + flag] : []) : ["--" + flag, value]
    }
}

/// One grid point: a value of every axis and a seed; run as `Demos SUBCOMMAND … --seed S --out DIR/<name>`.
struct SweepPoint: Equatable {
    var seed: Int
    /// (flag, value) in axis order.
    var values: [(flag: String, value: String)]

    static func == (a: SweepPoint, b: SweepPoint) -> Bool {
        a.seed == b.seed && a.values.map(\.flag) == b.values.map(\.flag) && a.values.map(\.value) == b.values.map(\.value)
    }

    /// The configuration without the seed (`terms=10,step=0.5`), `all` when no flag is swept: the group whose
    /// seeds `collect` aggregates.
    var configuration: String {
        values.isEmpty ? "all" : values.map { "\($0.flag)=\(SweepPoint.escape($0.value))" }.joined(separator: ",")
    }

    /// The folder name: `terms=10,seed=3`, `seed=3` without swept flags. Stable (axis order, then the seed) and
    /// readable; `/ , = %` and control characters in a value are percent-encoded so the name is one path
    /// component and different points never share a name.
    var name: String { values.isEmpty ? "seed=\(seed)" : configuration + ",seed=\(seed)" }

    static func escape(_ value: String) -> String {
        var s = ""
        for u in value.unicodeScalars {
            if u == "/" || u == "," || u == "=" || u == "%" || u.value < 0x20 || u.value == 0x7f {
                s += String(format: "%%%02X", u.value)
            } else {
                s.unicodeScalars.append(u)
            }
        }
        return s
    }
}

/// A sweep's grid: the subcommand, the flags passed to every run, the swept axes and the seeds. The points are
/// the Cartesian product, axes outer (in the order given) and seeds inner.
struct SweepGrid: Equatable {
    var subcommand: String
    var passthrough: [String]
    var axes: [SweepAxis]
    var seeds: [Int]

    /// The number of points, or nil when it does not fit in an Int.
    static func count(seeds: Int, axes: [SweepAxis]) -> Int? {
        var n = seeds
        for a in axes {
            let (m, overflow) = n.multipliedReportingOverflow(by: a.values.count)
            if overflow { return nil }
            n = m
        }
        return n
    }

    var points: [SweepPoint] {
        var combos: [[(flag: String, value: String)]] = [[]]
        for a in axes { combos = combos.flatMap { c in a.values.map { c + [(a.flag, $0)] } } }
        return combos.flatMap { c in seeds.map { SweepPoint(seed: $0, values: c) } }
    }

    /// The child's arguments for a point, without the executable and without `--out`.
    func arguments(_ p: SweepPoint) -> [String] {
        var args = [subcommand] + passthrough
        for (axis, v) in zip(axes, p.values) { args += axis.arguments(v.value) }
        return args + ["--seed", String(p.seed)]
    }

    // MARK: The manifest, DIR/sweep.json

    static let format = "bilevelkit-sweep 1"

    /// sweep.json: what `collect` and a rerun need to know the grid, plus every point's name and command.
    func manifest(executable: String) -> JSON {
        .object([
            ("format", .string(SweepGrid.format)),
            ("subcommand", .string(subcommand)),
            ("passthrough", .array(passthrough.map(JSON.string))),
            ("set", .array(axes.map { .object([("flag", .string($0.flag)), ("values", .array($0.values.map(JSON.string))), ("switch", .bool($0.isSwitch))]) })),
            ("seeds", .array(seeds.map(JSON.int))),
            ("executable", .string(executable)),
            ("points", .array(points.map { p in
                .object([("name", .string(p.name)), ("seed", .int(p.seed)),
                         ("flags", .object(p.values.map { ($0.flag, JSON.string($0.value)) })),
                         ("command", .array(arguments(p).map(JSON.string)))])
            })),
        ])
    }

    /// Why this grid cannot go into a folder that holds `old`, or nil when it can: the same subcommand, the same
    /// passthrough flags and the same swept flags, with every old value and seed still present (an extension:
    /// new values or seeds are added, finished points are kept). `self` must already use `old`'s axis order.
    func incompatibility(with old: SweepGrid) -> String? {
        if subcommand != old.subcommand { return "it holds a sweep of '\(old.subcommand)', not '\(subcommand)'" }
        if passthrough != old.passthrough {
            return "its runs were given '\(old.passthrough.joined(separator: " "))' after --, not '\(passthrough.joined(separator: " "))'"
        }
        if axes.map(\.flag) != old.axes.map(\.flag) {
            let names = { (a: [SweepAxis]) in a.isEmpty ? "none" : a.map { "--" + $0.flag }.joined(separator: ", ") }
            return "it sweeps \(names(old.axes)), not \(names(axes))"
        }
        let droppedSeeds = old.seeds.filter { !seeds.contains($0) }
        if !droppedSeeds.isEmpty { return "this grid drops seed(s) \(droppedSeeds.map(String.init).joined(separator: ", ")) of its grid" }
        for (a, b) in zip(axes, old.axes) {
            let dropped = b.values.filter { !a.values.contains($0) }
            if !dropped.isEmpty { return "this grid drops --\(a.flag) value(s) \(dropped.joined(separator: ", ")) of its grid" }
        }
        return nil
    }

    /// The same grid with its axes in `old`'s order (when both sweep the same flags), so point names match.
    func ordered(like old: SweepGrid) -> SweepGrid {
        guard Set(axes.map(\.flag)) == Set(old.axes.map(\.flag)), axes.count == old.axes.count else { return self }
        var g = self
        g.axes = old.axes.map { o in axes.first { $0.flag == o.flag }! }
        return g
    }
}

extension SweepGrid {
    /// Reads a manifest back; anything missing or malformed is an error naming the file.
    init(manifest json: JSON, file: String) throws {
        func bad(_ what: String) -> DemoError { DemoError("\(file) is not a sweep manifest: \(what)") }
        guard json["format"]?.stringValue == SweepGrid.format else { throw bad("no \"format\": \"\(SweepGrid.format)\"") }
        guard let sub = json["subcommand"]?.stringValue else { throw bad("no subcommand") }
        guard case .array(let pass)? = json["passthrough"], case .array(let set)? = json["set"], case .array(let seeds)? = json["seeds"] else {
            throw bad("no passthrough, set or seeds list")
        }
        subcommand = sub
        passthrough = try pass.map { try $0.stringValue ?? { throw bad("passthrough holds a non-string") }() }
        axes = try set.map { a in
            guard let flag = a["flag"]?.stringValue, case .array(let vs)? = a["values"], case .bool(let sw)? = a["switch"] else { throw bad("malformed set entry") }
            return SweepAxis(flag: flag, values: try vs.map { try $0.stringValue ?? { throw bad("a set value is not a string") }() }, isSwitch: sw)
        }
        self.seeds = try seeds.map { s in
            guard case .int(let v) = s, v >= 0 else { throw bad("a seed is not a non-negative integer") }
            return v
        }
    }
}
