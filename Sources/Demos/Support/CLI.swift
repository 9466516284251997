import Foundation

/// A demo subcommand.
protocol Subcommand {
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
        ]
    }

    /// Runs the command line (without the program name); returns the exit status.
    static func run(_ argv: [String]) -> Int32 {
        guard let first = argv.first, !first.hasPrefix("-") || first == "--help" || first == "-h" else {
            eprint(overview())
            return 2
        }
        if first == "--help" || first == "-h" || first == "help" { print(overview()); return 0 }
        guard let command = subcommands.first(where: { $0.name == first }) else {
            eprint("error: unknown subcommand '\(first)'\n\n" + overview())
            return 2
        }
        let rest = Array(argv.dropFirst())
        if rest.contains("--help") || rest.contains("-h") { print(usage(command)); return 0 }
        do {
            let args = try Arguments(rest, flags: command.flags)
            let out = try OutputDirectory(path: args.string("out") ?? "out/\(command.name)")
            let context = DemoContext(name: command.name, seed: try args.seed(), quick: args.has("quick"), out: out,
                                      forceProgress: args.has("progress"))
            try command.run(args, context)
            return 0
        } catch let e as UsageError {
            eprint("error: \(e.description)\n\n" + usage(command))
            return 2
        } catch {
            eprint("error: \(error)")
            return 1
        }
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
