import Foundation

/// A demo subcommand.
protocol Subcommand: Sendable {
    /// The subcommand's name on the command line.
    static var name: String { get }
    /// One line for the list of subcommands.
    static var summary: String { get }
    /// Its own flags (the common ones are added).
    static var flags: [Flag] { get }
    /// Runs it; usage mistakes throw `UsageError` (exit 2), failures `DemoError` (exit 1).
    static func run(_ args: Arguments, _ context: DemoContext) throws
}

/// The `Demos` command line: `Demos <subcommand> [flags]`.
enum DemoCLI {
    static var subcommands: [any Subcommand.Type] {
        [
            AntiDistillation.self, TwoPoints.self, RingsDemo.self, KaczmarzDemo.self, DigitsDemo.self, SpectralFilterDemo.self, ShortHorizon.self, SolutionConcepts.self,
            StronglyConvex.self, Sweep.self, Collect.self,
        ]
    }

    /// Runs the command line (without the program name); returns the exit status: 0 done (or `--help`),
    /// 1 the computation failed, 2 a usage mistake (message and usage on stderr). Never calls `exit`, so
    /// tests run it in-process; `console` receives stdout and stderr text (tests capture it).
    static func run(_ argv: [String], console: Console = .standard) -> Int32 {
        guard let first = argv.first, !first.hasPrefix("-") || first == "--help" || first == "-h" else {
            console.error(overview())
            return 2
        }
        if first == "--help" || first == "-h" || first == "help" { console.say(overview()); return 0 }
        guard let command = subcommands.first(where: { $0.name == first }) else {
            console.error("error: unknown subcommand '\(first)'\n\n" + overview())
            return 2
        }
        if let tool = command as? any CommandLineTool.Type { return tool.run(argv: Array(argv.dropFirst()), console: console) }
        let rest = Array(argv.dropFirst())
        if rest.contains("--help") || rest.contains("-h") { console.say(usage(command)); return 0 }
        var out: OutputDirectory?
        do {
            let args = try Arguments(rest, flags: command.flags)
            let seed = try args.seed()
            let outPath = args.string("out") ?? "out/\(command.name)"
            guard !outPath.trimmingCharacters(in: .whitespaces).isEmpty else { throw UsageError("--out needs a folder name, got ''") }
            out = try OutputDirectory(path: outPath, staged: true)
            let context = DemoContext(name: command.name, seed: seed, quick: args.has("quick"), out: out!,
                                      forceProgress: args.has("progress"), console: console)
            try command.run(args, context)
            // Only a run that finished writes its files: a failure above leaves nothing partial behind.
            try out!.commit()
            return 0
        } catch let e as UsageError {
            out?.discard()
            console.error("error: \(shortened(e.description))\n\n" + usage(command))
            return 2
        } catch {
            out?.discard()
            console.error("error: \(error)")
            return 1
        }
    }

    /// The message on one line, with every word longer than 120 characters (a pasted value, a path) cut to its
    /// first 60 ('9999…(10240 characters)'), so a mistyped value cannot flood the terminal.
    static func shortened(_ message: String) -> String {
        message.replacingOccurrences(of: "\n", with: " ").split(separator: " ", omittingEmptySubsequences: false).map { word in
            word.count > 120 ? "\(word.prefix(60))…(\(word.count) characters)" : String(word)
        }.joined(separator: " ")
    }

    static func overview() -> String {
        var s = "usage: Demos <subcommand> [flags]   (Demos <subcommand> --help for its flags)\n\nsubcommands:\n"
        let w = subcommands.map { $0.name.count }.max() ?? 0
        for c in subcommands { s += "  " + c.name.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + c.summary + "\n" }
        return s
    }

    static func usage(_ c: any Subcommand.Type) -> String {
        var s = "usage: Demos \(c.name) [flags]\n\n\(c.summary)\n\nflags:\n"
        let all = c.flags + commonFlags
        let w = all.map { $0.name.count + ($0.isSwitch ? 0 : 6) }.max() ?? 0
        for f in all {
            let left = "--" + f.name + (f.isSwitch ? "" : " VALUE")
            s += "  " + left.padding(toLength: w + 2, withPad: " ", startingAt: 0) + "  " + f.help
            if let d = f.defaultValue { s += " (default: \(d))" }
            s += "\n"
        }
        return s
    }
}

func eprint(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// Where a run's text goes: stdout for tables and `--help`, stderr for errors and progress.
/// Tests pass closures that collect the text.
struct Console: Sendable {
    var say: @Sendable (String) -> Void
    var error: @Sendable (String) -> Void
    /// Whether stderr is a terminal (progress is shown there only then, unless `--progress`).
    var errorIsTerminal: Bool

    static let standard = Console(say: { print($0) }, error: { eprint($0) }, errorIsTerminal: isatty(STDERR_FILENO) != 0)
}
