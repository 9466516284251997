import Foundation
import Testing
import Tape
import Layers
@testable import Bilevel

/// The closed forms of PRIMER section 3, each computed independently (SVD pseudoinverse, Cholesky).
@Suite("Bilevel closed forms")
struct BilevelClosedFormTests {
    /// Result 1: gradient descent on ½‖Φw − t‖² (underdetermined) from w₀ converges to w₀ + Φ⁺(t − Φw₀).
    @Test func gradientDescentFindsTheSolutionClosestToTheStart() throws {
        var g = SeededGenerator(seed: 1)
        let phi = randomMatrix(3, 6, &g), t = Tensor.randomNormal([3], using: &g), w0 = Tensor.randomNormal([6], using: &g)
        let problem = ClosureProblem(initialLambda: t, initialWeights: w0,
                                     inner: { l, w, _ in (w.reshaped([1, 6]).matmul(phi, transposeOther: true).reshaped([3]) - l).squared().sum() * 0.5 },
                                     outer: { _, w in w.sum() })
        let lmax = LinearAlgebra.symmetricEigen(phi.matmul(phi, transposeOther: true)).values.max()!
        let cold = ColdStart(optimizer: SGD(learningRate: 1 / lmax), steps: 100_000, gradientTolerance: 1e-14)
        let trained = try retrain(problem, lambda: t, initialWeights: w0, concept: cold).weights
        let pinv = LinearAlgebra.pseudoinverse(phi).inverse
        let expected = w0 + mv(pinv, t - mv(phi, w0))
        #expect((trained - expected).norm < 1e-8, "‖w − w*‖ = \((trained - expected).norm)")
    }

    /// Result 2 on anti-distillation: cold start + exact hypergradient converges to the outer solution
    /// closest to λ₀. With w*(λ) = Φ⁺λ (w₀ = 0), J_out = ½(aᵀλ − y₀)² with a = Φ⁺ᵀφ(x₀); the closest solution is
    /// λ₀ + a (y₀ − aᵀλ₀)/‖a‖².
    @Test func antiDistillationExactColdStartReachesTheClosestOuterSolution() throws {
        let features = FourierFeatures(frequencies: 10, profile: .paperDefault)
        let xs = Tensor(shape: [13, 1], scalars: (0..<13).map { -Double.pi + 2 * Double.pi * (Double($0) + 0.5) / 13 })
        let phi = features(xs)                                    // (13, 21)
        let x0 = Tensor(shape: [1, 1], scalars: [0.4]), y0 = 1.5
        let phi0 = features(x0).reshaped([21])
        var g = SeededGenerator(seed: 2)
        let lambda0 = Tensor.randomNormal([13], standardDeviation: 0.3, using: &g)
        let model = FourierRegressor(features: features)
        let pinv = LinearAlgebra.pseudoinverse(phi).inverse      // (21, 13)
        let problem = ClosureProblem(
            initialLambda: lambda0, initialWeights: .zeros([21]),
            inner: { l, w, _ in (model(w.constant(xs), parameters: w) - l.reshaped([13, 1])).squared().sum() * 0.5 },
            outer: { _, w in (model(w.constant(x0), parameters: w) - y0).squared().sum() * 0.5 })
            .withClosedFormInnerSolution { l, w0 in w0 + mv(pinv, l - mv(phi, w0)) }
        let a = mv(pinv.transposed(), phi0)
        let expected = lambda0 + ((y0 - a.dot(lambda0)) / a.dot(a)) * a
        let solver = BilevelSolver(problem: problem, method: ExactHypergradient(), concept: ColdStart(optimizer: SGD(learningRate: 0.1), steps: 0),
                                   outerOptimizer: SGD(learningRate: 0.5 / a.dot(a)), maxOuterSteps: 200, tolerance: 1e-13)
        let run = try solver.run()
        #expect((run.lambda - expected).norm < 1e-6, "‖λ − λ*‖ = \((run.lambda - expected).norm) after \(run.outerSteps) steps")
        #expect(run.trajectory.outerLoss.last! < 1e-12 || run.converged)
    }

