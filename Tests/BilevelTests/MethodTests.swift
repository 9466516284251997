import Foundation
import Testing
import Tape
import Layers
@testable import Bilevel

@Suite("Hypergradient methods")
struct MethodTests {
    /// A strongly convex quadratic: J_in = ½wᵀAw − wᵀBλ + ¼‖λ‖², J_out = ½‖w − c‖² + eᵀλ.
    /// w*(λ) = A⁻¹Bλ, and F(λ) = J_out(λ, w*(λ)) has gradient e + BᵀA⁻¹(w* − c).
    struct Quadratic {
        let a: Tensor, b: Tensor, c: Tensor, e: Tensor
        /// A⁻¹B by Cholesky (throws if A is not positive definite), so w*(λ) = A⁻¹Bλ.
        let responseMatrix: Tensor
        let n = 5, m = 3
        init(seed: UInt64) throws {
            var g = SeededGenerator(seed: seed)
            a = spd(5, shift: 0.2, &g)
            b = randomMatrix(5, 3, &g)
            c = Tensor.randomNormal([5], using: &g)
            e = Tensor.randomNormal([3], using: &g)
            let (a, b) = (a, b)
            var columns: [Tensor] = []   // A⁻¹ bⱼ for each column bⱼ of B
            for j in 0..<3 { columns.append(try LinearAlgebra.choleskySolve(a, Tensor((0..<5).map { b[$0, j] }))) }
            responseMatrix = Tensor(shape: [5, 3], scalars: (0..<15).map { columns[$0 % 3].scalars[$0 / 3] })
        }
        func wStar(_ l: Tensor) -> Tensor { mv(responseMatrix, l) }
        var problem: ProblemWithClosedFormInnerSolution<ClosureProblem> {
            let (a, b, c, e, n, m) = (a, b, c, e, n, m)
            return ClosureProblem(
                initialLambda: .zeros([m]), initialWeights: .zeros([n]),
                inner: { l, w, _ in
                    let wr = w.reshaped([1, n])
                    return wr.matmul(a).reshaped([n]).dot(w) * 0.5 - wr.matmul(b).reshaped([m]).dot(l) + l.squared().sum() * 0.25
                },
                outer: { l, w in (w - c).squared().sum() * 0.5 + l.dot(l.constant(e)) })
                .withClosedFormInnerSolution { [responseMatrix] l, _ in mv(responseMatrix, l) }
        }
        func outer(_ l: Tensor) -> Double { let w = wStar(l); return 0.5 * (w - c).dot(w - c) + e.dot(l) }
        var largestEigenvalue: Double { LinearAlgebra.symmetricEigen(a).values.max()! }
    }

    /// 7: every method agrees with central finite differences of F(λ) = J_out(λ, w*(λ)) through the full inner
    /// solve, on a small strongly convex problem (truncated methods given enough terms to converge).
    @Test func everyMethodMatchesFiniteDifferencesOnAStronglyConvexProblem() throws {
        let q = try Quadratic(seed: 7)
        var g = SeededGenerator(seed: 8)
        let lambda = Tensor.randomNormal([3], using: &g)
        let w = q.wStar(lambda)
        let h = 1e-5
        let fd = Tensor((0..<3).map { i -> Double in
            var lp = lambda, lm = lambda
            lp.scalars[i] += h; lm.scalars[i] -= h
            return (q.outer(lp) - q.outer(lm)) / (2 * h)
        })
        let alpha = 1 / q.largestEigenvalue
        let methods: [any HypergradientMethod] = [
            ExactHypergradient(), NeumannSeries(terms: 3000, step: alpha), TruncatedConjugateGradient(iterations: 5),
            DampedInverse(damping: 1e-12), TruncatedUnrolling(steps: 3000, optimizer: SGD(learningRate: alpha)),
            FullUnrolling(steps: 3000, optimizer: SGD(learningRate: alpha), checkpointInterval: 60),
        ]
        for method in methods {
            let hg = try method.hypergradient(of: q.problem, lambda: lambda, weights: w, initialWeights: .zeros([5]))
            #expect(relativeError(hg.gradient, fd) < 1e-8, "\(method.name): \(hg.gradient.scalars) vs FD \(fd.scalars)")
        }
        // Identity is biased: it must NOT match (this keeps the comparison honest).
        let id = try IdentityInverse().hypergradient(of: q.problem, lambda: lambda, weights: w, initialWeights: .zeros([5]))
        #expect(relativeError(id.gradient, fd) > 1e-3)
    }

