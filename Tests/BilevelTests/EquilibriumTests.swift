import Foundation
import Testing
import Tape
import Layers
@testable import Bilevel

/// PRIMER result 4 (and 3): with a strongly convex inner problem, partial warm start (one inner step per outer
/// step), full warm start and cold start all converge to the same λ*: the zero of the closed-form hypergradient.
@Suite("Solution-concept equilibria")
struct EquilibriumTests {
    /// Ridge regression, λ the L2 coefficient: J_in = ½ mean((Xw − y)²) + (λ/2)‖w‖², J_out = ½ mean((X°w − y°)²).
    /// w*(λ) = (A + λI)⁻¹c with A = XᵀX/n, c = Xᵀy/n; F′(λ) = −∇_wJ_outᵀ (A + λI)⁻¹ w*(λ).
    struct Ridge {
        let n = 6, d = 5, nv = 40
        let x: Tensor, y: Tensor, xv: Tensor, yv: Tensor
        init(seed: UInt64) {
            var g = SeededGenerator(seed: seed)
            let beta = Tensor.randomNormal([d, 1], using: &g)
            x = .randomNormal([n, d], using: &g)
            y = x.matmul(beta) + Tensor.randomNormal([n, 1], standardDeviation: 1.5, using: &g)
            xv = .randomNormal([nv, d], using: &g)
            yv = xv.matmul(beta) + Tensor.randomNormal([nv, 1], standardDeviation: 1.5, using: &g)
        }
        var a: Tensor { (1 / Double(n)) * x.matmul(x, transposeSelf: true) }
        var c: Tensor { ((1 / Double(n)) * x.matmul(y, transposeSelf: true)).reshaped([d]) }
        func wStar(_ l: Double) throws -> Tensor { try LinearAlgebra.choleskySolve(a + l * Tensor.identity(d), c) }
        func derivative(_ l: Double) throws -> Double {
            let w = try wStar(l)
            let gradOut = ((1 / Double(nv)) * xv.matmul(xv.matmul(w.reshaped([d, 1])) - yv, transposeSelf: true)).reshaped([d])
            return -gradOut.dot(try LinearAlgebra.choleskySolve(a + l * Tensor.identity(d), w))
        }
        /// λ* by bisection on the closed-form F′ over a bracket where it changes sign.
        func optimum(in bracket: (Double, Double)) throws -> Double {
            var (lo, hi) = bracket
            for _ in 0..<100 { let mid = 0.5 * (lo + hi); if try derivative(mid) < 0 { lo = mid } else { hi = mid } }
            return 0.5 * (lo + hi)
        }
        var problem: ClosureProblem {
            let (x, y, xv, yv, d) = (x, y, xv, yv, d)
            return ClosureProblem(
                initialLambda: Tensor([1.0]), initialWeights: .zeros([d]),
                inner: { l, w, _ in Loss.meanSquaredError(w.constant(x).matmul(w.reshaped([d, 1])), y) * 0.5 + l.sum() * w.squared().sum() * 0.5 },
                outer: { _, w in Loss.meanSquaredError(w.constant(xv).matmul(w.reshaped([d, 1])), yv) * 0.5 })
        }
    }

    @Test func partialWarmFullWarmAndColdStartReachTheSameLambda() throws {
        let r = Ridge(seed: 31)
        let bracket = (1e-3, 50.0)
        try #require(try r.derivative(bracket.0) < 0 && r.derivative(bracket.1) > 0, "the validation loss must have an interior minimum")
        let lambdaStar = try r.optimum(in: bracket)
        // Outer step 0.5/F″(λ*) (F″ by a central difference of the closed form), inner step 1/L.
        let curvature = try (r.derivative(lambdaStar * 1.001) - r.derivative(lambdaStar * 0.999)) / (0.002 * lambdaStar)
        let outer = SGD(learningRate: 0.5 / curvature)
        let inner = SGD(learningRate: 1 / (LinearAlgebra.symmetricEigen(r.a).values.max()! + 1))
        let concepts: [(String, any SolutionConcept)] = [
            ("partial warm (T = 1)", WarmStart(optimizer: inner, stepsPerOuterStep: 1)),
            ("full warm", WarmStart.full(optimizer: inner, maxSteps: 100_000, gradientTolerance: 1e-13)),
            ("cold", ColdStart(optimizer: inner, steps: 100_000, gradientTolerance: 1e-13)),
        ]
        for (name, concept) in concepts {
            let run = try solve(r.problem, concept, outer)
            #expect(abs(run.lambda.scalars[0] - lambdaStar) < 1e-9 * lambdaStar,
                    "\(name): λ = \(run.lambda.scalars[0]) vs λ* = \(lambdaStar) after \(run.outerSteps) steps")
        }
        #expect(abs(lambdaStar - 1) > 0.1, "λ must travel for the comparison to mean something (λ* = \(lambdaStar))")
    }

    private func solve<C: SolutionConcept>(_ p: ClosureProblem, _ concept: C, _ outer: SGD) throws -> BilevelRun {
        try BilevelSolver(problem: p, method: ExactHypergradient(), concept: concept, outerOptimizer: outer,
                          maxOuterSteps: 20_000, tolerance: 1e-14).run()
    }
}
