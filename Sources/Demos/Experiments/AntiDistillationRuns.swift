import Foundation
import Tape
import Layers
import Bilevel

/// The runs of the anti-distillation demo: every method setting from λ₀ with the same outer optimizer, step
/// budget and convergence test, stopped with a message when it diverges.
extension AntiDistillation {
    /// One method setting run to convergence, to the step cap, or until it was stopped.
    struct Outcome {
        var spec: MethodSpec
        /// Final λ and the inner solution at it (nil when the run failed).
        var lambda: Tensor?
        var weights: Tensor?
        var outerLoss: Double = .nan
        var outerSteps = 0
        var converged = false
        /// The outer learning rate used (fixed, or the line search's).
        var rate: Double = .nan
        /// ‖∂J_in/∂w‖ at the inner solution for the final λ: 0 for the closed-form solve, > 0 when the inner
        /// optimizer stops short of a stationary point (the implicit methods then solve with the wrong H).
        var innerGradientNorm: Double = .nan
        /// How the last hypergradient's linear solve ended (CG: converged, iteration limit or breakdown).
        var solveStatus = ""
        /// ‖λ_k‖ at every outer step (up to the failure, for a failed run).
        var lambdaNorms: [Double] = []
        /// Why the method could not be run to the end (nil: it was).
        var failure: String? = nil
    }

    static func experiment<M: Model>(problem: TargetDistillation<M>, ctx: DemoContext, setup: Setup, methods: [MethodSpec],
                                     kGrid: [Int], cgGrid: [Int], etaGrid: [Double], settings: Settings) throws {
        let concept = ColdStart(optimizer: SGD(learningRate: settings.alpha), steps: settings.innerSteps ?? 0, useExactSolve: settings.innerSteps == nil)
        var gridSpecs: [MethodSpec] = []
        for k in kGrid { gridSpecs += [MethodSpec(kind: .neumann, k: k), MethodSpec(kind: .unrolled, k: k)] }
        gridSpecs += cgGrid.map { MethodSpec(kind: .cg, k: $0) } + etaGrid.map { MethodSpec(kind: .damped, eta: $0) }
        // Exact first: its ‖λ‖ sets the divergence bound of the others.
        let exactSpec = MethodSpec(kind: .exact)
        let all = [exactSpec] + (methods + gridSpecs).reduce(into: [MethodSpec]()) { if $1 != exactSpec && !$0.contains($1) { $0.append($1) } }
        let progress = ctx.progress("methods")
        var outcomes: [Outcome] = []
        var bound = Double.infinity
        for (i, spec) in all.enumerated() {
            progress.report(i, of: all.count, spec.label)
            outcomes.append(try solve(problem, spec: spec, concept: concept, settings: settings, bound: bound))
            if spec == exactSpec, let l = outcomes.last?.lambda { bound = settings.lambdaBound * max(l.norm, 1e-12) }
        }
        progress.report(all.count, of: all.count)
        let byLabel = Dictionary(outcomes.map { ($0.spec.label, $0) }, uniquingKeysWith: { a, _ in a })
        let chosen = methods.compactMap { byLabel[$0.label] }
        ctx.say("outer optimizer: " + (settings.outerLR.map { "SGD, fixed learning rate \(fmt($0))" }
                                       ?? "exact line search along the first hypergradient ('auto': fast, not the paper's SGD dynamics)") +
                "; divergence bound ‖λ‖ ≤ \(fmt(bound))")
        ctx.say(table(["method", "‖λ‖", "‖w‖", "outer loss", "outer steps", "converged", "‖∂J_in/∂w‖ at w", "last solve"], chosen.map { o in
            guard let l = o.lambda, let w = o.weights else { return [o.spec.label, "—", "—", "—", "\(o.outerSteps)", "stopped: see below", "—", "—"] }
            return [o.spec.label, fmt(l.norm), fmt(w.norm), fmt(o.outerLoss, 3), "\(o.outerSteps)", o.converged ? "yes" : "no (cap)",
                    fmt(o.innerGradientNorm, 2), o.solveStatus]
        }))
        for o in outcomes where o.failure != nil && (chosen.contains { $0.spec == o.spec } || o.spec.kind == .cg) {
            ctx.say("\(o.spec.label): \(o.failure!)")
        }
        try AntiDistillationOutput.write(problem, ctx: ctx, setup: setup, chosen: chosen, grid: outcomes, kGrid: kGrid, cgGrid: cgGrid,
                                         etaGrid: etaGrid, settings: settings, bound: bound)
    }

