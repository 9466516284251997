import Foundation
import Testing
import Tape
@testable import Demos

/// The built `Demos` executable run as a child process with a time bound: a hang is killed, a trap is seen as
/// a signal, and the test process survives both.
enum DemoProcess {
    struct Outcome {
        var status: Int32
        /// Killed by a signal (a trap) rather than exiting.
        var signalled: Bool
        var timedOut: Bool
        var stdout: String
        var stderr: String
        var seconds: Double
    }

    /// `Demos` next to the test bundle (`swift test` builds every product into the same folder), else
    /// `.build/release/Demos` under the working directory.
    static let executable: URL? = {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent().appendingPathComponent("Demos")) }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("Demos"))
        for b in Bundle.allBundles { candidates.append(b.bundleURL.deletingLastPathComponent().appendingPathComponent("Demos")) }
        candidates.append(URL(fileURLWithPath: ".build/release/Demos"))
        return candidates.first { fm.isExecutableFile(atPath: $0.path) }
    }()

    /// Runs `Demos args` in `folder` (its working directory); kills it after `timeout` seconds.
    static func run(_ args: [String], in folder: URL, timeout: Double) throws -> Outcome {
        let exe = try #require(executable, "the Demos executable was not found next to the test bundle; build it with swift build -c release")
        let out = folder.appendingPathComponent(".stdout"), err = folder.appendingPathComponent(".stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let p = Process()
        p.executableURL = exe
        p.arguments = args
        p.currentDirectoryURL = folder
        // Closed after the run: a thousand runs must not leak two descriptors each (Foundation's Process.run
        // crashes once a process holds more than about a thousand).
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        defer { try? outHandle.close(); try? errHandle.close() }
        p.standardOutput = outHandle
        p.standardError = errHandle
        p.standardInput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        let start = Date()
        try p.run()
        var timedOut = false
        if done.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(p.processIdentifier, SIGKILL)
            done.wait()
        }
        let text = { (u: URL) in (try? String(contentsOf: u, encoding: .utf8)) ?? "" }
        let o = Outcome(status: p.terminationStatus, signalled: p.terminationReason == .uncaughtSignal, timedOut: timedOut,
                        stdout: text(out), stderr: text(err), seconds: Date().timeIntervalSince(start))
        try? FileManager.default.removeItem(at: out)
        try? FileManager.default.removeItem(at: err)
        return o
    }
}

@Suite("Demos command-line fuzz: every subcommand, every flag, edge values")
struct CLIFuzzTests {
    /// Flags that make a run cheap (a few steps, tiny sets); a subcommand without an entry runs with --quick
    /// alone. Only the flags a subcommand declares are used, and never the flag under test.
    static let cheap: [String: [(String, String?)]] = [
        "anti-distillation": [("outer-steps", "20"), ("k-grid", "1"), ("cg-grid", "1"), ("eta-grid", "0.1"), ("methods", "exact,neumann:1")],
        "two-points": [("outer-steps", "20"), ("neumann", "1")],
        "rings": [("outer-steps", "4"), ("cold-outer-steps", "2"), ("cold-inner-steps", "3"), ("points-per-class", "10"),
                  ("width", "8"), ("unroll", "2")],
        "kaczmarz": [("cycles", "2")],
        "digits": [("outer-steps", "3"), ("cold-outer-steps", "2"), ("cold-inner-steps", "3"), ("unroll", "2"), ("skip-augmentation", nil)],
        "spectral-filter": [("terms", "2"), ("eigenvalues", "10")],
        "short-horizon": [("horizons", "1,3"), ("offline-horizons", "10"), ("constant-horizons", "10"), ("iterations", "5"), ("offline-iterations", "5")],
        "solution-concepts": [("points", "20"), ("outer-steps", "3")],
        "strongly-convex": [("outer-steps", "5"), ("original", "10")],
    ]

    /// How a `CommandLineTool` (its own command line, no common flags) is invoked around the fuzzed flags: its
    /// positional words first, its required flags as budget, and what follows `--`. `COLLECT_DIR` stands for a
    /// copy of a finished sweep made for the case. A tool without an entry is reported, so a new one gets one.
    static let tools: [String: (positional: [String], required: [(String, String?)], passthrough: [String])] = [
        "sweep": (["kaczmarz"], [("seeds", "0"), ("jobs", "1")], ["--", "--quick", "--cycles", "2"]),
        "collect": (["COLLECT_DIR"], [], []),
    ]

    /// The edge set of the issue: 0, −1, 1e308, NaN, ±inf, empty, non-numeric, a 10 kB string, a list of one
    /// element and one with a duplicate.
    static let edgeValues = ["0", "-1", "1e308", "nan", "inf", "-inf", "", "abc", String(repeating: "9", count: 10_240), "1", "1,1"]

