import Foundation
import Testing
import Tape
import Layers
@testable import Bilevel

/// The closed-form cold start of dataset distillation into a linear classifier with soft labels: the limit of
/// gradient descent from w₀ and its derivative, checked against long gradient descent, full unrolling and finite
/// differences (none of which use the closed form).
@Suite("Dataset distillation: converged training in closed form")
struct DistillationLimitTests {
    /// d = 4 features, 3 classes, 30 real points; k synthetic points with random soft-label logits; w₀ ~ N(0, 0.3²).
    static func problem(k: Int, seed: UInt64 = 3, softLabels: Bool = true, weightDecay: Double = 0) -> (DatasetDistillation<LinearModel>, Tensor) {
        var g = SeededGenerator(seed: seed)
        let real = Dataset(inputs: .randomNormal([30, 4], using: &g), labels: (0..<30).map { $0 % 3 }, classCount: 3)
        let model = LinearModel(inputs: 4, outputs: 3, initialization: .normal(standardDeviation: 0.3))
        let p = DatasetDistillation(model: model, real: real, initialSynthetic: .randomNormal([k, 4], standardDeviation: 0.7, using: &g),
                                    syntheticLabels: (0..<k).map { $0 % 3 }, softLabels: softLabels,
                                    initialLabelLogits: .randomNormal([k, 3], using: &g), weightsSeed: seed, innerWeightDecay: weightDecay)
        var unused = SeededGenerator(seed: 0)
        return (p, p.initialWeights(using: &unused))
    }

    @Test(arguments: [1, 2])
    func closedFormIsWhereGradientDescentFromW0Converges(k: Int) throws {
        let (p, w0) = Self.problem(k: k)
        let closed = try #require(p.solveInner(lambda: p.initialLambda, from: w0))
        let descent = try retrain(p, lambda: p.initialLambda, initialWeights: w0,
                                  concept: ColdStart(optimizer: SGD(learningRate: 0.3), steps: 200_000, gradientTolerance: 1e-13,
                                                     useExactSolve: false)).weights
        #expect(relativeError(closed, descent) < 1e-9, "closed form vs gradient descent: \(relativeError(closed, descent))")
        // It fits the soft labels exactly: softmax of the synthetic logits equals softmax(Z).
        let fitted = evaluate({ v in p.model(v[0].constant(p.syntheticInputs(p.initialLambda)), parameters: v[0]).softmax(alongAxis: 1) }, at: [closed])
        #expect(relativeError(fitted, p.syntheticLabelDistribution(p.initialLambda)) < 1e-12)
    }

    /// dJ_out(λ, w∞(λ))/dλ against full unrolling of a long run from w₀ and against central finite differences of
    /// λ ↦ J_out(λ, w∞(λ)) (forward evaluations only).
    @Test(arguments: [1, 2])
    func hypergradientIsTheLimitOfFullUnrollingAndMatchesFiniteDifferences(k: Int) throws {
        let (p, w0) = Self.problem(k: k)
        var g = SeededGenerator(seed: 9)
        let lambda = p.initialLambda + 0.1 * Tensor.randomNormal(p.initialLambda.shape, using: &g)
        let context = HypergradientContext(initialWeights: w0)
        let closed = try ConvergedTrainingHypergradient().hypergradient(of: p, lambda: lambda, weights: w0, context: context).gradient
        let unrolled = try FullUnrolling(steps: 4000, optimizer: SGD(learningRate: 0.3))
            .hypergradient(of: p, lambda: lambda, weights: w0, context: context).gradient
        #expect(relativeError(closed, unrolled) < 1e-7, "closed form vs 4000 unrolled steps: \(relativeError(closed, unrolled))")
        func f(_ l: Tensor) throws -> Double { p.outerLoss(lambda: l, weights: try #require(p.solveInner(lambda: l, from: w0))) }
        let h = 1e-5
        let fd = Tensor(try (0..<lambda.count).map { i in
            var lp = lambda, lm = lambda
            lp.scalars[i] += h; lm.scalars[i] -= h
            return (try f(lp) - f(lm)) / (2 * h)
        })
        #expect(relativeError(closed, fd) < 1e-7, "closed form vs finite differences: \(relativeError(closed, fd))")
        // The point is not stationary for the outer problem, and the hypergradient moves both images and labels.
        let parts = p.layout.tensors(of: closed)
        #expect(parts[0].norm > 1e-3 && parts[1].norm > 1e-3)
    }

    /// Why cold start does not use the implicit hypergradient: at the converged w∞ the exact (min-norm, H⁺) implicit
    /// hypergradient is the derivative of projecting a point that is already on the solution set. It agrees with the
    /// derivative of training from w₀ in the label logits (moving Z shifts the solution set in parallel), but not in
    /// the images, where the solution set also turns and w₀ — off the set — feels the turn.
    @Test func implicitHypergradientAgreesInTheLabelsButNotInTheImages() throws {
        let (p, w0) = Self.problem(k: 2)
        let lambda = p.initialLambda
        let converged = try #require(p.solveInner(lambda: lambda, from: w0))
        let closed = try ConvergedTrainingHypergradient().hypergradient(of: p, lambda: lambda, weights: w0,
                                                                        context: HypergradientContext(initialWeights: w0)).gradient
        let implicit = try ExactHypergradient().hypergradient(of: p, lambda: lambda, weights: converged,
                                                              context: HypergradientContext(initialWeights: w0)).gradient
        let (c, i) = (p.layout.tensors(of: closed), p.layout.tensors(of: implicit))
        #expect(relativeError(i[1], c[1]) < 1e-6, "label logits: \(relativeError(i[1], c[1]))")
        #expect(relativeError(i[0], c[0]) > 0.05, "images: \(relativeError(i[0], c[0]))")
    }

    @Test func noClosedFormWhereItDoesNotApply() throws {
        let (hard, w0) = Self.problem(k: 1, softLabels: false)
        #expect(hard.solveInner(lambda: hard.initialLambda, from: w0) == nil, "hard labels: the minimum is at infinity")
        let (decayed, _) = Self.problem(k: 1, weightDecay: 0.1)
        #expect(decayed.solveInner(lambda: decayed.initialLambda, from: w0) == nil, "weight decay: another minimizer")
        let (two, _) = Self.problem(k: 2)
        var lambda = two.initialLambda
        for j in 0..<4 { lambda.scalars[4 + j] = lambda.scalars[j] }   // both synthetic images equal
        #expect(two.solveInner(lambda: lambda, from: w0) == nil, "identical images with different labels cannot both be fitted")
        #expect(throws: BilevelError.self) {
            try ConvergedTrainingHypergradient().hypergradient(of: two, lambda: lambda, weights: w0, context: HypergradientContext(initialWeights: w0))
        }
    }
}
