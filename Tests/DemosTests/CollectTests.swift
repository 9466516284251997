import Foundation
import Testing
@testable import Demos

/// `Demos collect` on a fabricated sweep folder whose statistics are worked out by hand below.
@Suite("collect")
struct CollectTests {
    /// A sweep of `fake` over --a ∈ {1, 2} × seeds 0, 1, 2; seed 2 of a=2 has no result (a failed point).
    ///
    /// a=1: acc = 0.5, 0.7, 0.9 → mean 0.7, sample sd √((0.04 + 0 + 0.04)/2) = 0.2, min 0.5, max 0.9, n 3.
    ///      loss = [1, 2, 3], [3, 4, 5], [5, 6] → entry 0: mean 3, sd 2; entry 2: values 3, 5 → mean 4, sd √2, n 2;
    ///      loss[-1] = 3, 5, 6 → mean 14/3, sd √((25/9 + 1/9 + 16/9)/2) = √(7/3).
    /// a=2: acc = 1, 3 → mean 2, sd √2, n 2 of 3.
    func fabricate() throws -> URL {
        let dir = freshFolder()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let manifest = """
            {"format": "bilevelkit-sweep 1", "subcommand": "fake", "passthrough": ["--quick"],
             "set": [{"flag": "a", "values": ["1", "2"], "switch": false}], "seeds": [0, 1, 2], "executable": "/x/Demos", "points": []}
            """
        try manifest.write(to: dir.appendingPathComponent("sweep.json"), atomically: true, encoding: .utf8)
        let results: [(String, String)] = [
            ("a=1,seed=0", #"{"settings": {"seed": 0, "lr": 0.1}, "acc": 0.5, "train": {"loss": [1, 2, 3], "label": "x"}, "runs": [{"k": 1}, {"k": 10}]}"#),
            ("a=1,seed=1", #"{"settings": {"seed": 1, "lr": 0.1}, "acc": 0.7, "train": {"loss": [3, 4, 5], "label": "x"}, "runs": [{"k": 1}, {"k": 10}]}"#),
            ("a=1,seed=2", #"{"settings": {"seed": 2, "lr": 0.1}, "acc": 0.9, "train": {"loss": [5, 6], "label": "x"}, "runs": [{"k": 1}, {"k": 10}]}"#),
            ("a=2,seed=0", #"{"settings": {"seed": 0, "lr": 0.1}, "acc": 1, "train": {"loss": [2, 2, 2]}}"#),
            ("a=2,seed=1", #"{"settings": {"seed": 1, "lr": 0.1}, "acc": 3, "train": {"loss": [4, 4, 4]}}"#),
        ]
        for (name, text) in results {
            let d = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            try text.write(to: d.appendingPathComponent("result.json"), atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("a=2,seed=2"), withIntermediateDirectories: true)
        return dir
    }

    func collect(_ args: [String]) -> (Int32, CapturedConsole) {
        let c = CapturedConsole()
        return (DemoCLI.run(["collect"] + args, console: c.console()), c)
    }

    func close(_ a: Any?, _ b: Double) -> Bool { number(a).map { abs($0 - b) <= 1e-12 * max(1, abs(b)) } ?? false }

    @Test func aggregatesScalarsAndSeriesOverSeeds() throws {
        let dir = try fabricate()
        let (status, c) = collect([dir.path])
        #expect(status == 0, "\(c.err)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("summary.json"))) as? [String: Any])
        let configs = try #require(summary["configurations"] as? [[String: Any]])
        #expect(configs.map { $0["configuration"] as? String } == ["a=1", "a=2"])
        let one = try #require(configs[0]["scalars"] as? [String: [String: Any]])
        let acc = try #require(one["acc"])
        #expect(close(acc["mean"], 0.7) && close(acc["sd"], 0.2) && close(acc["min"], 0.5) && close(acc["max"], 0.9) && number(acc["n"]) == 3)
        let last = try #require(one["train.loss[-1]"])
        #expect(close(last["mean"], 14.0 / 3) && close(last["sd"], (7.0 / 3).squareRoot()) && number(last["n"]) == 3)
        #expect(close(one["runs[1].k"]?["mean"], 10) && close(one["runs[1].k"]?["sd"], 0))
        #expect(one.keys.allSatisfy { !$0.hasPrefix("settings") }, "settings are not data: \(one.keys)")
        let loss = try #require((configs[0]["series"] as? [String: [String: Any]])?["train.loss"])
        let mean = try #require(loss["mean"] as? [Any]), sd = try #require(loss["sd"] as? [Any]), n = try #require(loss["n"] as? [Any])
        #expect(close(mean[0], 3) && close(sd[0], 2) && close(mean[2], 4) && close(sd[2], 2.0.squareRoot()))
        #expect(n.compactMap(number) == [3, 3, 2])
        let two = try #require(configs[1]["scalars"] as? [String: [String: Any]])
        #expect(close(two["acc"]?["mean"], 2) && close(two["acc"]?["sd"], 2.0.squareRoot()) && number(two["acc"]?["n"]) == 2)
        #expect(configs[1]["missing"] as? [String] == ["a=2,seed=2"])
        #expect(c.err.contains("missing: 1 of 6 points have no result.json: a=2,seed=2"), "\(c.err)")

        // The CSV: one row per configuration and quantity.
        let csv = try String(contentsOf: dir.appendingPathComponent("summary.csv"), encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(csv[0] == ["configuration", "a", "quantity", "n", "mean", "sd", "min", "max"])
        let row = try #require(csv.first { $0.count == 8 && $0[0] == "a=2" && $0[2] == "acc" })
        #expect(row[3] == "2" && Double(row[4]) == 2 && abs(Double(row[5])! - 2.0.squareRoot()) < 1e-12 && row[6] == "1" && row[7] == "3")

        // The stdout table: n below the number of seeds is shown as such.
        #expect(c.out.contains("a=2") && c.out.contains("2 of 3") && c.out.contains("0.7 ± 0.2"), "\(c.out)")

        // One band plot per series: a band and a mean line per configuration.
        let svg = try String(contentsOf: dir.appendingPathComponent("plots/train.loss.svg"), encoding: .utf8)
        #expect(svg.components(separatedBy: "<polygon").count - 1 == 2)
        #expect(svg.contains("a=1 (n = 2–3)") && svg.contains("a=2 (n = 2)"))
    }

    @Test func bandIsMinMaxOrOneStandardDeviation() throws {
        let dir = try fabricate()
        let summaries = try SweepCollection(grid: SweepGrid(manifest: JSON.read(dir.appendingPathComponent("sweep.json")), file: "sweep.json"),
                                            directory: dir, console: CapturedConsole().console()).summaries
        // a=2's loss is 2 and 4 at every step: min–max band [2, 4], sd band 3 ± √2.
        func band(_ kind: BandKind) throws -> (lower: [Double], upper: [Double]) {
            let plot = try #require(BandPlots.plot(path: "train.loss", subcommand: "fake", summaries: summaries, band: kind))
            let bands = plot.layers.compactMap { layer -> ([Double], [Double])? in
                if case let .band(_, _, lower, upper, _) = layer { return (lower, upper) } else { return nil }
            }
            return try #require(bands.last)
        }
        #expect(try band(.minMax) == ([2, 2, 2], [4, 4, 4]))
        let sd = try band(.sd)
        #expect(sd.lower.allSatisfy { abs($0 - (3 - 2.0.squareRoot())) < 1e-12 } && sd.upper.allSatisfy { abs($0 - (3 + 2.0.squareRoot())) < 1e-12 })
    }

    @Test func stepArrayIsTheXAxisOfTheSeriesBesideIt() throws {
        let r = ResultLeaves(try JSON.parse(#"{"trace": {"step": [0, 10, 20], "loss": [3, 2, 1], "short": [1, 2]}, "other": [5, 6, 7]}"#))
        let s = ConfigurationSummary(configuration: "all", flags: [], points: [SweepPoint(seed: 0, values: [])],
                                     found: [SweepPoint(seed: 0, values: [])], results: [r])
        #expect(s.series.first { $0.path == "trace.loss" }?.x == [0, 10, 20])
        #expect(s.series.first { $0.path == "trace.short" }?.x == nil, "a different length is not on that axis")
        #expect(s.series.first { $0.path == "other" }?.x == nil)
        #expect(s.scalars.map(\.path) == ["trace.loss[-1]", "trace.short[-1]", "other[-1]"], "the step axis is not a quantity")
    }

    @Test(arguments: [
        ([], "collect needs the sweep's folder"),
        (["/nonexistent-sweep"], "is not a sweep's folder: it has no sweep.json"),
        (["a", "b"], "unexpected argument 'b'"),
        (["a", "--band", "wide"], "--band must be one of min-max, sd, got 'wide'"),
        (["a", "--keys", "x,,y"], "--keys expects comma-separated words"),
        (["a", "--nope"], "unknown flag --nope"),
        (["a", "--", "x"], "collect takes no flags after --"),
    ])
    func badCommandLinesExitTwo(_ args: [String], _ message: String) {
        let (status, c) = collect(args)
        #expect(status == 2 && c.err.split(separator: "\n").first?.contains(message) == true, "\(args): \(c.err)")
    }

    @Test func noResultsAtAllIsAFailure() throws {
        let dir = try fabricate()
        for name in ["a=1,seed=0", "a=1,seed=1", "a=1,seed=2", "a=2,seed=0", "a=2,seed=1"] {
            try FileManager.default.removeItem(at: dir.appendingPathComponent(name).appendingPathComponent("result.json"))
        }
        let (status, c) = collect([dir.path])
        #expect(status == 1 && c.err.contains("no point of the sweep"))
    }

    @Test func jsonReaderReadsWhatTheWriterWrites() throws {
        let value = JSON.object([("b", .numbers([0.1, 1e-300, -2.5e17])), ("a", .string("q\"\\\n\u{1}é😀")), ("c", .array([.null, .bool(true), .int(-7)])),
                                 ("d", .object([]))])
        let text = try value.render()
        #expect(try JSON.parse(text).render() == text)
        #expect(try JSON.parse(#"{"x": "\ud83d\ude00"}"#)["x"]?.stringValue == "😀")
        #expect { try JSON.parse("{\"a\": [1, 2,]}") } throws: { "\($0)".contains("line 1, column 13") }
        #expect { try JSON.parse("{\"a\": 1} x") } throws: { "\($0)".contains("unexpected text after") }
        #expect { try JSON.parse("[1e999]") } throws: { "\($0)".contains("out of range") }
    }
}
