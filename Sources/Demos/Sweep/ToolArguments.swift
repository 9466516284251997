import Foundation

/// A subcommand that reads its own command line (positional arguments, repeated flags, `--` passthrough) instead
/// of the shared `Arguments`, and manages its own output: `sweep` and `collect`. `DemoCLI.run` hands it the
/// arguments after its name. Its `flags` are declared as for any subcommand (usage, fuzz tests).
protocol CommandLineTool: Subcommand {
    /// Runs with the arguments after the subcommand's name; returns the exit status (0 done, 1 failed, 2 usage).
    static func run(argv: [String], console: Console) -> Int32
}

extension CommandLineTool {
    /// Never called: `DemoCLI.run` dispatches a `CommandLineTool` to `run(argv:console:)` before parsing flags.
    static func run(_ args: Arguments, _ context: DemoContext) throws {
        throw DemoError("\(name) reads its own command line: run it through DemoCLI.run")
    }

    /// `--help` text: the synopsis, the summary, the flags and notes.
    static func usage(synopsis: String, notes: String) -> String {
        let w = flags.map { $0.name.count + ($0.isSwitch ? 0 : 6) }.max() ?? 0
        var s = "usage: \(synopsis)\n\n\(summary)\n\nflags:\n"
        for f in flags {
            let left = "--" + f.name + (f.isSwitch ? "" : " VALUE")
            s += "  " + left.padding(toLength: w + 2, withPad: " ", startingAt: 0) + "  " + f.help
            if let d = f.defaultValue { s += " (default: \(d))" }
            s += "\n"
        }
        return s + "\n" + notes
    }

    /// Runs `body`, mapping a `UsageError` to its message and the usage (exit 2) and any other error to its
    /// message (exit 1), as `DemoCLI.run` does for the demos.
    static func guarded(_ console: Console, usage: String, _ body: () throws -> Int32) -> Int32 {
        do {
            return try body()
        } catch let e as UsageError {
            console.error("error: \(e.description)\n\n" + usage)
            return 2
        } catch {
            console.error("error: \(error)")
            return 1
        }
    }
}

/// The command line of a `CommandLineTool`: positional words, `--name value` / `--name=value` options (some of
/// them repeatable), switches, and everything after a bare `--` kept verbatim. Every mistake is a `UsageError`
/// naming the flag.
struct ToolArguments {
    private(set) var positional: [String] = []
    private(set) var values: [String: [String]] = [:]
    private(set) var switches: Set<String> = []
    /// The words after `--`.
    private(set) var passthrough: [String] = []

    /// `repeatable` flags may be given more than once; `dashedValues` flags take a next word that starts with `--`
    /// when it holds a `=` (`--slurm-option --time=1:00:00`).
    init(_ argv: [String], flags: [Flag], repeatable: Set<String> = [], dashedValues: Set<String> = []) throws {
        let known = Dictionary(flags.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var i = 0
        while i < argv.count {
            let a = argv[i]
            i += 1
            if a == "--" { passthrough = Array(argv[i...]); break }
            guard a.hasPrefix("--") else {
                guard !a.hasPrefix("-") || a == "-" else { throw UsageError("unknown flag \(a)") }
                positional.append(a)
                continue
            }
            var name = String(a.dropFirst(2)), inline: String?
            if let eq = name.firstIndex(of: "=") { inline = String(name[name.index(after: eq)...]); name = String(name[..<eq]) }
            guard let flag = known[name] else { throw UsageError("unknown flag --\(name)") }
            if flag.isSwitch {
                guard inline == nil else { throw UsageError("--\(name) takes no value") }
                guard !switches.contains(name) else { throw UsageError("--\(name) is given twice") }
                switches.insert(name)
                continue
            }
            let value: String
            if let inline { value = inline } else {
                guard i < argv.count, !argv[i].hasPrefix("--") || (dashedValues.contains(name) && argv[i].contains("=")) else {
                    throw UsageError("--\(name) needs a value")
                }
                value = argv[i]
                i += 1
            }
            guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 }) else { throw UsageError("--\(name) holds a control character") }
            guard repeatable.contains(name) || values[name] == nil else { throw UsageError("--\(name) is given twice") }
            values[name, default: []].append(value)
        }
    }

    func has(_ name: String) -> Bool { switches.contains(name) || values[name] != nil }
    func string(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }

    func int(_ name: String, default d: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let s = string(name) else { return d }
        return try Arguments.parseInt(s, flag: name, in: range)
    }
}