    /// One run to make: its arguments after the subcommand, and the flags under test (a usage error must name one).
    struct Case: CustomStringConvertible {
        var command: any Subcommand.Type
        var args: [String]
        var tested: [String]
        var description: String {
            let shown = args.map { $0.count > 40 ? String($0.prefix(12)) + "…(\($0.count) chars)" : $0 }
            return ([command.name] + shown).joined(separator: " ")
        }
    }

    static func isTool(_ c: any Subcommand.Type) -> Bool { c is any CommandLineTool.Type }
    static func allFlags(_ c: any Subcommand.Type) -> [Flag] { isTool(c) ? c.flags : c.flags + commonFlags }

    /// The arguments that set `flag` to `value` (a switch gets `--name=value`, which it must refuse, or is bare).
    static func setting(_ flag: Flag, _ value: String?) -> [String] {
        guard let value else { return ["--" + flag.name] }
        return flag.isSwitch ? ["--\(flag.name)=\(value)"] : ["--" + flag.name, value]
    }

    static func budget(_ c: any Subcommand.Type, except tested: [String]) -> [String] {
        let declared = Set(allFlags(c).map(\.name))
        return ((isTool(c) ? tools[c.name]?.required : cheap[c.name]) ?? []).filter { declared.contains($0.0) && !tested.contains($0.0) }.flatMap { name, value in
            ["--" + name] + (value.map { [$0] } ?? [])
        }
    }

    /// The whole command line of a case: a demo gets --quick and the cheap budget, a tool its positional words,
    /// required flags and passthrough around the fuzzed settings.
    static func make(_ c: any Subcommand.Type, _ settings: [String], tested: [String]) -> Case {
        guard isTool(c) else { return Case(command: c, args: ["--quick"] + budget(c, except: tested) + settings, tested: tested) }
        let t = tools[c.name] ?? ([], [], [])
        return Case(command: c, args: t.positional + budget(c, except: tested) + settings + t.passthrough, tested: tested)
    }

    /// Every flag with every edge value, the flag given twice, a switch bare, and seeded random combinations.
    static func cases() -> [Case] {
        var out: [Case] = []
        var g = SeededGenerator(seed: 2026)
        for c in DemoCLI.subcommands {
            let flags = allFlags(c)
            for flag in flags {
                var settings: [[String]] = flag.isSwitch ? [setting(flag, nil), setting(flag, nil) + setting(flag, nil)] : []
                settings += edgeValues.map { setting(flag, $0) }
                if !flag.isSwitch { settings.append(setting(flag, "1") + setting(flag, "2")); settings.append(["--" + flag.name]) }
                for s in settings { out.append(make(c, s, tested: [flag.name])) }
            }
            for _ in 0..<4 {
                let chosen = Array(flags.shuffled(using: &g).prefix(Int.random(in: 2...4, using: &g)))
                let args = chosen.flatMap { f in setting(f, f.isSwitch && Bool.random(using: &g) ? nil : edgeValues.randomElement(using: &g)!) }
                out.append(make(c, args, tested: chosen.map(\.name)))
            }
        }
        return out
    }

