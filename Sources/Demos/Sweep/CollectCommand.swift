import Foundation

/// `Demos collect DIR`: aggregates a sweep's result.json files over seeds, per configuration (all swept flags but
/// the seed), into DIR/summary.json, DIR/summary.csv, DIR/summary_series.csv and one band plot per series in
/// DIR/plots/, and prints a table of the scalars.
enum Collect: CommandLineTool {
    static let name = "collect"
    static let summary = "aggregates a sweep's result.json files over seeds: mean ± sd tables (JSON, CSV) and band plots"
    static let flags: [Flag] = [
        .option("keys", "only quantities whose path contains one of these words, comma-separated, in the table and plots (the files hold all)"),
        .option("band", "the spread drawn around the mean in the plots: min-max or sd (mean ± 1 sd)", default: "min-max"),
    ]

    static let synopsis = "Demos collect DIR [--keys WORD,…] [--band min-max|sd]"
    static let notes = """
        DIR is a sweep's folder (it holds sweep.json). For every configuration of the grid, over its seeds: each
        number of result.json (outside "settings") gets n, mean, sample sd (n − 1), min and max; each numeric array
        (a series) the same entry by entry, and its last entry as PATH[-1]. Points without a result.json are
        reported as missing (n is then below the number of seeds). DIR/plots/ holds one SVG per series (collect
        replaces the SVGs there). Exit status: 0 written, 1 no point has a result yet, 2 a usage mistake.

        """

    static func run(argv: [String], console: Console) -> Int32 {
        let usage = self.usage(synopsis: synopsis, notes: notes)
        if argv.contains(where: { $0 == "--help" || $0 == "-h" }) { console.say(usage); return 0 }
        return guarded(console, usage: usage) {
            let args = try ToolArguments(argv, flags: flags)
            guard args.passthrough.isEmpty else { throw UsageError("collect takes no flags after --") }
            guard args.positional.count <= 1 else { throw UsageError("unexpected argument '\(args.positional[1])'") }
            guard let dir = args.positional.first else { throw UsageError("collect needs the sweep's folder, as in: Demos collect DIR") }
            guard let band = BandKind(rawValue: args.string("band") ?? "min-max") else {
                throw UsageError("--band must be one of min-max, sd, got '\(args.string("band")!)'")
            }
            var keys: [String] = []
            if let k = args.string("keys") {
                keys = k.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard keys.allSatisfy({ !$0.isEmpty }) else { throw UsageError("--keys expects comma-separated words, got '\(k)'") }
            }
            let directory = URL(fileURLWithPath: dir, isDirectory: true).standardizedFileURL
            let manifest = directory.appendingPathComponent("sweep.json")
            guard FileManager.default.fileExists(atPath: manifest.path) else {
                throw UsageError("\(dir) is not a sweep's folder: it has no sweep.json (run Demos sweep … --out \(dir) first)")
            }
            let grid = try SweepGrid(manifest: try JSON.read(manifest), file: manifest.path)
            let collection = try SweepCollection(grid: grid, directory: directory, console: console)
            try collection.write(band: band, keys: keys)
            collection.report(keys: keys)
            return 0
        }
    }
}

/// A sweep's results, read and aggregated per configuration.
struct SweepCollection {
    var grid: SweepGrid
    var directory: URL
    var summaries: [ConfigurationSummary]
    let console: Console

    init(grid: SweepGrid, directory: URL, console: Console) throws {
        self.grid = grid
        self.directory = directory
        self.console = console
        var groups: [(configuration: String, points: [SweepPoint])] = []
        for p in grid.points {
            if let k = groups.firstIndex(where: { $0.configuration == p.configuration }) { groups[k].points.append(p) }
            else { groups.append((p.configuration, [p])) }
        }
        var summaries: [ConfigurationSummary] = []
        for g in groups {
            var found: [SweepPoint] = [], leaves: [ResultLeaves] = [], settings: [(Int, String)] = []
            for p in g.points {
                let file = directory.appendingPathComponent(p.name).appendingPathComponent("result.json")
                guard FileManager.default.fileExists(atPath: file.path) else { continue }
                do {
                    let json = try JSON.read(file)
                    found.append(p)
                    leaves.append(ResultLeaves(json))
                    settings.append((p.seed, SweepCollection.settingsWithoutSeed(json)))
                } catch {
                    console.error("warning: \(p.name): unreadable result.json, left out: \(error)")
                }
            }
            // Seeds of one configuration must differ in the seed alone (not, say, in the build that ran them).
            if let first = settings.first, let other = settings.first(where: { $0.1 != first.1 }) {
                console.error("warning: \(g.configuration): the settings in result.json differ between seed \(first.0) and seed \(other.0)")
            }
            summaries.append(ConfigurationSummary(configuration: g.configuration, flags: g.points[0].values, points: g.points,
                                                  found: found, results: leaves))
        }
        guard summaries.contains(where: { !$0.found.isEmpty }) else {
            throw DemoError("no point of the sweep in \(directory.path) has a result.json yet (\(grid.points.count) points)")
        }
        self.summaries = summaries
    }

    /// The `settings` object rendered without its `seed`, for comparing runs.
    static func settingsWithoutSeed(_ json: JSON) -> String {
        guard case .object(let kv)? = json["settings"] else { return "" }
        return (try? JSON.object(kv.filter { $0.0 != "seed" }).render()) ?? ""
    }