    /// 3: K unrolled SGD steps from a stationary point equal the K-term Neumann hypergradient (quadratic: 1e-10),
    /// and Neumann matches its closed form α Σ_{k<K} (I − αH)^k.
    @Test func unrollingFromAStationaryPointEqualsNeumannOnAQuadratic() throws {
        let q = try Quadratic(seed: 9)
        let lambda = Tensor([0.3, -0.2, 1.0])
        let w = q.wStar(lambda)
        let ctx = HypergradientContext(initialWeights: .zeros([5]))
        let alpha = 0.5 / q.largestEigenvalue
        for k in [1, 2, 5, 20] {
            let neumann = try NeumannSeries(terms: k, step: alpha).hypergradient(of: q.problem, lambda: lambda, weights: w, context: ctx)
            let unrolled = try TruncatedUnrolling(steps: k, optimizer: SGD(learningRate: alpha)).hypergradient(of: q.problem, lambda: lambda, weights: w, context: ctx)
            #expect(relativeError(unrolled.gradient, neumann.gradient) < 1e-10, "K = \(k)")
            // Closed form: g = ∂J_out/∂λ − Mᵀ v with M = −B, v = α Σ_{j<K} (I − αA)^j (w − c).
            var term = alpha * (w - q.c), v = Tensor.zeros([5])
            for _ in 0..<k { v = v + term; term = term - alpha * mv(q.a, term) }
            let expected = q.e + mv(q.b.transposed(), v)
            #expect(relativeError(neumann.gradient, expected) < 1e-12, "Neumann closed form, K = \(k)")
        }
    }

    /// 3 on a small tanh MLP trained to a stationary point: unrolled K = Neumann K to 1e-6.
    @Test func unrollingFromAStationaryPointEqualsNeumannOnAnMLP() throws {
        var g = SeededGenerator(seed: 10)
        let mlp = MLP(widths: [2, 4, 1], activation: .tanh)
        let x = Tensor.randomNormal([6, 2], using: &g), y = Tensor.randomNormal([6, 1], using: &g)
        let xv = Tensor.randomNormal([5, 2], using: &g), yv = Tensor.randomNormal([5, 1], using: &g)
        // λ scales the targets; weight decay 0.05 makes the stationary point isolated and quick to reach.
        let problem = ClosureProblem(
            initialLambda: Tensor([1.0]), initialWeights: mlp.initialParameters(using: &g),
            inner: { l, w, _ in Loss.meanSquaredError(mlp(w.constant(x), parameters: w), w.constant(y) * l.sum()) + w.squared().sum() * 0.05 },
            outer: { _, w in Loss.meanSquaredError(mlp(w.constant(xv), parameters: w), yv) })
        var s = InnerState(optimizer: SGD(learningRate: 0.2).initialState(weights: problem.initialWeightsValue))
        try ColdStart(optimizer: SGD(learningRate: 0.2), steps: 50_000, gradientTolerance: 1e-12)
            .updateInner(problem, lambda: Tensor([1.0]), state: &s, initialWeights: problem.initialWeightsValue)
        let d = LocalDerivatives(problem: problem, lambda: Tensor([1.0]), weights: s.weights)
        #expect(d.innerGradient().norm < 1e-11, "not stationary: ‖∇‖ = \(d.innerGradient().norm)")
        let alpha = 0.5 / abs(d.dominantEigenvalue(iterations: 100))
        let ctx = HypergradientContext(initialWeights: problem.initialWeightsValue)
        for k in [1, 4, 16] {
            let neumann = try NeumannSeries(terms: k, step: alpha).hypergradient(of: problem, lambda: Tensor([1.0]), weights: s.weights, context: ctx)
            let unrolled = try TruncatedUnrolling(steps: k, optimizer: SGD(learningRate: alpha)).hypergradient(of: problem, lambda: Tensor([1.0]), weights: s.weights, context: ctx)
            #expect(relativeError(unrolled.gradient, neumann.gradient) < 1e-6, "K = \(k): \(unrolled.gradient.scalars) vs \(neumann.gradient.scalars)")
        }
    }

    /// 4: the damped hypergradient equals the exact hypergradient of the proximal inner objective
    /// J_in + (η/2)‖w − w_c‖² at its stationary point w_c (here: an overparameterized, singular H).
    @Test func dampedEqualsExactOfTheProximalProblem() throws {
        var g = SeededGenerator(seed: 11)
        let phi = randomMatrix(3, 6, &g), c = Tensor.randomNormal([6], using: &g)
        let inner: (Variable, Variable, Int) -> Variable = { l, w, _ in
            (w.reshaped([1, 6]).matmul(phi, transposeOther: true).reshaped([3]) - l).squared().sum() * 0.5
        }
        let outer: (Variable, Variable) -> Variable = { _, w in (w - c).squared().sum() * 0.5 }
        let lambda = Tensor.randomNormal([3], using: &g)
        let w = mv(LinearAlgebra.pseudoinverse(phi).inverse, lambda)       // a stationary point of J_in
        let ctx = HypergradientContext(initialWeights: .zeros([6]))
        for eta in [0.01, 0.3, 2.0] {
            let damped = try DampedInverse(damping: eta).hypergradient(
                of: ClosureProblem(initialLambda: lambda, initialWeights: .zeros([6]), inner: inner, outer: outer),
                lambda: lambda, weights: w, context: ctx)
            let prox = ClosureProblem(initialLambda: lambda, initialWeights: .zeros([6]),
                                      inner: { l, v, t in inner(l, v, t) + (v - w).squared().sum() * (eta / 2) }, outer: outer)
            let exact = try ExactHypergradient().hypergradient(of: prox, lambda: lambda, weights: w, context: ctx)
            #expect(relativeError(damped.gradient, exact.gradient) < 1e-8, "η = \(eta)")
            #expect(exact.diagnostics.rank == 6)
        }
    }

