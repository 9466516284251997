import Foundation

/// A command-line mistake: printed with the usage, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One flag a subcommand accepts: `--name VALUE` (or a bare switch when `isSwitch`).
struct Flag {
    var name: String
    var help: String
    /// The default shown in the usage (nil: none / switch off).
    var defaultValue: String?
    var isSwitch = false

    static func option(_ name: String, _ help: String, default value: String? = nil) -> Flag {
        Flag(name: name, help: help, defaultValue: value)
    }
    static func toggle(_ name: String, _ help: String) -> Flag { Flag(name: name, help: help, defaultValue: nil, isSwitch: true) }
}

/// Flags every subcommand takes.
let commonFlags: [Flag] = [
    .option("seed", "random seed (same flags and seed → same numbers)", default: "0"),
    .option("out", "output folder", default: "out/<subcommand>"),
    .toggle("quick", "a reduced setting that finishes in under 30 s and still shows the effect"),
    .toggle("progress", "report progress on stderr even when it is not a terminal"),
]

/// Parsed flags with typed, range-checked accessors; every mistake is a `UsageError`.
struct Arguments {
    private var values: [String: String] = [:]
    private var switches: Set<String> = []

    /// Parses `--name value` / `--name=value` / `--switch` against the declared flags.
    init(_ args: [String], flags: [Flag]) throws {
        let known = Dictionary((flags + commonFlags).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var i = 0
        while i < args.count {
            let a = args[i]
            guard a.hasPrefix("--") else { throw UsageError("unexpected argument '\(a)'") }
            var name = String(a.dropFirst(2)), inline: String?
            if let eq = name.firstIndex(of: "=") { inline = String(name[name.index(after: eq)...]); name = String(name[..<eq]) }
            guard let flag = known[name] else { throw UsageError("unknown flag --\(name)") }
            if flag.isSwitch {
                guard inline == nil else { throw UsageError("--\(name) takes no value") }
                switches.insert(name)
            } else if let inline {
                values[name] = inline
            } else {
                guard i + 1 < args.count, !args[i + 1].hasPrefix("--") || Double(args[i + 1]) != nil else {
                    throw UsageError("--\(name) needs a value")
                }
                values[name] = args[i + 1]
                i += 1
            }
            i += 1
        }
    }

    func has(_ name: String) -> Bool { switches.contains(name) || values[name] != nil }
    func string(_ name: String) -> String? { values[name] }

    func int(_ name: String, default d: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let s = values[name] else { return d }
        guard let v = Int(s) else { throw UsageError("--\(name) expects an integer, got '\(s)'") }
        guard range.contains(v) else { throw UsageError("--\(name) must be in \(range.lowerBound)…\(range.upperBound), got \(v)") }
        return v
    }

    func double(_ name: String, default d: Double, in range: ClosedRange<Double>) throws -> Double {
        guard let s = values[name] else { return d }
        return try Arguments.parseDouble(s, flag: name, in: range)
    }

    func seed() throws -> UInt64 {
        guard let s = values["seed"] else { return 0 }
        guard let v = UInt64(s) else { throw UsageError("--seed expects a non-negative integer, got '\(s)'") }
        return v
    }

    /// A comma-separated list of numbers, each in range.
    func doubles(_ name: String, default d: [Double]?, in range: ClosedRange<Double>) throws -> [Double]? {
        guard let s = values[name] else { return d }
        let parts = s.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty else { throw UsageError("--\(name) expects a comma-separated list of numbers") }
        return try parts.map { try Arguments.parseDouble($0, flag: name, in: range) }
    }

    /// A comma-separated list of integers, each in range (`--terms 10,100`; `10.5` is refused, not truncated).
    func ints(_ name: String, default d: [Int], in range: ClosedRange<Int>) throws -> [Int] {
        guard let s = values[name] else { return d }
        let parts = s.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return try parts.map { try Arguments.parseInt($0, flag: name, in: range) }
    }

    /// One of a fixed set of words (`--model fourier|mlp`).
    func choice(_ name: String, default d: String, from options: [String]) throws -> String {
        guard let s = values[name] else { return d }
        guard options.contains(s) else { throw UsageError("--\(name) must be one of \(options.joined(separator: ", ")), got '\(s)'") }
        return s
    }

    static func parseDouble(_ s: String, flag: String, in range: ClosedRange<Double>) throws -> Double {
        guard let v = Double(s.trimmingCharacters(in: .whitespaces)), v.isFinite else {
            throw UsageError("--\(flag) expects a number, got '\(s)'")
        }
        guard range.contains(v) else { throw UsageError("--\(flag) must be in [\(range.lowerBound), \(range.upperBound)], got \(v)") }
        return v
    }

    /// A non-empty comma-separated list of x:y pairs (`--points -1:-0.5,2:4`), x and y each in range (an empty
    /// item, as in '' or '1:2,', is refused).
    static func parsePairs(_ s: String, flag: String, x: ClosedRange<Double>, y: ClosedRange<Double>) throws -> [(Double, Double)] {
        let items = s.split(separator: ",", omittingEmptySubsequences: false)
        return try items.map { item in
            let p = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard p.count == 2 else { throw UsageError("--\(flag) expects x:y pairs, got '\(item)'") }
            return (try parseDouble(p[0], flag: flag, in: x), try parseDouble(p[1], flag: flag, in: y))
        }
    }

    static func parseInt(_ s: String, flag: String, in range: ClosedRange<Int>) throws -> Int {
        guard let v = Int(s.trimmingCharacters(in: .whitespaces)) else { throw UsageError("--\(flag) expects an integer, got '\(s)'") }
        guard range.contains(v) else { throw UsageError("--\(flag) must be in \(range.lowerBound)…\(range.upperBound), got \(v)") }
        return v
    }
}
