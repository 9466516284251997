import Foundation
import Tape
import Layers
import Bilevel

/// Anti-distillation (paper Fig. 10, 11a, 11b, 14–18; PRIMER result 6): learn the targets of n synthetic
/// points at fixed x so that a regressor trained on them fits one original point. Cold start; every
/// hypergradient method; ‖λ‖ and ‖w‖ at convergence against K and η.
enum AntiDistillation: Subcommand {
    static let name = "anti-distillation"
    static let summary = "Fig. 10–18: learned targets and fitted curves per hypergradient method; ‖λ‖, ‖w‖ vs K and η"
    static let flags: [Flag] = [
        .option("amplitudes", "Fourier amplitude profile: exp:R | linear | list:a1,a2,…", default: "exp:0.5"),
        .option("frequencies", "F, the number of frequencies (2F + 1 features; F < 6 gives fewer features than points, Fig. 17)", default: "10"),
        .option("learned-x", "x of the learned points, comma-separated", default: "13 points equally spaced in (−π, π)"),
        .option("original", "original point(s) x:y[,x:y…]", default: "0.5:1"),
        .option("methods", "methods to run: exact,identity,neumann:K,cg:K,damped:ETA,unrolled:K", default: "exact,neumann:1,neumann:10,neumann:100,cg:2,cg:5,damped:1,damped:0.01,unrolled:10"),
        .option("k-grid", "K values for the ‖λ‖, ‖w‖ vs K plot (Neumann, CG, unrolled)", default: "1,2,5,10,20,50,100,200,500,1000 (quick: 1,10,100)"),
        .option("eta-grid", "η values for the ‖λ‖, ‖w‖ vs η plot (damped)", default: "1e-4,…,10 (quick: 1e-3,0.1,10)"),
        .option("inner-lr", "inner step α: also the Neumann step and the unrolled step", default: "1/λ_max(H) (fourier), 0.05 (mlp)"),
        .option("outer-lr", "outer SGD learning rate, or 'auto' (inverse curvature of J_out along the first hypergradient)", default: "auto"),
        .option("outer-steps", "cap on outer steps (the loop stops earlier when the relative change of λ < 1e-10)", default: "3000 (quick: 400)"),
        .option("inner-steps", "inner GD steps per outer step instead of the closed-form inner solve", default: "closed form (fourier), 2000 (mlp)"),
        .option("model", "inner model: fourier | mlp (2 × 10 ReLU, Fig. 18)", default: "fourier"),
    ]

    struct Setup {
        var features: FourierFeatures
        var learnedX: [Double]
        var original: [(Double, Double)]
        var model: String
    }

    static func run(_ args: Arguments, _ ctx: DemoContext) throws {
        // F = 0 leaves a constant model: every method gives the same fit and the comparison shows nothing.
        let f = try args.int("frequencies", default: 10, in: 1...100)
        let profile = try parseProfile(args.string("amplitudes") ?? "exp:0.5", frequencies: f)
        let spaced: [Double] = (0..<13).map { i -> Double in -Double.pi + 2 * Double.pi * (Double(i) + 0.5) / 13 }
        let learnedX: [Double] = try args.doubles("learned-x", default: nil, in: -100...100) ?? spaced
        let original = try parseOriginal(args.string("original") ?? "0.5:1")
        let modelName = args.string("model") ?? "fourier"
        guard modelName == "fourier" || modelName == "mlp" else { throw UsageError("--model must be fourier or mlp, got '\(modelName)'") }
        let mlp = modelName == "mlp"
        // The MLP is retrained from scratch every outer step, so its default grids and budgets are smaller.
        let methods = try MethodSpec.parseList(args.string("methods") ?? (mlp ? "exact,neumann:1,neumann:10,damped:0.1,unrolled:10" : flags[4].defaultValue!), flag: "methods")
        let kGrid = try args.ints("k-grid", default: mlp ? (ctx.quick ? [1, 10] : [1, 3, 10, 30, 100]) : ctx.quick ? [1, 10, 100] : [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], in: 1...100_000)
        let etaGrid = try args.doubles("eta-grid", default: mlp ? (ctx.quick ? [0.1] : [0.01, 0.1, 1]) : ctx.quick ? [1e-3, 0.1, 10] : [1e-4, 1e-3, 1e-2, 0.1, 1, 10], in: 1e-12...1e6) ?? []
        let outerSteps = try args.int("outer-steps", default: mlp ? (ctx.quick ? 25 : 150) : ctx.quick ? 400 : 3000, in: 1...10_000_000)
        let outerLR: Double? = try args.string("outer-lr").flatMap { $0 == "auto" ? nil : try Arguments.parseDouble($0, flag: "outer-lr", in: 1e-12...1e6) }
        let innerSteps: Int? = try args.string("inner-steps").map { try Arguments.parseInt($0, flag: "inner-steps", in: 1...10_000_000) }
            ?? (mlp ? (ctx.quick ? 300 : 1000) : nil)

        let features = FourierFeatures(frequencies: f, profile: profile)
        let xs = Tensor(shape: [learnedX.count, 1], scalars: learnedX)
        let xo = Tensor(shape: [original.count, 1], scalars: original.map(\.0)), yo = Tensor(shape: [original.count, 1], scalars: original.map(\.1))
        if modelName == "mlp" {
            let problem = TargetDistillation(model: MLP(widths: [1, 10, 10, 1], activation: .relu), learnedInputs: xs,
                                             originalInputs: xo, originalTargets: yo, weightsSeed: ctx.seed)
            let alpha = try args.double("inner-lr", default: 0.02, in: 1e-9...10)
            try experiment(problem: problem, ctx: ctx, setup: Setup(features: features, learnedX: learnedX, original: original, model: modelName),
                           methods: methods, kGrid: kGrid, etaGrid: etaGrid, alpha: alpha, outerLR: outerLR, outerSteps: outerSteps,
                           innerSteps: innerSteps)
        } else {
            let problem = TargetDistillation(model: FourierRegressor(features: features), learnedInputs: xs,
                                             originalInputs: xo, originalTargets: yo, weightsSeed: ctx.seed)
            // H = (2/n) ΦᵀΦ is constant: its largest eigenvalue fixes the default step.
            let phi = features(xs)
            let lmax = LinearAlgebra.symmetricEigen((2 / Double(learnedX.count)) * phi.matmul(phi, transposeSelf: true)).values.max() ?? 1
            let alpha = try args.double("inner-lr", default: 1 / lmax, in: 1e-12...1e6)
            ctx.say("inner Hessian: λ_max = \(fmt(lmax)); inner step α = \(fmt(alpha)) (Neumann and unrolled step)")
            try experiment(problem: problem, ctx: ctx, setup: Setup(features: features, learnedX: learnedX, original: original, model: modelName),
                           methods: methods, kGrid: kGrid, etaGrid: etaGrid, alpha: alpha, outerLR: outerLR, outerSteps: outerSteps,
                           innerSteps: innerSteps)
        }
    }

