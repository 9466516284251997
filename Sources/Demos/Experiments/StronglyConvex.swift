import Foundation
import Tape
import Layers
import Bilevel

/// Paper Remark 3.2 / Statement 3.2 (PRIMER results 3 and 4): when the inner problem is strongly convex,
/// cold start, full warm start and partial warm start reach the same outer solution; when it is
/// overparameterized they do not. Learned regression points (inputs and targets) fitted by a Fourier
/// regressor, with a ridge term δ > 0 and without (δ = 0, fewer points than features); the same outer
/// optimizer, outer step count and exact hypergradient for all three concepts.
enum StronglyConvex: Subcommand {
    static let name = "strongly-convex"
    static let summary = "Remark 3.2: strongly convex inner ⇒ warm start = cold start and partial = full warm start; overparameterized ⇒ they differ"
    static let flags: [Flag] = [
        .option("ridge", "δ > 0 of the strongly convex run (the contrast run has δ = 0)", default: "0.1"),
        .option("points", "learned points n (start evenly spaced on [−2, 2], targets 0)", default: "2"),
        .option("frequencies", "Fourier frequencies F (2F + 1 features; amplitudes 0.5^k)", default: "4"),
        .option("original", "original points m (x uniform in [−π, π], y = sin x + 0.3 cos 3x + noise 0.1)", default: "40"),
        .option("outer-steps", "outer gradient-descent steps, the same for every concept", default: "3000 (quick: 800)"),
        .option("outer-lr", "outer gradient-descent step", default: "1"),
        .option("inner-lr", "inner gradient-descent step α (every concept)", default: "0.5"),
        .option("tolerance", "cold and full warm start: inner steps until ‖∂J_in/∂w‖ ≤ this", default: "1e-12"),
        .option("spread", "the learned points start at x evenly spaced on [−s, s], y = 0", default: "2"),
    ]

    /// One concept's run: its final state, the λ of every outer step, and the inner steps it took in total.
    struct ConceptRun {
        var name: String
        var run: BilevelRun
        var lambdas: [Tensor]
        var innerSteps: Int
    }

    static func run(_ args: Arguments, _ ctx: DemoContext) throws {
        let ridge = try args.double("ridge", default: 0.1, in: 1e-6...1e3)
        let n = try args.int("points", default: 2, in: 1...50)
        let f = try args.int("frequencies", default: 4, in: 1...20)
        let m = try args.int("original", default: 40, in: 1...100_000)
        let steps = try args.int("outer-steps", default: ctx.quick ? 800 : 3000, in: 1...10_000_000)
        let outerLR = try args.double("outer-lr", default: 1, in: 1e-9...100)
        let innerLR = try args.double("inner-lr", default: 0.5, in: 1e-9...10)
        let tol = try args.double("tolerance", default: 1e-12, in: 1e-15...1)
        let spread = try args.double("spread", default: 2, in: 0...3)
        let features = FourierFeatures(frequencies: f)
        // α must be below 2/L for the inner gradient descent; L ≤ ‖φ‖²_max + δ (a bound, so the check is cheap and safe).
        let lipschitz = 1 + features.amplitudes.map { $0 * $0 }.reduce(0, +) + ridge
        guard innerLR < 2 / lipschitz else {
            throw UsageError("--inner-lr \(innerLR) is too large: inner gradient descent needs α < 2/L = \(fmt(2 / lipschitz)) here")
        }
        let original = SyntheticData.regression1D(points: m, noise: 0.1, seed: ctx.seed)
        let x0 = n == 1 ? [0.0] : (0..<n).map { -spread + 2 * spread * Double($0) / Double(n - 1) }
        var rows: [[String]] = [], distanceRows: [[String]] = [], regimes: [(String, JSON)] = [], paths: [(label: String, runs: [ConceptRun])] = []
        for delta in [ridge, 0] {
            let problem = LearnedPointsRegression(features: features, ridge: delta, original: original,
                                                  initialInputs: x0, initialTargets: Array(repeating: 0, count: n))
            let runs = try runConcepts(problem, steps: steps, outerLR: outerLR, innerLR: innerLR, tolerance: tol, ctx: ctx)
            let (cold, full, partial) = (runs[0], runs[1], runs[2])
            let label = delta > 0 ? "δ = \(fmt(delta))" : "δ = 0"
            for r in runs {
                rows.append([label, r.name, fmt(problem.outerLoss(lambda: r.run.lambda, weights: r.run.weights)),
                             fmt(r.run.trajectory.hypergradientNorm.last ?? .nan, 3), "\(r.innerSteps)"])
            }
            let fullVsCold = (full.run.lambda - cold.run.lambda).norm, partialVsFull = (partial.run.lambda - full.run.lambda).norm
            distanceRows.append([label, fmt(fullVsCold, 3), fmt(partialVsFull, 3)])
            regimes.append((delta > 0 ? "strongly_convex" : "overparameterized", .object([
                ("ridge", .number(delta)),
                ("full_vs_cold", .number(fullVsCold)), ("partial_vs_full", .number(partialVsFull)),
                ("partial_vs_cold", .number((partial.run.lambda - cold.run.lambda).norm)),
                ("concepts", .object(runs.map { r in (r.name, .object([
                    ("lambda", .numbers(r.run.lambda.scalars)), ("weights", .numbers(r.run.weights.scalars)),
                    ("outer_loss", .number(problem.outerLoss(lambda: r.run.lambda, weights: r.run.weights))),
                    ("inner_loss", .number(problem.innerLoss(lambda: r.run.lambda, weights: r.run.weights))),
                    ("final_hypergradient_norm", .number(r.run.trajectory.hypergradientNorm.last ?? .nan)),
                    ("inner_steps", .int(r.innerSteps)),
                ])) })),
            ])))
            try StronglyConvexOutput.write(ctx: ctx, problem: problem, runs: runs, file: delta > 0 ? "strongly_convex" : "overparameterized")
            paths.append((label, runs))
        }
        try StronglyConvexOutput.distances(ctx: ctx, regimes: paths)
        ctx.say(table(["inner problem", "concept", "outer loss", "‖hypergradient‖ at the end", "inner steps"], rows))
        ctx.say("")
        ctx.say(table(["inner problem", "‖λ_full warm − λ_cold‖", "‖λ_partial warm − λ_full warm‖"], distanceRows))
        try ctx.out.writeJSON(.object([
            ("settings", .object([("ridge", .number(ridge)), ("points", .int(n)), ("frequencies", .int(f)), ("original", .int(m)),
                                  ("outer_steps", .int(steps)), ("outer_lr", .number(outerLR)), ("inner_lr", .number(innerLR)),
                                  ("tolerance", .number(tol)), ("hypergradient", .string("exact (pseudoinverse of the inner Hessian)")),
                                  ("seed", .int(Int(ctx.seed))), ("quick", .bool(ctx.quick))])),
        ] + regimes))
        ctx.say("wrote \(ctx.out.url.path)/{result.json, strongly_convex.svg, overparameterized.svg, distance.svg, *.csv}")
    }

