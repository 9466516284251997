import Foundation
import Testing
import Tape
@testable import Demos

/// Collects what a run prints, in-process.
final class CapturedConsole: @unchecked Sendable {
    private let lock = NSLock()
    private var outText = "", errText = ""
    private func locked<T>(_ body: () -> T) -> T { lock.lock(); defer { lock.unlock() }; return body() }
    var out: String { locked { outText } }
    var err: String { locked { errText } }
    func console(terminal: Bool = false) -> Console {
        Console(say: { s in self.locked { self.outText += s + "\n" } },
                error: { s in self.locked { self.errText += s + "\n" } }, errorIsTerminal: terminal)
    }
}

func freshFolder() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("demos-support-\(UUID().uuidString)") }

@Suite("Demo support: command line")
struct CommandLineTests {
    func run(_ args: [String]) -> (Int32, CapturedConsole) {
        let c = CapturedConsole()
        return (DemoCLI.run(args, console: c.console()), c)
    }

    @Test func overviewAndHelp() {
        let (none, c0) = run([])
        #expect(none == 2 && c0.err.contains("subcommands:") && c0.err.contains("spectral-filter") && c0.out.isEmpty)
        let (help, c1) = run(["--help"])
        #expect(help == 0 && c1.out.contains("short-horizon") && c1.err.isEmpty)
        let (unknown, c2) = run(["no-such-demo"])
        #expect(unknown == 2 && c2.err.contains("unknown subcommand 'no-such-demo'") && c2.err.contains("subcommands:"))
        let (sub, c3) = run(["spectral-filter", "--help"])
        #expect(sub == 0)
        for flag in ["--terms", "--seed", "--out", "--quick", "--progress"] { #expect(c3.out.contains(flag), "usage lacks \(flag)") }
    }

    /// Every kind of flag mistake: status 2, the message naming the flag, then the usage; nothing written.
    @Test(arguments: [
        (["--nonsense"], "unknown flag --nonsense"),
        (["--terms", "abc"], "--terms expects an integer, got 'abc'"),
        (["--terms", "10.5"], "--terms expects an integer, got '10.5'"),
        (["--terms", "0"], "--terms must be in 1…100000, got 0"),
        (["--step", "2"], "--step must be in"),
        (["--step", "nan"], "--step expects a number, got 'nan'"),
        (["--step"], "--step needs a value"),
        (["--seed", "-1"], "--seed expects a non-negative integer"),
        (["--quick=yes"], "--quick takes no value"),
        (["stray"], "unexpected argument 'stray'"),
    ])
    func badFlagsExitTwoWithMessageAndUsage(_ extra: [String], _ message: String) {
        let out = freshFolder()
        let (status, c) = run(["spectral-filter", "--quick"] + extra + ["--out", out.path])
        #expect(status == 2)
        #expect(c.err.contains(message), "stderr: \(c.err)")
        #expect(c.err.contains("usage: Demos spectral-filter"))
        #expect(!FileManager.default.fileExists(atPath: out.path), "a refused run left \(out.path) behind")
    }

    @Test func malformedMethodSpecIsAUsageError() {
        let (status, c) = run(["anti-distillation", "--methods", "neumann:abc", "--out", freshFolder().path])
        #expect(status == 2 && c.err.contains("--methods expects an integer, got 'abc'"), "stderr: \(c.err)")
    }

    @Test func outFolderThatCannotBeWrittenIsAUsageError() throws {
        let file = freshFolder()
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let (s1, c1) = run(["spectral-filter", "--quick", "--out", file.path])
        #expect(s1 == 2 && c1.err.contains("exists and is not a folder"))
        let (s2, c2) = run(["spectral-filter", "--quick", "--out", file.appendingPathComponent("sub").path])
        #expect(s2 == 2 && c2.err.contains("cannot be created") && c2.err.contains("Not a directory"), "stderr: \(c2.err)")
        let (s3, c3) = run(["spectral-filter", "--quick", "--out", "/proc/demos-cannot-write-here"])
        #expect(s3 == 2 && c3.err.contains("cannot be created"))
    }

    @Test func argumentForms() throws {
        let flags: [Flag] = [.option("k", "K"), .option("x", "x"), .option("model", "m")]
        let a = try Arguments(["--k=1,2,30", "--x", "-0.5", "--model", "mlp", "--quick"], flags: flags)
        #expect(try a.ints("k", default: [], in: 1...100) == [1, 2, 30])
        #expect(try a.double("x", default: 0, in: -1...1) == -0.5)
        #expect(try a.choice("model", default: "fourier", from: ["fourier", "mlp"]) == "mlp")
        #expect(a.has("quick") && !a.has("progress"))
        #expect(try a.int("missing", default: 7, in: 0...10) == 7)
        #expect(throws: UsageError.self) { try Arguments(["--model", "cnn"], flags: flags).choice("model", default: "fourier", from: ["fourier", "mlp"]) }
        #expect(throws: UsageError.self) { try Arguments(["--k", "1,,2"], flags: flags).ints("k", default: [], in: 1...100) }
    }
}

@Suite("Demo support: output files")
struct OutputTests {
    @Test func jsonHasSortedKeysExactNumbersAndNoSilentNaN() throws {
        let json: JSON = .object([("zeta", .numbers([0.1, 3, -0.0, 1e-5, 2.5e20, -7])), ("alpha", .object([("b", .null), ("a", .bool(true))])),
                                  ("name", .string("a \"quoted\"\nline")), ("n", .int(-4)), ("empty", .array([]))])
        let expected = """
        {
          "alpha": {
            "a": true,
            "b": null
          },
          "empty": [],
          "n": -4,
          "name": "a \\"quoted\\"\\nline",
          "zeta": [0.1, 3, 0, 1e-05, 2.5e+20, -7]
        }

        """
        #expect(try json.render() == expected)
        // Shortest round-trip form: every Double parses back to itself.
        var g = SeededGenerator(seed: 3)
        let xs = (0..<200).map { _ in g.nextNormal() * pow(10, Double(g.nextInt(below: 40) - 20)) }
        let text = try JSON.numbers(xs).render()
        // (Parsed with Double(String): Linux Foundation's JSONSerialization can be an ulp off, a correct parser is not.)
        let back = text.trimmingCharacters(in: CharacterSet(charactersIn: "[]\n")).components(separatedBy: ", ").map { Double($0) }
        #expect(back == xs.map(Optional.some))
        do { _ = try JSON.object([("runs", .array([.object([("loss", .number(.nan))])]))]).render(); Issue.record("NaN was written") } catch {
            #expect("\(error)".contains("$.runs[0].loss"))
        }
        #expect(throws: DemoError.self) { try JSON.object([("a", .int(1)), ("a", .int(2))]).render() }
        #expect(throws: DemoError.self) { try JSON.number(.infinity).render() }
    }

