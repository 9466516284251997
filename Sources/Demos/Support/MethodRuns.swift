import Foundation
import Tape
import Bilevel

/// Why one method of a demo that compares several could not be run to its end: the method, the outer step at
/// which it failed (nil when it failed before the first step), and the library's message, which says what
/// happened and what to change. Demos record it as a row of their tables and results and go on with the others.
struct MethodFailure: Error, CustomStringConvertible, Equatable {
    var method: String
    var step: Int?
    var message: String

    var description: String { "\(method) \(reason)" }
    /// The failure without the method's name: "failed at outer step 12: λ became non-finite; lower …".
    var reason: String { "failed" + (step.map { " at outer step \($0)" } ?? "") + ": \(message)" }

    /// The failure as a result-file object: {"method", "failed_at_outer_step", "error"}.
    var json: JSON {
        .object([("method", .string(method)), ("failed_at_outer_step", step.map(JSON.int) ?? .null), ("error", .string(message))])
    }

    /// A table row for it: the method's name, "failed (step N)", and a dash in each of the other columns.
    func tableRow(columns: Int) -> [String] {
        [method, "failed" + (step.map { " (step \($0))" } ?? "")] + Array(repeating: "—", count: max(0, columns - 2))
    }
}

/// The last outer step a run reported (written by its progress callback, read after the run on the same thread).
private final class StepCounter: @unchecked Sendable {
    var done = 0
    var firstLoss: Double?, lastLoss: Double?
}

/// Runs the methods of a comparison one at a time, so that one that diverges or turns NaN is recorded (with its
/// step, name and what to change) while the others still run and are written.
enum MethodRuns {
    /// Runs `solver` to its end as method `label`. A `BilevelError` (a diverging inner loop or Neumann series, a
    /// non-finite loss or λ) or a run that ends with a non-finite λ or w becomes a `.failure` naming the method and
    /// the outer step; any other error (a usage mistake, a failed file write) propagates.
    static func solve<P, M, C, O>(_ solver: BilevelSolver<P, M, C, O>, method label: String) throws -> Result<BilevelRun, MethodFailure> {
        // The progress callback at every step tells where a failure happened (inner failures name no outer step).
        let counter = StepCounter()
        var s = solver
        let user = solver.progress, interval = max(1, solver.progressInterval)
        s.progressInterval = 1
        s.progress = { report in
            counter.done = report.outerStep
            if counter.firstLoss == nil { counter.firstLoss = report.outerLoss }
            counter.lastLoss = report.outerLoss
            guard let user, report.outerStep % interval == 0 || report.outerStep == report.maxOuterSteps else { return .proceed }
            return user(report)
        }
        do {
            let run = try s.run()
            guard run.lambda.isFinite && run.weights.isFinite else {
                return .failure(MethodFailure(method: label, step: run.outerSteps,
                                              message: "λ or the inner weights are not finite at the end of the run; lower the learning rates"))
            }
            return .success(run)
        } catch let e as BilevelError {
            var f = failure(e, method: label, completedSteps: counter.done)
            // A loss that overflows inside the inner loop may still be the outer iteration's fault: when the outer
            // loss had already grown a millionfold, λ is what diverges.
            if let first = counter.firstLoss, let last = counter.lastLoss, last.isFinite, last > 1e6 * max(abs(first), 1e-12) {
                f.message += " (the outer loss had grown from \(fmt(first, 3)) to \(fmt(last, 3)): λ itself is diverging, so lower the outer learning rate first)"
            }
            return .failure(f)
        }
    }

    /// Runs one method's computation (not a `BilevelSolver` run: a filter, a schedule, a closed form). A
    /// `BilevelError` or a result that `isFinite` rejects becomes a `.failure`; other errors propagate.
    static func attempt<V>(_ label: String, isFinite: (V) -> Bool = { _ in true }, _ body: () throws -> V) throws -> Result<V, MethodFailure> {
        do {
            let v = try body()
            guard isFinite(v) else { return .failure(MethodFailure(method: label, step: nil, message: "the result is not finite")) }
            return .success(v)
        } catch let e as BilevelError {
            return .failure(failure(e, method: label, completedSteps: nil))
        }
    }

    /// A library error as a failure: the step is the one the message names ("outer step N: …", which is then
    /// dropped from the message), else the step after the last completed one.
    static func failure(_ e: BilevelError, method: String, completedSteps: Int?) -> MethodFailure {
        let text = e.description
        let prefix = "outer step "
        if text.hasPrefix(prefix), let colon = text.firstIndex(of: ":"), let n = Int(text[text.index(text.startIndex, offsetBy: prefix.count)..<colon]) {
            return MethodFailure(method: method, step: n, message: String(text[text.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
        return MethodFailure(method: method, step: completedSteps, message: text)
    }

    /// Prints each failure on its own line (after a demo's table).
    static func report(_ failures: [MethodFailure], _ ctx: DemoContext) {
        for f in failures { ctx.say(f.description) }
    }
}