    @Test func spectralFiltersMatchTheirClosedForms() throws {
        let mu = (0..<12).map { pow(10, -4 + 4 * Double($0) / 11) }
        let (k, alpha) = (10, 0.9)
        let neumann = try SpectralFilter.measure(NeumannSeries(terms: k, step: alpha, stabilityCheckIterations: 0), eigenvalues: mu)
        let unrolled = try SpectralFilter.measure(TruncatedUnrolling(steps: k, optimizer: SGD(learningRate: alpha)), eigenvalues: mu)
        let damped = try SpectralFilter.measure(DampedInverse(damping: 0.05), eigenvalues: mu)
        let exact = try SpectralFilter.measure(ExactHypergradient(), eigenvalues: mu)
        for (i, m) in mu.enumerated() {
            let closed = (1 - pow(1 - alpha * m, Double(k))) / m
            #expect(abs(neumann[i] - closed) < 1e-12 * closed)
            #expect(abs(SpectralFilter.neumann(m, terms: k, step: alpha) - closed) < 1e-9 * closed)
            #expect(abs(unrolled[i] - closed) < 1e-12 * closed)
            #expect(abs(damped[i] - 1 / (m + 0.05)) < 1e-9 / (m + 0.05))
            #expect(abs(exact[i] - 1 / m) < 1e-8 / m)
        }
        // CG with K ≥ the number of distinct eigenvalues is exact (in exact arithmetic; a well-conditioned
        // spectrum keeps rounding small), and with fewer iterations it is not.
        let few = [0.1, 0.25, 0.5, 0.8, 1.0]
        let cg = try SpectralFilter.measure(TruncatedConjugateGradient(iterations: 5), eigenvalues: few)
        let cg2 = try SpectralFilter.measure(TruncatedConjugateGradient(iterations: 2), eigenvalues: few)
        for (i, m) in few.enumerated() { #expect(abs(cg[i] - 1 / m) < 1e-10 / m) }
        #expect(zip(cg2, few).map { abs($0 - 1 / $1) * $1 }.max()! > 1e-3)
        // Neumann's filter saturates at αK for μ ≪ 1/(αK) and approaches 1/μ for μ ≫ 1/(αK).
        #expect(abs(neumann[0] - alpha * Double(k)) < 1e-2 * alpha * Double(k))
        #expect(abs(neumann[11] - 1 / mu[11]) < 1e-6)
    }
}

@Suite("Bilevel driver")
struct DriverTests {
    @Test func progressIsReportedEveryNStepsAndCanCancel() throws {
        let q = try MethodTests.Quadratic(seed: 3)
        final class Log: @unchecked Sendable { var steps: [Int] = [] }
        let log = Log()
        let solver = BilevelSolver(problem: q.problem, method: ExactHypergradient(), concept: ColdStart(optimizer: SGD(learningRate: 0.1), steps: 0),
                                   outerOptimizer: SGD(learningRate: 0.01), maxOuterSteps: 100, lambdaStride: 7, progressInterval: 5,
                                   progress: { p in log.steps.append(p.outerStep); return p.outerStep >= 20 ? .stop : .proceed })
        let run = try solver.run()
        #expect(log.steps == [5, 10, 15, 20])
        #expect(run.cancelled && run.outerSteps == 20)
        #expect(run.trajectory.count == 20 && run.trajectory.lambdas.map(\.step) == [0, 7, 14, 20])
        #expect(run.trajectory.lambdaDistance.first == 0 && run.trajectory.lambdaDistance.last! > 0)
    }

    @Test func truncatedMethodsCompareToExactByCosineAndRelativeError() throws {
        let q = try MethodTests.Quadratic(seed: 4)
        let lambda = Tensor([0.2, 0.1, -0.4]), w = q.wStar(lambda), ctx = HypergradientContext(initialWeights: .zeros([5]))
        let exact = try ExactHypergradient().hypergradient(of: q.problem, lambda: lambda, weights: w, context: ctx).gradient
        let alpha = 0.5 / q.largestEigenvalue
        var previous = Double.infinity
        for k in [1, 5, 50, 500] {
            let g = try NeumannSeries(terms: k, step: alpha).hypergradient(of: q.problem, lambda: lambda, weights: w, context: ctx).gradient
            let c = compare(g, toExact: exact)
            #expect(c.relativeError < previous, "the Neumann error must shrink with K")
            previous = c.relativeError
            if k == 500 { #expect(c.cosine > 1 - 1e-8 && c.relativeError < 1e-3, "\(c)") }
        }
        let same = compare(exact, toExact: exact)
        #expect(abs(same.cosine - 1) < 1e-15 && same.relativeError == 0)
    }
}