    /// Cold start, full warm start and partial warm start (T = 1) with the same outer optimizer and step count.
    static func runConcepts(_ problem: LearnedPointsRegression, steps: Int, outerLR: Double, innerLR: Double, tolerance: Double,
                            ctx: DemoContext) throws -> [ConceptRun] {
        let inner = SGD(learningRate: innerLR), cap = 1_000_000
        return [
            try runConcept("cold", problem, ColdStart(optimizer: inner, steps: cap, gradientTolerance: tolerance, useExactSolve: false),
                           restarts: true, steps: steps, outerLR: outerLR, ctx: ctx),
            try runConcept("full warm", problem, WarmStart(optimizer: inner, stepsPerOuterStep: cap, gradientTolerance: tolerance),
                           restarts: false, steps: steps, outerLR: outerLR, ctx: ctx),
            try runConcept("partial warm (T = 1)", problem, WarmStart(optimizer: inner, stepsPerOuterStep: 1),
                           restarts: false, steps: steps, outerLR: outerLR, ctx: ctx),
        ]
    }

    /// Runs one concept step by step, keeping every λ and counting inner steps (cold start's counter restarts each outer step).
    static func runConcept<C: SolutionConcept>(_ name: String, _ problem: LearnedPointsRegression, _ concept: C, restarts: Bool,
                                               steps: Int, outerLR: Double, ctx: DemoContext) throws -> ConceptRun {
        let solver = BilevelSolver(problem: problem, method: ExactHypergradient(), concept: concept, outerOptimizer: SGD(learningRate: outerLR),
                                   maxOuterSteps: steps)
        var state = solver.initialState(), trajectory = Trajectory()
        var lambdas = [state.lambda], innerSteps = 0
        let workspace = BilevelWorkspace(), progress = ctx.progress("\(problem.ridge > 0 ? "δ>0" : "δ=0") \(name)")
        while state.outerStep < steps {
            let before = state.inner.step
            try solver.step(&state, trajectory: &trajectory, workspace: workspace)
            innerSteps += restarts ? state.inner.step : state.inner.step - before
            lambdas.append(state.lambda)
            progress.report(state.outerStep, of: steps, "outer loss \(fmt(trajectory.outerLoss.last ?? .nan, 3))")
        }
        let run = BilevelRun(state: state, trajectory: trajectory, converged: false, cancelled: false, lastDiagnostics: nil)
        return ConceptRun(name: name, run: run, lambdas: lambdas, innerSteps: innerSteps)
    }
}