    /// Result of one method run to convergence.
    struct Outcome {
        var spec: MethodSpec
        var run: BilevelRun
        var outerLoss: Double
        var rate: Double
        /// Why the method could not be run to convergence (nil: it was).
        var failure: String? = nil
    }

    static func experiment<M: Model>(problem: TargetDistillation<M>, ctx: DemoContext, setup: Setup, methods: [MethodSpec],
                                     kGrid: [Int], etaGrid: [Double], alpha: Double, outerLR: Double?, outerSteps: Int,
                                     innerSteps: Int?) throws {
        let concept = ColdStart(optimizer: SGD(learningRate: alpha), steps: innerSteps ?? 0, useExactSolve: innerSteps == nil)
        var gridSpecs: [MethodSpec] = []
        for k in kGrid { gridSpecs += [MethodSpec(kind: .neumann, k: k), MethodSpec(kind: .cg, k: k), MethodSpec(kind: .unrolled, k: k)] }
        gridSpecs += etaGrid.map { MethodSpec(kind: .damped, eta: $0) }
        let all = methods + gridSpecs.filter { !methods.contains($0) } + (methods.contains(MethodSpec(kind: .exact)) ? [] : [MethodSpec(kind: .exact)])
        let progress = ctx.progress("methods")
        var outcomes: [Outcome] = []
        for (i, spec) in all.enumerated() {
            progress.report(i, of: all.count, spec.label)
            do {
                outcomes.append(try solve(problem, spec: spec, concept: concept, alpha: alpha, outerLR: outerLR, outerSteps: outerSteps))
            } catch let e as FailedRun {
                // Truncated CG can return an ascent direction: its polynomial filter is negative on part of the
                // spectrum (see spectral-filter). Gradient descent on λ then diverges; record why and go on.
                var g = SeededGenerator(seed: 0)
                let w0 = problem.initialWeights(using: &g)
                let state = BilevelState(outer: OptimizerState(weights: problem.initialLambda, slots: []), inner: InnerState(optimizer: OptimizerState(weights: w0, slots: [])),
                                         initialWeights: w0, initialLambda: problem.initialLambda, outerStep: 0)
                outcomes.append(Outcome(spec: spec, run: BilevelRun(state: state, trajectory: Trajectory(), converged: false, cancelled: false, lastDiagnostics: nil),
                                        outerLoss: .nan, rate: .nan, failure: e.reason))
            }
        }
        progress.report(all.count, of: all.count)
        let byLabel = Dictionary(outcomes.map { ($0.spec.label, $0) }, uniquingKeysWith: { a, _ in a })
        let chosen = methods.compactMap { byLabel[$0.label] }
        // Summary table.
        ctx.say(table(["method", "‖λ‖", "‖w‖", "outer loss", "outer steps", "converged", "outer lr"], chosen.map { o in
            o.failure != nil ? [o.spec.label, "—", "—", "—", "0", "no: see below", "—"] :
            [o.spec.label, fmt(o.run.lambda.norm), fmt(o.run.weights.norm), fmt(o.outerLoss, 3), "\(o.run.outerSteps)",
             o.run.converged ? "yes" : "no (cap)", fmt(o.rate, 3)]
        }))
        for o in chosen where o.failure != nil { ctx.say("\(o.spec.label): \(o.failure!)") }
        try AntiDistillationOutput.write(problem, ctx: ctx, setup: setup, chosen: chosen, grid: outcomes, kGrid: kGrid, etaGrid: etaGrid,
                                         alpha: alpha, outerLR: outerLR, outerSteps: outerSteps, innerSteps: innerSteps)
    }