    /// What a finished run must have left: result.json that parses, well-formed pictures with finite
    /// coordinates, non-empty CSVs, no temporary files. (`--stop-after` stops early on purpose: no result.)
    static func checkOutputs(_ folder: URL, _ o: DemoProcess.Outcome, _ what: String, tool: Bool) {
        let fm = FileManager.default
        let files = (try? fm.contentsOfDirectory(atPath: folder.path)) ?? []
        #expect(!files.contains { $0.contains(".tmp-") || $0.contains(".write-probe") }, "\(what): temporary files left: \(files)")
        if o.stdout.contains("rerun with --resume") { return }
        if tool {
            // A tool writes its own files (sweep.json, summary.json, …): whatever JSON it wrote must parse.
            for f in files where f.hasSuffix(".json") {
                #expect((try? JSONSerialization.jsonObject(with: fm.contents(atPath: folder.appendingPathComponent(f).path) ?? Data())) != nil,
                        "\(what): \(f) does not parse")
            }
            return
        }
        guard let data = fm.contents(atPath: folder.appendingPathComponent("result.json").path) else {
            Issue.record("\(what): exit 0 without result.json (files: \(files))"); return
        }
        #expect((try? JSONSerialization.jsonObject(with: data)) != nil, "\(what): result.json does not parse")
        for f in files where f.hasSuffix(".svg") {
            let svg = (try? String(contentsOf: folder.appendingPathComponent(f), encoding: .utf8)) ?? ""
            #expect(SVGDocument.parse(svg) != nil, "\(what): \(f) is not well-formed")
            #expect(svgNumbers(svg).allSatisfy { $0.isFinite && abs($0) <= 100_000 }, "\(what): \(f) has a non-finite or far coordinate")
        }
        for f in files where f.hasSuffix(".csv") {
            #expect((fm.contents(atPath: folder.appendingPathComponent(f).path)?.count ?? 0) > 0, "\(what): \(f) is empty")
        }
    }

    /// Exit 0 with complete outputs, or exit 2 with a first line that names a flag under test and nothing
    /// written — never a hang, a trap, exit 1 or partial files.
    static func check(_ c: Case, _ o: DemoProcess.Outcome, folder: URL, out: URL) {
        let what = c.description
        guard !o.timedOut else { Issue.record("\(what): no exit within the time bound (\(Int(o.seconds)) s)"); return }
        guard !o.signalled else { Issue.record("\(what): killed by signal \(o.status) (a trap?)\n\(o.stderr.suffix(600))"); return }
        switch o.status {
        case 0:
            checkOutputs(out, o, what, tool: isTool(c.command))
        case 2:
            let first = o.stderr.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
            #expect(first.hasPrefix("error: ") && c.tested.contains { first.contains("--" + $0) },
                    "\(what): the message does not name \(c.tested.map { "--" + $0 }): \(first.prefix(300))")
            #expect(first.count <= 400, "\(what): a \(first.count)-character message line")
            #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("result.json").path), "\(what): a refused run wrote files")
        default:
            Issue.record("\(what): exit \(o.status)\n\(o.stderr.prefix(800))")
        }
    }

    @Test func everySubcommandAndFlagEndsWithCompleteOutputsOrAClearRefusal() throws {
        _ = try #require(DemoProcess.executable, "the Demos executable was not found next to the test bundle")
        let cases = Self.cases()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("demos-fuzz-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        final class Shared: @unchecked Sendable {
            let lock = NSLock()
            var next = 0
            var slowest: (Double, String) = (0, "")
            var accepted = 0
        }
        let shared = Shared()
        // A finished sweep for `collect` to read (copied per case, since collect writes into it).
        let sweepDir = root.appendingPathComponent("finished-sweep")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let made = try DemoProcess.run(["sweep", "kaczmarz", "--seeds", "0..1", "--jobs", "1", "--out", sweepDir.path, "--", "--quick", "--cycles", "2"],
                                       in: root, timeout: 120)
        #expect(made.status == 0, "the sweep for collect failed: \(made.stderr.prefix(500))")
        for c in DemoCLI.subcommands where Self.isTool(c) && Self.tools[c.name] == nil {
            Issue.record("\(c.name) is a CommandLineTool without an entry in CLIFuzzTests.tools: say how to invoke it")
        }
        // Two runs at a time (CI has two cores).
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            while true {
                shared.lock.lock(); let i = shared.next; shared.next += 1; shared.lock.unlock()
                guard i < cases.count else { return }
                let c = cases[i]
                let folder = root.appendingPathComponent("case\(i)")
                try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                // --out goes to a fresh folder unless it is the flag under test (then relative to the run's folder).
                let declaresOut = Self.allFlags(c.command).contains { $0.name == "out" }
                var out = folder.appendingPathComponent("out")
                let outArgs = c.tested.contains("out") || !declaresOut ? [] : ["--out", out.path]
                var args = c.args
                if let k = args.firstIndex(of: "COLLECT_DIR") {
                    try? FileManager.default.copyItem(at: sweepDir, to: out)
                    args[k] = out.path
                }
                if c.tested.contains("out"), let k = c.args.lastIndex(of: "--out"), k + 1 < c.args.count {
                    let v = c.args[k + 1]
                    out = v.hasPrefix("/") ? URL(fileURLWithPath: v) : folder.appendingPathComponent(v)
                }
                do {
                    // A tool's passthrough (after --) must stay last: --out goes before it.
                    let cut = args.firstIndex(of: "--") ?? args.count
                    let o = try DemoProcess.run([c.command.name] + Array(args[..<cut]) + outArgs + Array(args[cut...]), in: folder, timeout: 120)
                    Self.check(c, o, folder: folder, out: out)
                    shared.lock.lock()
                    if o.seconds > shared.slowest.0 { shared.slowest = (o.seconds, c.description) }
                    if o.status == 0 { shared.accepted += 1 }
                    shared.lock.unlock()
                } catch {
                    Issue.record("\(c): could not run: \(error)")
                }
                try? FileManager.default.removeItem(at: folder)
            }
        }
        print("CLI fuzz: \(cases.count) runs, \(shared.accepted) accepted; slowest \(String(format: "%.1f", shared.slowest.0)) s: \(shared.slowest.1)")
        // Every subcommand is covered, with every flag it declares.
        #expect(Set(cases.map { $0.command.name }) == Set(DemoCLI.subcommands.map { $0.name }))
    }
}
