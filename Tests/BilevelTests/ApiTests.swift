import Foundation
import Testing
import Tape
import Layers
import Bilevel

/// The bilevel entry points a user calls (issue 15): one hypergradient per call with defaults, full unrolling's
/// explicit w₀, and the closed-form inner solution as a checked conformance.
@Suite("Bilevel API")
struct BilevelApiTests {
    /// J_in = ½‖w − λ‖² + ½ c‖w‖²: w*(λ) = λ/(1 + c) from any w₀.
    final class Counter: @unchecked Sendable { var calls = 0 }
    struct Shrinkage: ClosedFormInnerSolution {
        let c = 0.5
        let counter: Counter
        var initialLambda: Tensor { Tensor([1, -2]) }
        func initialWeights(using generator: inout SeededGenerator) -> Tensor { Tensor([3, 3]) }
        func innerObjective(lambda: Variable, weights w: Variable, step: Int) -> Variable {
            ((w - lambda).squared().sum() + w.squared().sum() * c) * 0.5
        }
        func outerObjective(lambda: Variable, weights w: Variable) -> Variable { (w - 1).squared().sum() * 0.5 }
        func solveInner(lambda: Tensor, from w0: Tensor) -> Tensor { counter.calls += 1; return (1 / (1 + c)) * lambda }
    }

    /// The call with defaults is the call with an explicit context, and F'(λ) = (w* − 1)/(1 + c) by hand.
    @Test func oneHypergradientIsOneCallWithDefaults() throws {
        let p = Shrinkage(counter: Counter())
        let lambda = Tensor([1, -2]), w = p.solveInner(lambda: lambda, from: .zeros([2]))
        let simple = try ExactHypergradient().hypergradient(of: p, lambda: lambda, weights: w)
        let explicit = try ExactHypergradient().hypergradient(of: p, lambda: lambda, weights: w,
                                                              context: HypergradientContext(initialWeights: nil, innerStep: 0))
        #expect(simple.gradient == explicit.gradient)
        let byHand = (1 / 1.5) * (w - Tensor([1, 1]))
        #expect(simple.gradient.maxAbsoluteDifference(byHand) < 1e-14)
    }

    @Test func fullUnrollingWithoutInitialWeightsSaysWhatToPass() throws {
        let p = Shrinkage(counter: Counter())
        let method = FullUnrolling(steps: 5, optimizer: SGD(learningRate: 0.5))
        #expect { try method.hypergradient(of: p, lambda: p.initialLambda, weights: .zeros([2])) } throws: { e in
            "\(e)".contains("full-unroll(K=5)") && "\(e)".contains("initial weights w₀") && "\(e)".contains("initialWeights:")
        }
        // With w₀ it differentiates the run from w₀ and ignores the weights passed in.
        let a = try method.hypergradient(of: p, lambda: p.initialLambda, weights: .zeros([2]), initialWeights: Tensor([3, 3]))
        let b = try method.hypergradient(of: p, lambda: p.initialLambda, weights: Tensor([7, 7]), initialWeights: Tensor([3, 3]))
        #expect(a.gradient == b.gradient)
    }

    /// Cold start and full warm start call `solveInner` (cold from w₀, warm from the current w) and run no
    /// optimizer step; `useExactSolve: false` trains instead, and a problem without the conformance always trains.
    @Test func solutionConceptsUseTheClosedFormWhenTheProblemHasOne() throws {
        let counter = Counter()
        let p = Shrinkage(counter: counter)
        let sgd = SGD(learningRate: 0.1)
        var cold = ColdStart(optimizer: sgd, steps: 3).initialInnerState(weights: Tensor([3, 3]))
        try ColdStart(optimizer: sgd, steps: 3).updateInner(p, lambda: Tensor([1.5, 3]), state: &cold, initialWeights: Tensor([3, 3]))
        #expect(counter.calls == 1 && cold.weights == Tensor([1, 2]) && cold.step == 0)
        var warm = WarmStart.full(optimizer: sgd).initialInnerState(weights: Tensor([3, 3]))
        try WarmStart.full(optimizer: sgd).updateInner(p, lambda: Tensor([1.5, 3]), state: &warm, initialWeights: Tensor([3, 3]))
        #expect(counter.calls == 2 && warm.weights == Tensor([1, 2]))
        var trained = ColdStart(optimizer: sgd, steps: 3, useExactSolve: false).initialInnerState(weights: Tensor([3, 3]))
        try ColdStart(optimizer: sgd, steps: 3, useExactSolve: false)
            .updateInner(p, lambda: Tensor([1.5, 3]), state: &trained, initialWeights: Tensor([3, 3]))
        #expect(counter.calls == 2 && trained.step == 3 && trained.weights != Tensor([1, 2]))
        // The same objectives without the conformance: trained, whatever methods the type has.
        let closure = ClosureProblem(initialLambda: p.initialLambda, initialWeights: Tensor([3, 3]),
                                     inner: { l, w, t in p.innerObjective(lambda: l, weights: w, step: t) },
                                     outer: { l, w in p.outerObjective(lambda: l, weights: w) })
        var plain = ColdStart(optimizer: sgd, steps: 3).initialInnerState(weights: Tensor([3, 3]))
        try ColdStart(optimizer: sgd, steps: 3).updateInner(closure, lambda: Tensor([1.5, 3]), state: &plain, initialWeights: Tensor([3, 3]))
        #expect(plain.step == 3 && plain.weights == trained.weights)
        // …and attached to it with withClosedFormInnerSolution, solved again.
        var attached = ColdStart(optimizer: sgd, steps: 3).initialInnerState(weights: Tensor([3, 3]))
        try ColdStart(optimizer: sgd, steps: 3).updateInner(closure.withClosedFormInnerSolution { l, _ in (1 / 1.5) * l },
                                                             lambda: Tensor([1.5, 3]), state: &attached, initialWeights: Tensor([3, 3]))
        #expect(attached.step == 0 && attached.weights == Tensor([1, 2]))
    }

    /// `TargetDistillation` has the closed form exactly when its model is linear in its parameters.
    @Test func targetDistillationSolvesLinearModelsInClosedForm() {
        let xs = Tensor(shape: [2, 1], scalars: [-1, 2])
        let linear = TargetDistillation(model: LinearModel(inputs: 1), learnedInputs: xs, originalInputs: xs,
                                        originalTargets: Tensor([0, 0]))
        let w = linear.solveInner(lambda: Tensor([1, 4]), from: .zeros([2]))   // a + b x through (−1, 1), (2, 4): a = 1, b = 2
        #expect(w.maxAbsoluteDifference(Tensor([1, 2])) < 1e-12)
        let mlp = TargetDistillation(model: MLP(widths: [1, 3, 1]), learnedInputs: xs, originalInputs: xs, originalTargets: Tensor([0, 0]))
        #expect(!((mlp as Any) is any ClosedFormInnerSolution))
        #expect((linear as Any) is any ClosedFormInnerSolution)
    }
}