    @Test func csvText() throws {
        #expect(try csv(header: ["step", "loss, train"], rows: [[0, 0.5], [1, .nan], [2, 1e-7]])
                == "step,\"loss, train\"\n0,0.5\n1,\n2,1e-07\n")
        #expect(throws: DemoError.self) { try csv(header: ["a", "b"], rows: [[1]]) }
    }

    @Test func stagedFilesAppearOnlyOnCommitAndDiscardLeavesNothing() throws {
        let path = freshFolder()
        let dir = try OutputDirectory(path: path.path, staged: true)
        try dir.write("one", to: "a.txt")
        try dir.writeColumns("s.csv", [("x", [1, 2, 3]), ("y", [4, 5])])
        #expect(try FileManager.default.contentsOfDirectory(atPath: path.path).isEmpty)
        try dir.commit()
        #expect(try String(contentsOf: path.appendingPathComponent("a.txt"), encoding: .utf8) == "one")
        #expect(try String(contentsOf: path.appendingPathComponent("s.csv"), encoding: .utf8) == "x,y\n1,4\n2,5\n3,\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: path.path).sorted() == ["a.txt", "s.csv"], "temporary files left")
        try? FileManager.default.removeItem(at: path)

        let other = freshFolder().appendingPathComponent("nested")
        let d2 = try OutputDirectory(path: other.path, staged: true)
        try d2.write("never", to: "result.json")
        d2.discard()
        #expect(!FileManager.default.fileExists(atPath: other.path))
        #expect(throws: DemoError.self) { try d2.write("x", to: "../escape.txt") }
    }