    static func matches(_ path: String, _ keys: [String]) -> Bool { keys.isEmpty || keys.contains { path.contains($0) } }

    func write(band: BandKind, keys: [String]) throws {
        let out = try OutputDirectory(path: directory.path)
        try out.writeJSON(.object([
            ("format", .string("bilevelkit-summary 1")),
            ("subcommand", .string(grid.subcommand)),
            ("passthrough", .array(grid.passthrough.map(JSON.string))),
            ("set", .array(grid.axes.map { .object([("flag", .string($0.flag)), ("values", .array($0.values.map(JSON.string)))]) })),
            ("seeds", .array(grid.seeds.map(JSON.int))),
            ("statistics", .string("per configuration, over the seeds with a result: n, mean, sample standard deviation (n − 1; null for n < 2), min, max; series entry by entry; PATH[-1] is each seed's last entry of a series")),
            ("band", .string(band.description)),
            ("configurations", .array(summaries.map(\.json))),
        ]), to: "summary.json")
        let flagNames = grid.axes.map(\.flag)
        func cell(_ x: Double?) -> String { x.map(JSON.format) ?? "" }
        var text = (["configuration"] + flagNames + ["quantity", "n", "mean", "sd", "min", "max"]).map(csvField).joined(separator: ",") + "\n"
        var seriesText = (["configuration"] + flagNames + ["series", "index", "x", "n", "mean", "sd", "min", "max"]).map(csvField).joined(separator: ",") + "\n"
        for s in summaries {
            let head = ([s.configuration] + s.flags.map(\.value)).map(csvField)
            for (path, st) in s.scalars {
                text += (head + [csvField(path), "\(st.n)", cell(st.mean), cell(st.sd), cell(st.min), cell(st.max)]).joined(separator: ",") + "\n"
            }
            for (path, stats, x) in s.series {
                for (i, st) in stats.enumerated() {
                    seriesText += (head + [csvField(path), "\(i)", cell(x?[i] ?? Double(i)), "\(st?.n ?? 0)", cell(st?.mean), cell(st?.sd),
                                           cell(st?.min), cell(st?.max)]).joined(separator: ",") + "\n"
                }
            }
        }
        try out.write(text, to: "summary.csv")
        try out.write(seriesText, to: "summary_series.csv")
        try writePlots(band: band, keys: keys)
    }

    /// DIR/plots/<series>.svg for every series (of the chosen keys) that is an object member (not an entry of a
    /// matrix such as a trajectory of points) with at least two entries; SVGs left from an earlier collect go.
    func writePlots(band: BandKind, keys: [String]) throws {
        let plots = try OutputDirectory(path: directory.appendingPathComponent("plots").path)
        var paths: [String] = []
        for s in summaries { for x in s.series where !paths.contains(x.path) { paths.append(x.path) } }
        var written: Set<String> = []
        for path in paths where SweepCollection.matches(path, keys) && ResultLeaves.parent(of: path) != nil && !ResultLeaves.isStep(path) {
            guard let plot = BandPlots.plot(path: path, subcommand: grid.subcommand, summaries: summaries, band: band) else { continue }
            var name = BandPlots.fileName(path)
            while written.contains(name) { name = "_" + name }
            try plots.write(plot.svg(), to: name)
            written.insert(name)
        }
        for old in (try? FileManager.default.contentsOfDirectory(atPath: plots.url.path)) ?? [] where old.hasSuffix(".svg") && !written.contains(old) {
            try? FileManager.default.removeItem(at: plots.url.appendingPathComponent(old))
        }
        console.say("wrote \(directory.path)/{summary.json, summary.csv, summary_series.csv} and \(written.count) band plot(s) in \(plots.url.path)/")
    }

    /// The table of scalars on stdout; missing points on stderr.
    func report(keys: [String]) {
        var rows: [[String]] = []
        for s in summaries {
            if s.found.isEmpty { rows.append([s.configuration, "(no results)", "", "", "", "0 of \(s.points.count)"]) }
            for (path, st) in s.scalars where SweepCollection.matches(path, keys) {
                let n = st.n < s.points.count ? "\(st.n) of \(s.points.count)" : "\(st.n)"
                rows.append([s.configuration, path, fmt(st.mean) + (st.sd.map { " ± " + fmt($0, 2) } ?? ""), fmt(st.min), fmt(st.max), n])
            }
        }
        console.say("\(grid.subcommand) over seeds \(SweepCollection.describe(grid.seeds)) (mean ± sample sd, min, max, n):")
        console.say(rows.isEmpty ? "(no scalar quantities" + (keys.isEmpty ? ")" : " match --keys)") : table(["configuration", "quantity", "mean ± sd", "min", "max", "n"], rows))
        let missing = summaries.flatMap(\.missing)
        if !missing.isEmpty {
            console.error("missing: \(missing.count) of \(grid.points.count) points have no result.json: " + missing.map(\.name).joined(separator: "; ")
                          + " (their stderr.txt says why; rerun the sweep to retry them)")
        }
    }

    /// `0..4` for consecutive seeds, else the list.
    static func describe(_ seeds: [Int]) -> String {
        guard let a = seeds.first, let b = seeds.last, seeds.count > 2, b > a, seeds == Array(a...b) else { return seeds.map(String.init).joined(separator: ",") }
        return "\(a)..\(b)"
    }
}
