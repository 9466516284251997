import Foundation
import Tape
import Layers
import Bilevel

/// `--checkpoint FILE` / `--resume` / `--checkpoint-every N` / `--stop-after N` for long runs.
/// The state is written atomically every N outer steps; numbers are stored as the hex bit patterns of their
/// Doubles, so a resumed run continues from exactly the same state and ends with the same numbers.
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

    init(_ args: Arguments) throws {
        path = args.string("checkpoint")
        every = try args.int("checkpoint-every", default: 100, in: 1...10_000_000)
        resume = args.has("resume")
        stopAfter = try args.string("stop-after").map { try Arguments.parseInt($0, flag: "stop-after", in: 1...100_000_000) }
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
    if options.resume, let file, FileManager.default.fileExists(atPath: file) {
        (state, trajectory) = try CheckpointCodec.load(file, template: state)
    }
    let progress = ctx.progress(name)
    while state.outerStep < solver.maxOuterSteps {
        try solver.step(&state, trajectory: &trajectory)
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

/// Encoding of a run's state and trajectory as JSON of exact (hex bit pattern) numbers.
enum CheckpointCodec {
    static func hex(_ xs: [Double]) -> JSON { .array(xs.map { .string(String($0.bitPattern, radix: 16)) }) }
    static func unhex(_ any: Any?, _ key: String) throws -> [Double] {
        guard let a = any as? [String] else { throw DemoError("checkpoint: missing or malformed '\(key)'") }
        return try a.map { s in
            guard let bits = UInt64(s, radix: 16) else { throw DemoError("checkpoint: malformed number in '\(key)'") }
            return Double(bitPattern: bits)
        }
    }

    static func save(_ path: String, state s: BilevelState, trajectory t: Trajectory) throws {
        let url = URL(fileURLWithPath: path)
        let dir = try OutputDirectory(path: url.deletingLastPathComponent().path)
        let json: JSON = .object([
            ("outer_step", .int(s.outerStep)), ("outer_iteration", .int(s.outer.iteration)),
            ("lambda", hex(s.outer.weights.scalars)), ("outer_slots", .array(s.outer.slots.map { hex($0.scalars) })),
            ("inner_weights", hex(s.inner.optimizer.weights.scalars)), ("inner_slots", .array(s.inner.optimizer.slots.map { hex($0.scalars) })),
            ("inner_iteration", .int(s.inner.optimizer.iteration)), ("inner_step", .int(s.inner.step)),
            ("initial_weights", hex(s.initialWeights.scalars)), ("initial_lambda", hex(s.initialLambda.scalars)),
            ("t_step", .array(t.step.map(JSON.int))), ("t_outer", hex(t.outerLoss)), ("t_inner", hex(t.innerLoss)),
            ("t_lnorm", hex(t.lambdaNorm)), ("t_ldist", hex(t.lambdaDistance)), ("t_wnorm", hex(t.weightsNorm)),
            ("t_wdist", hex(t.weightsDistance)), ("t_hnorm", hex(t.hypergradientNorm)),
            ("t_accuracy", hex(t.metrics.map { $0["accuracy"] ?? .nan })),
            ("t_lambda_steps", .array(t.lambdas.map { .int($0.step) })), ("t_lambdas", .array(t.lambdas.map { hex($0.lambda.scalars) })),
        ])
        try dir.write(try json.render(), to: url.lastPathComponent)
    }

    static func load(_ path: String, template: BilevelState) throws -> (BilevelState, Trajectory) {
        guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("--resume: cannot read checkpoint \(path)") }
        guard let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw DemoError("checkpoint \(path) is not valid JSON") }
        func int(_ k: String) throws -> Int { guard let v = o[k] as? Int else { throw DemoError("checkpoint \(path): missing '\(k)'") }; return v }
        func vec(_ k: String) throws -> Tensor { Tensor(try unhex(o[k], k)) }
        func vecs(_ k: String) throws -> [Tensor] { try ((o[k] as? [Any]) ?? []).map { Tensor(try unhex($0, k)) } }
        var s = template
        let lambda = try vec("lambda"), w = try vec("inner_weights")
        guard lambda.shape == template.lambda.shape, w.shape == template.weights.shape else {
            throw DemoError("checkpoint \(path) was written by a run with other settings (λ or w has another size)")
        }
        s.outer = OptimizerState(weights: lambda, slots: try vecs("outer_slots"), iteration: try int("outer_iteration"))
        s.inner = InnerState(optimizer: OptimizerState(weights: w, slots: try vecs("inner_slots"), iteration: try int("inner_iteration")),
                             step: try int("inner_step"))
        s.initialWeights = try vec("initial_weights")
        s.initialLambda = try vec("initial_lambda")
        s.outerStep = try int("outer_step")
        var t = Trajectory()
        t.step = (o["t_step"] as? [Int]) ?? []
        t.outerLoss = try unhex(o["t_outer"], "t_outer"); t.innerLoss = try unhex(o["t_inner"], "t_inner")
        t.lambdaNorm = try unhex(o["t_lnorm"], "t_lnorm"); t.lambdaDistance = try unhex(o["t_ldist"], "t_ldist")
        t.weightsNorm = try unhex(o["t_wnorm"], "t_wnorm"); t.weightsDistance = try unhex(o["t_wdist"], "t_wdist")
        t.hypergradientNorm = try unhex(o["t_hnorm"], "t_hnorm")
        t.metrics = try unhex(o["t_accuracy"], "t_accuracy").map { $0.isNaN ? [:] : ["accuracy": $0] }
        let steps = (o["t_lambda_steps"] as? [Int]) ?? []
        t.lambdas = zip(steps, try vecs("t_lambdas")).map { ($0, $1) }
        return (s, t)
    }
}