    /// 5: ridge regression with the L2 coefficient as λ. w*(λ) = (A + λI)⁻¹c with A = XᵀX/n, c = Xᵀy/n;
    /// dJ_out/dλ = −∇_wJ_outᵀ (A + λI)⁻¹ w*.  Then full warm start and cold start give the same λ trajectory.
    @Test func ridgeHypergradientMatchesClosedFormAndWarmEqualsCold() throws {
        var g = SeededGenerator(seed: 3)
        let n = 8, d = 4
        let x = randomMatrix(n, d, &g), y = Tensor.randomNormal([n, 1], using: &g)
        let xv = randomMatrix(6, d, &g), yv = Tensor.randomNormal([6, 1], using: &g)
        let inner: (Variable, Variable, Int) -> Variable = { l, w, _ in
            let pred = w.constant(x).matmul(w.reshaped([d, 1]))
            return Loss.meanSquaredError(pred, y) * 0.5 + l.sum() * w.squared().sum() * 0.5
        }
        let outer: (Variable, Variable) -> Variable = { _, w in Loss.meanSquaredError(w.constant(xv).matmul(w.reshaped([d, 1])), yv) * 0.5 }
        let a = (1 / Double(n)) * x.matmul(x, transposeSelf: true)
        let c = ((1 / Double(n)) * x.matmul(y, transposeSelf: true)).reshaped([d])
        func wStar(_ l: Double) throws -> Tensor { try LinearAlgebra.choleskySolve(a + l * Tensor.identity(d), c) }
        let lambda = 0.3
        let w = try wStar(lambda)
        let gradOut = ((1 / 6.0) * xv.matmul(xv.matmul(w.reshaped([d, 1])) - yv, transposeSelf: true)).reshaped([d])
        let expected = -gradOut.dot(try LinearAlgebra.choleskySolve(a + lambda * Tensor.identity(d), w))
        let problem = ClosureProblem(initialLambda: Tensor([lambda]), initialWeights: .zeros([d]), inner: inner, outer: outer)
            .withClosedFormInnerSolution { l, _ in try! wStar(l.scalars[0]) }
        for method in [ExactHypergradient() as any HypergradientMethod, TruncatedConjugateGradient(iterations: d),
                       DampedInverse(damping: 1e-13)] {
            let hg = try method.hypergradient(of: problem, lambda: Tensor([lambda]), weights: w, initialWeights: .zeros([d]))
            #expect(abs(hg.gradient.scalars[0] - expected) < 1e-9 * abs(expected), "\(method.name): \(hg.gradient.scalars[0]) vs \(expected)")
        }
        // Strongly convex inner problem: full warm start (continue from the previous w to convergence) and cold start
        // (restart from w₀) follow the same λ trajectory. Both train with GD to a gradient tolerance (no exact solve).
        let trained = ClosureProblem(initialLambda: Tensor([0.5]), initialWeights: .zeros([d]), inner: inner, outer: outer)
        let opt = SGD(learningRate: 0.5)
        let cold = try BilevelSolver(problem: trained, method: ExactHypergradient(),
                                     concept: ColdStart(optimizer: opt, steps: 20_000, gradientTolerance: 1e-13),
                                     outerOptimizer: SGD(learningRate: 0.5), maxOuterSteps: 15).run()
        let warm = try BilevelSolver(problem: trained, method: ExactHypergradient(),
                                     concept: WarmStart.full(optimizer: opt, maxSteps: 20_000, gradientTolerance: 1e-13),
                                     outerOptimizer: SGD(learningRate: 0.5), maxOuterSteps: 15).run()
        let diffs = zip(cold.trajectory.lambdas, warm.trajectory.lambdas).map { ($0.lambda - $1.lambda).norm }
        #expect(diffs.max()! < 1e-9, "max λ difference \(diffs.max()!)")
        #expect((cold.lambda - Tensor([0.5])).norm > 1e-3, "λ must actually move for the comparison to mean something")
    }

    /// 6 (PRIMER result 5): one synthetic datapoint (x_i, y_i) whose input and target cycle through a list;
    /// the solution sets {w : φ(x_i)·w = y_i} are intersecting hyperplanes. Full warm start (GD from the
    /// previous w = projection) converges to their intersection (Kaczmarz); cold start (GD from w₀) does not.
    @Test func warmStartRemembersEveryDatapointLikeKaczmarz() throws {
        let points: [([Double], Double)] = [([1, 0.5, -0.2], 1.0), ([0.3, -1, 0.8], -0.5), ([-0.6, 0.2, 1.0], 0.7)]
        func lambda(_ i: Int) -> Tensor { Tensor(points[i].0 + [points[i].1]) }
        let problem = ClosureProblem(initialLambda: lambda(0), initialWeights: .zeros([4]),
            inner: { l, w, _ in
                // Features [x, 1] (4 weights for 3 inputs + bias), so three hyperplanes in R⁴ intersect in a line.
                let x = l.slice(alongAxis: 0, start: 0, count: 3), y = l.slice(alongAxis: 0, start: 3, count: 1).sum()
                return (x.dot(w.slice(alongAxis: 0, start: 0, count: 3)) + w.slice(alongAxis: 0, start: 3, count: 1).sum() - y).squared() * 0.5
            }, outer: { _, w in w.sum() })
        let opt = SGD(learningRate: 0.3)
        let warm = WarmStart.full(optimizer: opt, maxSteps: 10_000, gradientTolerance: 1e-13)
        let cold = ColdStart(optimizer: opt, steps: 10_000, gradientTolerance: 1e-13)
        var warmState = warm.initialInnerState(weights: .zeros([4]))
        var coldState = cold.initialInnerState(weights: .zeros([4]))
        for _ in 0..<60 {
            for i in points.indices {
                try warm.updateInner(problem, lambda: lambda(i), state: &warmState, initialWeights: .zeros([4]))
                try cold.updateInner(problem, lambda: lambda(i), state: &coldState, initialWeights: .zeros([4]))
            }
        }
        func residuals(_ w: Tensor) -> [Double] {
            points.map { p in abs(zip(p.0, w.scalars).map(*).reduce(0, +) + w.scalars[3] - p.1) }
        }
        #expect(residuals(warmState.weights).max()! < 1e-6, "warm residuals \(residuals(warmState.weights))")
        #expect(residuals(coldState.weights).max()! > 0.1, "cold residuals \(residuals(coldState.weights))")
    }
}