    /// Runs one method with plain SGD on λ (fixed rate, or the line search's) from λ₀ until the relative change of λ
    /// falls below 1e-10, the step cap, or ‖λ‖ passes `bound`; never throws for a method's own failure (it is recorded).
    static func solve<P: BilevelProblem>(_ problem: P, spec: MethodSpec, concept: ColdStart<SGD>, settings: Settings,
                                         bound: Double) throws -> Outcome {
        func go<Method: HypergradientMethod>(_ method: Method) -> Outcome {
            var out = Outcome(spec: spec)
            do {
                let lr = try settings.outerLR ?? autoRate(problem, method: method, concept: concept)
                out.rate = lr
                let solver = BilevelSolver(problem: problem, method: method, concept: concept, outerOptimizer: SGD(learningRate: lr),
                                           maxOuterSteps: settings.outerSteps)
                var s = solver.initialState()
                var trajectory = Trajectory()
                var last: HypergradientDiagnostics?
                while s.outerStep < settings.outerSteps {
                    let before = s.lambda
                    last = try solver.step(&s, trajectory: &trajectory).diagnostics
                    out.lambdaNorms.append(s.lambda.norm)
                    out.outerSteps = s.outerStep
                    guard s.lambda.norm <= bound else {
                        let g = LocalDerivatives(problem: problem, lambda: before, weights: s.weights).innerGradient().norm
                        throw Diverged(step: s.outerStep, norm: s.lambda.norm, bound: bound, innerGradient: g, status: last?.status ?? "")
                    }
                    if (s.lambda - before).norm <= 1e-10 * max(before.norm, .leastNormalMagnitude) { out.converged = true; break }
                }
                var w = concept.initialInnerState(weights: s.initialWeights)
                try concept.updateInner(problem, lambda: s.lambda, state: &w, initialWeights: s.initialWeights)
                out.lambda = s.lambda
                out.weights = w.weights
                out.outerLoss = problem.outerLoss(lambda: s.lambda, weights: w.weights)
                out.innerGradientNorm = LocalDerivatives(problem: problem, lambda: s.lambda, weights: w.weights).innerGradient().norm
                // The status up to its explanation ("breakdown at iteration 5"), then the relative residual.
                out.solveStatus = last.map { d in
                    (d.status.components(separatedBy: ":").first ?? d.status) + (d.relativeResidual.map { ", residual \(fmt($0, 2))" } ?? "")
                } ?? ""
            } catch let e as FailedRun {
                out.failure = e.reason
            } catch {
                out.failure = "\(error)"
            }
            return out
        }
        return go(spec.method(innerStep: settings.alpha))
    }

    /// 'auto' outer rate: 1/ρ with ρ the curvature of the outer objective along the first hypergradient,
    /// from a secant of two hypergradients (exact for the quadratic outer problem of the linear model).
    static func autoRate<P: BilevelProblem, Method: HypergradientMethod>(_ problem: P, method: Method, concept: ColdStart<SGD>) throws -> Double {
        var g = SeededGenerator(seed: 0)
        let w0 = problem.initialWeights(using: &g)
        func hypergradient(_ l: Tensor) throws -> Tensor {
            var s = concept.initialInnerState(weights: w0)
            try concept.updateInner(problem, lambda: l, state: &s, initialWeights: w0)
            return try method.hypergradient(of: problem, lambda: l, weights: s.weights, initialWeights: w0).gradient
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

    /// The method's hypergradient is not a descent direction of the outer objective ('auto' only).
    struct NoDescent: FailedRun {
        var method: String
        var curvature: Double
        var reason: String {
            "\(method) gives an ascent direction (outer curvature along it \(fmt(curvature, 3)) ≤ 0): the line search has no step, so it is not run"
        }
    }

    /// ‖λ‖ passed the bound: the outer iteration is diverging.
    struct Diverged: FailedRun {
        var step: Int, norm: Double, bound: Double, innerGradient: Double, status: String
        var reason: String {
            "diverging: ‖λ‖ = \(fmt(norm, 3)) passed the bound \(fmt(bound, 3)) at outer step \(step), stopped. " +
            "At the inner solution ‖∂J_in/∂w‖ = \(fmt(innerGradient, 2))" + (innerGradient > 1e-8 ? " (not a stationary point, which the implicit methods assume)" : "") +
            "; last solve: \(status). " + (innerGradient > 1e-8
                ? "Try more inner steps, a larger damping η, or a smaller outer learning rate."
                : "The inner point is stationary, so H v = ∂J_out/∂w itself has no solution (a part of ∂J_out/∂w in the null space of H, " +
                  "e.g. an original point off the learned grid): CG's steps grow without bound there; use the exact method, damping η > 0, or fewer CG iterations.")
        }
    }

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
        try s.split(separator: ",").map { item in
            let p = item.split(separator: ":").map(String.init)
            guard p.count == 2 else { throw UsageError("--original expects x:y pairs, got '\(item)'") }
            return (try Arguments.parseDouble(p[0], flag: "original", in: -100...100), try Arguments.parseDouble(p[1], flag: "original", in: -1e6...1e6))
        }
    }
}

/// A method that stopped with an error (e.g. a Neumann step above 2/λ_max as the Hessian changes).
extension BilevelError: AntiDistillation.FailedRun { var reason: String { description } }
