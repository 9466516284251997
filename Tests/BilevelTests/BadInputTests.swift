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
        #expect { try NeumannSeries(terms: 5, step: 0.3).hypergradient(of: Self.problem, lambda: Tensor([1]), weights: .zeros([3]),
                                                                      context: HypergradientContext(initialWeights: .zeros([3]))) } throws: { e in
            let m = "\(e)"
            return m.contains("neumann") && m.contains("diverges") && m.contains("use a step below")
        }
    }

    @Test func exactRefusesProblemsAboveItsLimit() {
        let big = ClosureProblem(initialLambda: Tensor([1]), initialWeights: .zeros([500]),
                                 inner: { _, w, _ in w.squared().sum() }, outer: { _, w in w.sum() })
        #expect { try ExactHypergradient().hypergradient(of: big, lambda: Tensor([1]), weights: .zeros([500]),
                                                         context: HypergradientContext(initialWeights: .zeros([500]))) } throws: { e in
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
        await #expect(processExitsWith: .failure) { _ = NeumannSeries(terms: 0, step: 0.1) }
        await #expect(processExitsWith: .failure) { _ = TruncatedConjugateGradient(iterations: -1) }
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