    static func solve<P: BilevelProblem>(_ problem: P, spec: MethodSpec, concept: ColdStart<SGD>, alpha: Double,
                                         outerLR: Double?, outerSteps: Int) throws -> Outcome {
        func go<Method: HypergradientMethod>(_ method: Method) throws -> Outcome {
            let lr: Double
            do { lr = try outerLR ?? autoRate(problem, method: method, concept: concept) } catch let e as BilevelError {
                throw MethodFailed(reason: MethodRuns.failure(e, method: spec.label, completedSteps: nil).reason)
            }
            let solver = BilevelSolver(problem: problem, method: method, concept: concept, outerOptimizer: SGD(learningRate: lr),
                                       maxOuterSteps: outerSteps, tolerance: 1e-10, lambdaStride: max(1, outerSteps / 50))
            let run: BilevelRun
            switch try MethodRuns.solve(solver, method: spec.label) {
            case .success(let r): run = r
            case .failure(let f): throw MethodFailed(reason: f.reason)
            }
            var w = run.state.inner
            try concept.updateInner(problem, lambda: run.lambda, state: &w, initialWeights: run.state.initialWeights)
            var r = run
            r.state.inner = w
            return Outcome(spec: spec, run: r, outerLoss: problem.outerLoss(lambda: run.lambda, weights: w.weights), rate: lr)
        }
        return try go(spec.method(innerStep: alpha))
    }

    /// 'auto' outer rate: 1/ρ with ρ the curvature of the outer objective along the first hypergradient,
    /// from a secant of two hypergradients (exact for the quadratic outer problem of the linear model).
    static func autoRate<P: BilevelProblem, Method: HypergradientMethod>(_ problem: P, method: Method, concept: ColdStart<SGD>) throws -> Double {
        var g = SeededGenerator(seed: 0)
        let w0 = problem.initialWeights(using: &g)
        func hypergradient(_ l: Tensor) throws -> Tensor {
            var s = concept.initialInnerState(weights: w0)
            try concept.updateInner(problem, lambda: l, state: &s, initialWeights: w0)
            return try method.hypergradient(of: problem, lambda: l, weights: s.weights, context: HypergradientContext(initialWeights: w0)).gradient
        }
        let l0 = problem.initialLambda
        let g0 = try hypergradient(l0)
        guard g0.norm > 0 else { return 1 }
        let d = (1 / g0.norm) * g0, delta = 1e-3 * max(1, l0.norm)
        let rho = (try hypergradient(l0 + delta * d) - g0).dot(d) / delta
        guard rho > 0, rho.isFinite else { throw NoDescent(method: method.name, curvature: rho) }
        return 1 / rho
    }

    /// A method setting that could not be run to the end; the demo records why and goes on with the others.
    protocol FailedRun: Error { var reason: String { get } }

    /// The method's hypergradient is not a descent direction of the outer objective.
    struct NoDescent: FailedRun, CustomStringConvertible {
        var reason: String { description }
        var method: String
        var curvature: Double
        var description: String {
            "\(method) gives an ascent direction (outer curvature along it \(fmt(curvature, 3)) ≤ 0): outer gradient descent with it diverges, so it is not run"
        }
    }

    /// A method that stopped with an error (e.g. a Neumann step above 2/λ_max as the Hessian changes).
    struct MethodFailed: FailedRun { var reason: String }

    static func parseProfile(_ s: String, frequencies f: Int) throws -> AmplitudeProfile {
        if s == "linear" { return .linear }
        if s.hasPrefix("exp:") {
            let r = try Arguments.parseDouble(String(s.dropFirst(4)), flag: "amplitudes", in: 1e-6...0.999999)
            return .exponential(r)
        }
        if s.hasPrefix("list:") {
            let a = try String(s.dropFirst(5)).split(separator: ",").map { try Arguments.parseDouble(String($0), flag: "amplitudes", in: 1e-12...1e6) }
            guard a.count == f else { throw UsageError("--amplitudes list has \(a.count) values for --frequencies \(f)") }
            return .custom(a)
        }
        throw UsageError("--amplitudes must be exp:R, linear or list:a1,a2,…, got '\(s)'")
    }

    static func parseOriginal(_ s: String) throws -> [(Double, Double)] {
        try Arguments.parsePairs(s, flag: "original", x: -100...100, y: -1e6...1e6)
    }
}
