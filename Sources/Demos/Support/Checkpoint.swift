import Foundation
import Tape
import Layers
import Bilevel

/// `--checkpoint FILE` / `--resume` / `--checkpoint-every N` / `--stop-after N` for long runs.
/// The state is written atomically every N outer steps as a `CheckpointFile` (exact numbers), so a resumed
/// run continues from exactly the same state and ends with the same numbers. Add `CheckpointOptions.flags`
/// to a subcommand's flags, build `CheckpointOptions(args)`, and run solvers with `runCheckpointed`.
struct CheckpointOptions {
    var path: String?
    var every: Int
    var resume: Bool
    /// Stop (after writing a checkpoint) once this many outer steps are done: simulates an interruption.
    var stopAfter: Int?

    static let flags: [Flag] = [
        .option("checkpoint", "write the run's state to FILE.<run> atomically every --checkpoint-every outer steps"),
        .option("checkpoint-every", "outer steps between checkpoints", default: "100"),
        .toggle("resume", "continue from the --checkpoint files instead of starting over"),
        .option("stop-after", "stop after this many outer steps (leaving a checkpoint), e.g. to test --resume"),
    ]

    /// No checkpoint file: `runCheckpointed` only reports progress.
    static let none = CheckpointOptions(path: nil, every: 100, resume: false, stopAfter: nil)

    init(path: String?, every: Int, resume: Bool, stopAfter: Int?) {
        (self.path, self.every, self.resume, self.stopAfter) = (path, every, resume, stopAfter)
    }

    init(_ args: Arguments) throws {
        path = args.string("checkpoint")
        every = try args.int("checkpoint-every", default: 100, in: 1...10_000_000)
        resume = args.has("resume")
        stopAfter = try args.string("stop-after").map { try Arguments.parseInt($0, flag: "stop-after", in: 1...100_000_000) }
        if let p = path {
            // Checked now, not at the first checkpoint an hour into the run: the folder must take a file.
            guard !p.trimmingCharacters(in: .whitespaces).isEmpty, !p.hasSuffix("/") else { throw UsageError("--checkpoint needs a file name, got '\(p)'") }
            let probe = URL(fileURLWithPath: p + ".probe-\(getpid())")
            guard FileManager.default.createFile(atPath: probe.path, contents: Data()) else {
                throw UsageError("--checkpoint '\(p)': cannot write a file there (does its folder exist, and is the name short enough?)")
            }
            try? FileManager.default.removeItem(at: probe)
        }
        if resume && path == nil { throw UsageError("--resume needs --checkpoint FILE") }
        if stopAfter != nil && path == nil { throw UsageError("--stop-after needs --checkpoint FILE") }
    }
}

/// Raised when --stop-after interrupts a run (the demo then exits 0 with a message).
struct Interrupted: Error, CustomStringConvertible {
    var step: Int
    var path: String
    var description: String { "stopped after \(step) outer steps; the state is in \(path) — rerun with --resume to continue" }
}

/// Runs a solver to its step cap with progress, checkpoints and resume.
func runCheckpointed<P, M, C, O>(_ solver: BilevelSolver<P, M, C, O>, name: String, ctx: DemoContext,
                                 options: CheckpointOptions) throws -> BilevelRun {
    let file = options.path.map { "\($0).\(name)" }
    var state = solver.initialState()
    var trajectory = Trajectory()
    // A run that had not started when the previous invocation stopped has no file yet: it starts afresh.
    if options.resume, let file, let saved = try CheckpointCodec.load(file, template: state) {
        (state, trajectory) = saved
    }
    let progress = ctx.progress(name)
    progress.resumedFrom = state.outerStep
    while state.outerStep < solver.maxOuterSteps {
        // A diverging run names itself, its step and what to change ("warm failed at outer step 12: …").
        do { try solver.step(&state, trajectory: &trajectory) } catch let e as BilevelError {
            throw MethodRuns.failure(e, method: name, completedSteps: state.outerStep)
        }
        progress.report(state.outerStep, of: solver.maxOuterSteps,
                        "outer loss \(fmt(trajectory.outerLoss.last ?? .nan, 3))")
        if let file, state.outerStep % options.every == 0 || state.outerStep == options.stopAfter {
            try CheckpointCodec.save(file, state: state, trajectory: trajectory)
        }
        if let stop = options.stopAfter, state.outerStep >= stop, state.outerStep < solver.maxOuterSteps, let file {
            throw Interrupted(step: state.outerStep, path: file)
        }
    }
    if let file { try CheckpointCodec.save(file, state: state, trajectory: trajectory) }
    if trajectory.lambdas.last?.step != state.outerStep { trajectory.lambdas.append((state.outerStep, state.lambda)) }
    return BilevelRun(state: state, trajectory: trajectory, converged: false, cancelled: false, lastDiagnostics: nil)
}

