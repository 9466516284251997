import Testing
import Tape
import Layers
@testable import Bilevel

@Suite("Bilevel bad input")
struct BilevelBadInputTests {
    static var problem: ClosureProblem { ClosureProblem(initialLambda: Tensor([1]), initialWeights: .zeros([3]),
                                        inner: { l, w, _ in (w.squared() * Tensor([10, 1, 0.1])).sum() * 0.5 - w.sum() * l.sum() },
                                        outer: { _, w in w.squared().sum() }) }

    @Test func neumannStepAboveTwoOverLambdaMaxIsRefusedWithTheSafeStep() {
        #expect { try NeumannSeries(terms: 5, step: 0.3).hypergradient(of: Self.problem, lambda: Tensor([1]), weights: .zeros([3]), initialWeights: .zeros([3])) } throws: { e in
            let m = "\(e)"
            return m.contains("neumann") && m.contains("diverges") && m.contains("use a step below")
        }
    }

    @Test func exactRefusesProblemsAboveItsLimit() {
        let big = ClosureProblem(initialLambda: Tensor([1]), initialWeights: .zeros([500]),
                                 inner: { _, w, _ in w.squared().sum() }, outer: { _, w in w.sum() })
        #expect { try ExactHypergradient().hypergradient(of: big, lambda: Tensor([1]), weights: .zeros([500]), initialWeights: .zeros([500])) } throws: { e in
            "\(e)".contains("500 weights, above the limit of 400")
        }
    }

    @Test func cgOnAnIndefiniteHessianReportsBreakdownAndDampedRefuses() throws {
        let indefinite = ClosureProblem(initialLambda: Tensor([1]), initialWeights: .zeros([2]),
                                        inner: { l, w, _ in (w.squared() * Tensor([1, -1])).sum() * 0.5 - w.sum() * l.sum() },
                                        outer: { _, w in w.sum() })
        let ctx = HypergradientContext(initialWeights: .zeros([2]))
        let cg = try TruncatedConjugateGradient(iterations: 5).hypergradient(of: indefinite, lambda: Tensor([1]), weights: .zeros([2]), context: ctx)
        #expect(cg.diagnostics.status.contains("breakdown"))
        #expect { try DampedInverse(damping: 0.5).hypergradient(of: indefinite, lambda: Tensor([1]), weights: .zeros([2]), context: ctx) } throws: { e in
            "\(e)".contains("increase the damping")
        }
    }

    @Test func divergingInnerLoopNamesTheStepAndTheFix() {
        let solver = BilevelSolver(problem: Self.problem, method: IdentityInverse(),
                                   concept: ColdStart(optimizer: SGD(learningRate: 1), steps: 200),
                                   outerOptimizer: SGD(learningRate: 0.1), maxOuterSteps: 3)
        #expect { try solver.run() } throws: { e in
            let m = "\(e)"
            return m.contains("outer step 0") || (m.contains("inner step") && m.contains("lower the inner learning rate"))
        }
    }

    @Test func zeroOrNegativeTermsAreRefused() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) { _ = NeumannSeries(terms: 0, step: 0.1) }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("NeumannSeries: terms K must be ≥ 1, got 0"), "stderr: \(e)")
        let r2 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) { _ = TruncatedConjugateGradient(iterations: -1) }
        let e2 = String(decoding: r2?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e2.contains("TruncatedConjugateGradient: iterations K must be ≥ 1, got -1"), "stderr: \(e2)")
    }

    @Test func nonPositiveDampingAndMismatchedComparisonsAreRefusedWithTheirShapes() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) { _ = DampedInverse(damping: 0) }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("DampedInverse: damping η must be positive and finite, got 0.0"), "stderr: \(e)")
        let r2 = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = compare(Tensor([1, 2]), toExact: Tensor([1, 2, 3]))
        }
        let e2 = String(decoding: r2?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e2.contains("compare: hypergradient of shape (2) vs exact of shape (3)"), "stderr: \(e2)")
    }

    /// A saddle whose dominant eigenvalue is negative (μ = −3 beside μ = 1): the Neumann series diverges for every
    /// step, so it is refused with the fix; damping above 3 makes H + ηI positive definite and gives (H + ηI)⁻¹b.
    @Test func neumannRefusesADominantNegativeEigenvalueAndDampingRepairsIt() throws {
        let saddle = ClosureProblem(initialLambda: Tensor([1]), initialWeights: .zeros([2]),
                                    inner: { l, w, _ in (w.squared() * Tensor([-3, 1])).sum() * 0.5 - w.sum() * l.sum() },
                                    outer: { _, w in w.sum() })
        let ctx = HypergradientContext(initialWeights: .zeros([2]))
        #expect { try NeumannSeries(terms: 5, step: 0.1).hypergradient(of: saddle, lambda: Tensor([1]), weights: .zeros([2]), context: ctx) } throws: { e in
            let m = "\(e)"
            return m.contains("neumann") && m.contains("negative eigenvalue ≈ -") && m.contains("DampedInverse")
        }
        // b = ∂J_out/∂w = (1, 1), M = ∂²J_in/∂w∂λ = −(1, 1): g = −Mᵀ(H + ηI)⁻¹b = 1/(η − 3) + 1/(η + 1).
        let eta = 4.0
        let g = try DampedInverse(damping: eta).hypergradient(of: saddle, lambda: Tensor([1]), weights: .zeros([2]), context: ctx)
        #expect(abs(g.gradient.scalars[0] - (1 / (eta - 3) + 1 / (eta + 1))) < 1e-12)
    }

    @Test func nanDataGivesAnErrorNotANaNResult() {
        let nanProblem = ClosureProblem(initialLambda: Tensor([.nan]), initialWeights: .zeros([2]),
                                        inner: { l, w, _ in w.squared().sum() - w.sum() * l.sum() }, outer: { _, w in w.sum() })
        let solver = BilevelSolver(problem: nanProblem, method: ExactHypergradient(),
                                   concept: ColdStart(optimizer: SGD(learningRate: 0.1), steps: 10),
                                   outerOptimizer: SGD(learningRate: 0.1), maxOuterSteps: 3)
        #expect(throws: BilevelError.self) { try solver.run() }
    }
}
