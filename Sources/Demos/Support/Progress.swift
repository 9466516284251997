import Foundation

/// Progress on stderr for long runs: step, loss, elapsed and estimated remaining time. Silent when
/// stderr is not a terminal, unless `--progress` was given.
final class ProgressReporter {
    let enabled: Bool
    let label: String
    private let start = Date()
    private var lastPrint = Date.distantPast

    init(label: String, forced: Bool) {
        self.label = label
        enabled = forced || isatty(STDERR_FILENO) != 0
    }

    /// Reports step `done` of `total` (at most a few times per second).
    func report(_ done: Int, of total: Int, _ detail: String = "") {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(lastPrint) > 0.5 || done == total else { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(start)
        let remaining = done > 0 ? elapsed * Double(total - done) / Double(done) : .nan
        let line = String(format: "%@: %d/%d %@  elapsed %.1fs  remaining ~%@", label, done, total, detail, elapsed,
                          remaining.isFinite ? String(format: "%.1fs", remaining) : "?")
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Everything a subcommand needs besides its own flags.
struct DemoContext {
    let name: String
    let seed: UInt64
    let quick: Bool
    let out: OutputDirectory
    let forceProgress: Bool

    func progress(_ label: String) -> ProgressReporter { ProgressReporter(label: "\(name) \(label)", forced: forceProgress) }

    /// Prints to stdout.
    func say(_ s: String) { print(s) }
}

/// A readable fixed-width table for stdout.
func table(_ header: [String], _ rows: [[String]]) -> String {
    let widths = header.indices.map { c in max(header[c].count, rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0) }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
    }
    return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
        .joined(separator: "\n")
}

/// A number in a short readable form for tables.
func fmt(_ x: Double, _ digits: Int = 4) -> String {
    if !x.isFinite { return "\(x)" }
    if x != 0 && (abs(x) < 1e-3 || abs(x) >= 1e5) { return String(format: "%.\(digits - 1)e", x) }
    return String(format: "%.\(digits)g", x)
}