/// A bilevel run's state and trajectory as a `CheckpointFile` (every number exact).
enum CheckpointCodec {
    static func save(_ path: String, state s: BilevelState, trajectory t: Trajectory) throws {
        var a: [String: [Double]] = [
            "lambda": s.outer.weights.scalars, "outer_iteration": [Double(s.outer.iteration)], "outer_slots": [Double(s.outer.slots.count)],
            "inner_weights": s.inner.optimizer.weights.scalars, "inner_iteration": [Double(s.inner.optimizer.iteration)],
            "inner_slots": [Double(s.inner.optimizer.slots.count)], "inner_step": [Double(s.inner.step)],
            "initial_weights": s.initialWeights.scalars, "initial_lambda": s.initialLambda.scalars,
            "t_step": t.step.map(Double.init), "t_outer": t.outerLoss, "t_inner": t.innerLoss, "t_lnorm": t.lambdaNorm,
            "t_ldist": t.lambdaDistance, "t_wnorm": t.weightsNorm, "t_wdist": t.weightsDistance, "t_hnorm": t.hypergradientNorm,
            // Only the accuracy metric is kept (NaN where a step had none): it is the one the demos plot.
            "t_accuracy": t.metrics.map { $0["accuracy"] ?? .nan },
            "t_lambda_steps": t.lambdas.map { Double($0.step) }, "t_lambdas": t.lambdas.flatMap { $0.lambda.scalars },
        ]
        for (k, slot) in s.outer.slots.enumerated() { a["outer_slot_\(k)"] = slot.scalars }
        for (k, slot) in s.inner.optimizer.slots.enumerated() { a["inner_slot_\(k)"] = slot.scalars }
        try CheckpointFile(step: s.outerStep, arrays: a).save(to: path)
    }

    /// Reads a checkpoint into a copy of `template` (the state a fresh run starts from); nil if there is no file.
    static func load(_ path: String, template: BilevelState) throws -> (BilevelState, Trajectory)? {
        guard let f = try CheckpointFile.load(from: path) else { return nil }
        func vec(_ k: String, like t: Tensor) throws -> Tensor {
            let v = try f.array(k)
            guard v.count == t.count else {
                throw DemoError("checkpoint \(path) was written by a run with other settings ('\(k)' has \(v.count) numbers, this run needs \(t.count))")
            }
            return Tensor(shape: t.shape, scalars: v)
        }
        func slots(_ prefix: String, like t: Tensor) throws -> [Tensor] {
            try (0..<f.integer(prefix + "s")).map { try vec("\(prefix)_\($0)", like: t) }
        }
        var s = template
        s.outer = OptimizerState(weights: try vec("lambda", like: template.lambda), slots: try slots("outer_slot", like: template.lambda),
                                 iteration: try f.integer("outer_iteration"))
        s.inner = InnerState(optimizer: OptimizerState(weights: try vec("inner_weights", like: template.weights),
                                                       slots: try slots("inner_slot", like: template.weights),
                                                       iteration: try f.integer("inner_iteration")),
                             step: try f.integer("inner_step"))
        s.initialWeights = try vec("initial_weights", like: template.initialWeights)
        s.initialLambda = try vec("initial_lambda", like: template.initialLambda)
        s.outerStep = f.step
        var t = Trajectory()
        t.step = try f.integers("t_step")
        t.outerLoss = try f.array("t_outer"); t.innerLoss = try f.array("t_inner")
        t.lambdaNorm = try f.array("t_lnorm"); t.lambdaDistance = try f.array("t_ldist")
        t.weightsNorm = try f.array("t_wnorm"); t.weightsDistance = try f.array("t_wdist")
        t.hypergradientNorm = try f.array("t_hnorm")
        t.metrics = try f.array("t_accuracy").map { $0.isNaN ? [:] : ["accuracy": $0] }
        let steps = try f.integers("t_lambda_steps"), flat = try f.array("t_lambdas"), n = template.lambda.count
        guard flat.count == steps.count * n else { throw DemoError("checkpoint \(path): λ history has \(flat.count) numbers for \(steps.count) steps") }
        t.lambdas = steps.enumerated().map { k, step in (step, Tensor(shape: template.lambda.shape, scalars: Array(flat[k * n ..< (k + 1) * n]))) }
        return (s, t)
    }
}