    /// A run refused on its flags leaves no folder; a run that fails after staging some files (here: JSON with
    /// a NaN) is discarded by `DemoCLI` and leaves none of them.
    @Test func failedRunLeavesNoPartialOutput() {
        let out = freshFolder()
        let c = CapturedConsole()
        let status = DemoCLI.run(["spectral-filter", "--quick", "--min-eigenvalue", "1e-300", "--out", out.path], console: c.console())
        // 1e-300 is outside the flag's range: refused before anything runs.
        #expect(status == 2 && !FileManager.default.fileExists(atPath: out.path))
        let dir = try? OutputDirectory(path: out.path, staged: true)
        _ = try? dir?.write("partial", to: "filters.svg")
        #expect((try? dir?.writeJSON(.object([("x", .number(.nan))]))) == nil)
        dir?.discard()
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}

@Suite("Demo support: progress and checkpoints")
struct ProgressAndCheckpointTests {
    @Test func progressLineAndQuietness() {
        #expect(ProgressReporter.line(label: "rings warm", done: 25, total: 100, detail: "loss 0.5", elapsed: 10)
                == "rings warm: step 25/100  loss 0.5  elapsed 10.0s  remaining ~30.0s")
        #expect(ProgressReporter.line(label: "x", done: 0, total: 10, detail: "", elapsed: 0) == "x: step 0/10  elapsed 0.0s  remaining ~?")
        // Resumed at step 9000 of 10000, 100 steps in 10 s since: 900 steps left at 0.1 s each (not 10 s × 900/9100).
        #expect(ProgressReporter.line(label: "x", done: 9100, total: 10000, detail: "", elapsed: 10, since: 9000)
                == "x: step 9100/10000  elapsed 10.0s  remaining ~90.0s")
        let quiet = CapturedConsole()
        ProgressReporter(label: "q", forced: false, console: quiet.console(terminal: false)).report(step: 3, of: 3, loss: 1)
        #expect(quiet.err.isEmpty)
        let forced = CapturedConsole()
        ProgressReporter(label: "f", forced: true, console: forced.console(terminal: false)).report(step: 3, of: 3, loss: 0.25)
        #expect(forced.err.hasPrefix("f: step 3/3  loss 0.25  elapsed "))
        let tty = CapturedConsole()
        let p = ProgressReporter(label: "t", forced: false, console: tty.console(terminal: true))
        for k in 1...1000 { p.report(k, of: 1000) }
        // Throttled: the first report, then at most twice a second, and always the last step.
        #expect(tty.err.split(separator: "\n").count <= 4 && tty.err.contains("step 1000/1000"))
    }

    @Test func demoReportsProgressOnlyWhenAskedOrOnATerminal() {
        let args = ["short-horizon", "--quick", "--horizons", "1,10", "--offline-horizons", "10", "--constant-horizons", "10", "--iterations", "20", "--offline-iterations", "5"]
        let quiet = CapturedConsole(), loud = CapturedConsole()
        #expect(DemoCLI.run(args + ["--out", freshFolder().path], console: quiet.console(terminal: false)) == 0)
        #expect(DemoCLI.run(args + ["--progress", "--out", freshFolder().path], console: loud.console(terminal: false)) == 0)
        #expect(quiet.err.isEmpty && quiet.out.contains("greedy loss"))
        #expect(loud.err.contains("short-horizon schedules: step 12/12") && loud.err.contains("remaining ~"), "stderr: \(loud.err)")
    }

    @Test func checkpointRoundTripIsExact() throws {
        let path = freshFolder().appendingPathComponent("sub/state.ckpt").path
        let arrays: [String: [Double]] = ["lambda": [0.1, -0.0, .leastNonzeroMagnitude, 1e308, .nan, -.infinity], "count": [42], "empty": []]
        try CheckpointFile(step: 17, arrays: arrays).save(to: path)
        let back = try #require(try CheckpointFile.load(from: path))
        #expect(back.step == 17)
        #expect(try back.integer("count") == 42)
        #expect(try back.array("empty").isEmpty)
        let lambda = try back.array("lambda")
        #expect(lambda.map(\.bitPattern) == arrays["lambda"]!.map(\.bitPattern))
        #expect(try CheckpointFile.load(from: path + ".missing") == nil)
        #expect(throws: DemoError.self) { try back.array("nope") }
        #expect(throws: DemoError.self) { try back.integer("lambda") }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["state.ckpt"])
        // Truncated, foreign and malformed files are refused with a message, never a crash.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for bad in [String(text.prefix(text.count / 2)), "{\"format\": \"other\", \"step\": 1, \"arrays\": {}}",
                    "{\"format\": \"bilevelkit-checkpoint-1\", \"step\": 1, \"arrays\": {\"a\": [\"zz\"]}}", ""] {
            #expect(throws: DemoError.self) { try CheckpointFile.parse(Data(bad.utf8), source: "test") }
        }
    }
}
