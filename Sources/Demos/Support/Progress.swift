import Foundation

/// Progress on stderr for long runs: step, loss, elapsed and estimated remaining time. Silent when
/// stderr is not a terminal, unless `--progress` was given. Prints at most twice a second (and always the
/// last step), so reporting every step costs nothing.
final class ProgressReporter {
    let enabled: Bool
    let label: String
    private let sink: @Sendable (String) -> Void
    private let start: Date
    private var lastPrint = Date.distantPast
    /// Steps already done when this process started (a resumed run): the remaining time extrapolates only
    /// the steps this process ran, not the time of the steps before the resume.
    var resumedFrom = 0

    init(label: String, forced: Bool, console: Console = .standard) {
        self.label = label
        enabled = forced || console.errorIsTerminal
        sink = console.error
        start = Date()
    }

    /// Reports step `done` of `total`, with free text (e.g. "outer loss 0.12").
    func report(_ done: Int, of total: Int, _ detail: String = "") {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(lastPrint) > 0.5 || done == total else { return }
        lastPrint = now
        sink(ProgressReporter.line(label: label, done: done, total: total, detail: detail, elapsed: now.timeIntervalSince(start),
                                   since: resumedFrom))
    }

    /// Reports step `done` of `total` with the current loss.
    func report(step done: Int, of total: Int, loss: Double) { report(done, of: total, "loss \(fmt(loss, 4))") }

    /// One progress line; the remaining time extrapolates the mean time per step of the steps run since step `since`.
    static func line(label: String, done: Int, total: Int, detail: String, elapsed: Double, since: Int = 0) -> String {
        let ran = done - since
        let remaining = ran > 0 ? elapsed * Double(max(total - done, 0)) / Double(ran) : .nan
        return "\(label): step \(done)/\(total)" + (detail.isEmpty ? "" : "  \(detail)")
            + String(format: "  elapsed %.1fs  remaining ~", elapsed) + (remaining.isFinite ? String(format: "%.1fs", remaining) : "?")
    }
}

/// Everything a subcommand needs besides its own flags.
struct DemoContext {
    let name: String
    let seed: UInt64
    let quick: Bool
    let out: OutputDirectory
    let forceProgress: Bool
    var console: Console = .standard

    /// A progress reporter for one phase of the run ("<demo> <label>: step 3/10 …" on stderr).
    func progress(_ label: String) -> ProgressReporter {
        ProgressReporter(label: "\(name) \(label)", forced: forceProgress, console: console)
    }

    /// Prints a line (a summary table, a note) to stdout.
    func say(_ s: String) { console.say(s) }
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
