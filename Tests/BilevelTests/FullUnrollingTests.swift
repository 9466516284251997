import Foundation
import Testing
import Tape
import Layers
@testable import Bilevel

/// A stochastic bilevel problem: a tanh MLP (2 → 3 → 1) fitted on a minibatch of 4 of 8 points drawn from
/// `SeededGenerator(seed: step)`. λ = (s, δ₁, δ₂): the targets are scaled by s and the inputs shifted by δ,
///   J_in(λ, w, t) = mean_{i ∈ batch(t)} (f(xᵢ + δ; w) − s yᵢ)² + 0.01‖w‖²,   J_out(λ, w) = mean (f(x°; w) − y°)².
struct StochasticMLPProblem: BilevelProblem {
    let mlp = MLP(widths: [2, 3, 1], activation: .tanh)
    let x: Tensor, y: Tensor, xv: Tensor, yv: Tensor, w0: Tensor
    let initialLambda = Tensor([1.0, 0.1, -0.2])

    init(seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        x = .randomNormal([8, 2], using: &g); y = .randomNormal([8, 1], using: &g)
        xv = .randomNormal([10, 2], using: &g); yv = .randomNormal([10, 1], using: &g)
        w0 = mlp.initialParameters(using: &g)
    }

    /// The rows of minibatch t: a seeded permutation, so the same t always gives the same batch.
    static func batch(_ t: Int) -> [Int] {
        var g = SeededGenerator(seed: UInt64(t) &+ 1000)
        return Array(g.permutation(8).prefix(4))
    }

    static func rows(_ m: Tensor, _ idx: [Int]) -> Tensor {
        let c = m.shape.cols
        return Tensor(shape: [idx.count, c], scalars: idx.flatMap { m.scalars[$0 * c..<($0 + 1) * c] })
    }

    func initialWeights(using generator: inout SeededGenerator) -> Tensor { w0 }

    func innerObjective(lambda: Variable, weights w: Variable, step: Int) -> Variable {
        let b = Self.batch(step)
        let scale = lambda.slice(alongAxis: 0, start: 0, count: 1)
        let shift = lambda.slice(alongAxis: 0, start: 1, count: 2)
        let inputs = w.constant(Self.rows(x, b)) + shift
        return Loss.meanSquaredError(mlp(inputs, parameters: w), w.constant(Self.rows(y, b)) * scale) + w.squared().sum() * 0.01
    }

    func outerObjective(lambda: Variable, weights w: Variable) -> Variable {
        Loss.meanSquaredError(mlp(w.constant(xv), parameters: w), yv)
    }
}

@Suite("Full unrolling and stochastic objectives")
struct FullUnrollingTests {
    /// F(λ) = J_out(λ, w_K(λ)) with w_K the cold-start run of K optimizer steps from w₀ (forward only),
    /// and its central finite-difference gradient: independent of every reverse-mode code path.
    static func finiteDifferenceGradient<O: Optimizer>(_ p: StochasticMLPProblem, _ opt: O, steps: Int, at lambda: Tensor,
                                                       h: Double = 1e-5) throws -> Tensor {
        func f(_ l: Tensor) throws -> Double {
            let w = try retrain(p, lambda: l, initialWeights: p.w0, concept: ColdStart(optimizer: opt, steps: steps)).weights
            return p.outerLoss(lambda: l, weights: w)
        }
        return Tensor(try (0..<lambda.count).map { i in
            var lp = lambda, lm = lambda
            lp.scalars[i] += h; lm.scalars[i] -= h
            return try (f(lp) - f(lm)) / (2 * h)
        })
    }

    /// Full unrolling through SGD with momentum and through Adam, on minibatches, equals the finite-difference
    /// gradient of the cold-start outer loss.
    @Test(arguments: ["momentum", "adam"])
    func fullUnrollingMatchesFiniteDifferencesThroughTheInnerOptimizer(_ kind: String) throws {
        let p = StochasticMLPProblem(seed: 21)
        let k = 40
        let ctx = HypergradientContext(initialWeights: p.w0)
        let (hg, fd): (Hypergradient, Tensor)
        if kind == "adam" {
            let opt = Adam(learningRate: 0.05)
            hg = try FullUnrolling(steps: k, optimizer: opt).hypergradient(of: p, lambda: p.initialLambda, weights: p.w0, context: ctx)
            fd = try Self.finiteDifferenceGradient(p, opt, steps: k, at: p.initialLambda)
        } else {
            let opt = SGD(learningRate: 0.1, momentum: 0.8)
            hg = try FullUnrolling(steps: k, optimizer: opt).hypergradient(of: p, lambda: p.initialLambda, weights: p.w0, context: ctx)
            fd = try Self.finiteDifferenceGradient(p, opt, steps: k, at: p.initialLambda)
        }
        let err = relativeError(hg.gradient, fd)
        #expect(err < 1e-6, "\(kind): ‖g − g_FD‖/‖g_FD‖ = \(err); \(hg.gradient.scalars) vs \(fd.scalars)")
        #expect(fd.norm > 1e-3, "the hypergradient must not be trivially zero")
    }

    /// Checkpointing every c steps gives bit-identical hypergradients and holds about K/c + c states instead of K + 1.
    @Test func checkpointingIsBitIdenticalAndStoresFewerStates() throws {
        let p = StochasticMLPProblem(seed: 22)
        let (k, c) = (36, 6)
        let opt = SGD(learningRate: 0.1, momentum: 0.5)
        let ctx = HypergradientContext(initialWeights: p.w0)
        let all = try FullUnrolling(steps: k, optimizer: opt).hypergradient(of: p, lambda: p.initialLambda, weights: p.w0, context: ctx)
        let some = try FullUnrolling(steps: k, optimizer: opt, checkpointInterval: c)
            .hypergradient(of: p, lambda: p.initialLambda, weights: p.w0, context: ctx)
        #expect(all.gradient == some.gradient && all.outerLoss == some.outerLoss)
        #expect(all.diagnostics.storedStates == k + 1, "\(all.diagnostics)")
        #expect(some.diagnostics.storedStates == k / c + c, "\(some.diagnostics)")
    }

    /// Cold start replays minibatches 0 … K−1 in every outer step, so the solver's inner model is the w_K that
    /// full unrolling differentiates: the outer losses agree at every outer step, not only the first.
    @Test func coldStartTrainsTheModelThatFullUnrollingDifferentiates() throws {
        let p = StochasticMLPProblem(seed: 23)
        let k = 25
        let opt = SGD(learningRate: 0.1)
        let solver = BilevelSolver(problem: p, method: FullUnrolling(steps: k, optimizer: opt),
                                   concept: ColdStart(optimizer: opt, steps: k), outerOptimizer: SGD(learningRate: 0.05),
                                   maxOuterSteps: 3)
        var s = solver.initialState(), trajectory = Trajectory()
        for i in 0..<3 {
            let hg = try solver.step(&s, trajectory: &trajectory)
            #expect(abs(hg.outerLoss - trajectory.outerLoss[i]) <= 1e-14 * trajectory.outerLoss[i], "outer step \(i)")
        }
        #expect(s.inner.step == k, "the inner step counter restarts with every cold start")
    }

    /// Truncated unrolling from the current w uses the next K minibatches (t = current inner step + j) and matches
    /// finite differences of J_out after those K steps.
    @Test func truncatedUnrollingOnMinibatchesMatchesFiniteDifferences() throws {
        let p = StochasticMLPProblem(seed: 24)
        let opt = SGD(learningRate: 0.2)
        let (k, offset) = (6, 17)
        var s = InnerState(optimizer: opt.initialState(weights: p.w0), step: 0)
        try WarmStart(optimizer: opt, stepsPerOuterStep: offset).updateInner(p, lambda: p.initialLambda, state: &s, initialWeights: p.w0)
        #expect(s.step == offset)
        let hg = try TruncatedUnrolling(steps: k, optimizer: opt).hypergradient(
            of: p, lambda: p.initialLambda, weights: s.weights, initialWeights: p.w0, innerStep: s.step)
        func f(_ l: Tensor) throws -> Double {
            var t = InnerState(optimizer: opt.initialState(weights: s.weights), step: offset)
            try WarmStart(optimizer: opt, stepsPerOuterStep: k).updateInner(p, lambda: l, state: &t, initialWeights: p.w0)
            return p.outerLoss(lambda: l, weights: t.weights)
        }
        let h = 1e-5
        let fd = Tensor(try (0..<3).map { i in
            var lp = p.initialLambda, lm = p.initialLambda
            lp.scalars[i] += h; lm.scalars[i] -= h
            return try (f(lp) - f(lm)) / (2 * h)
        })
        #expect(relativeError(hg.gradient, fd) < 1e-7, "\(hg.gradient.scalars) vs \(fd.scalars)")
    }

    /// Two runs of a stochastic problem with the same seeds are identical, value for value.
    @Test func stochasticRunsAreDeterministic() throws {
        func run() throws -> BilevelRun {
            try BilevelSolver(problem: StochasticMLPProblem(seed: 25), method: TruncatedUnrolling(steps: 3, optimizer: SGD(learningRate: 0.2)),
                              concept: WarmStart(optimizer: SGD(learningRate: 0.2), stepsPerOuterStep: 2),
                              outerOptimizer: Adam(learningRate: 0.02), maxOuterSteps: 12).run()
        }
        let (a, b) = (try run(), try run())
        #expect(a.lambda == b.lambda && a.weights == b.weights)
        #expect(a.trajectory.outerLoss == b.trajectory.outerLoss && a.trajectory.hypergradientNorm == b.trajectory.hypergradientNorm)
        #expect((a.lambda - StochasticMLPProblem(seed: 25).initialLambda).norm > 1e-3, "λ must move")
    }

    /// Tapes reused through a `BilevelWorkspace` (package-level: as `BilevelSolver.run` does) give bit-identical results to fresh tapes,
    /// also when the same workspace served a different problem size in between.
    @Test func reusedTapesGiveBitIdenticalHypergradients() throws {
        let p = StochasticMLPProblem(seed: 26), other = try MethodTests.Quadratic(seed: 5)
        let ws = BilevelWorkspace()
        let methods: [any HypergradientMethod] = [NeumannSeries(terms: 4, step: 0.01), DampedInverse(damping: 20),
                                                  TruncatedConjugateGradient(iterations: 3, damping: 20),
                                                  TruncatedUnrolling(steps: 3, optimizer: Adam(learningRate: 0.01)),
                                                  FullUnrolling(steps: 4, optimizer: SGD(learningRate: 0.1, momentum: 0.5), checkpointInterval: 2)]
        for m in methods {
            let fresh = try m.hypergradient(of: p, lambda: p.initialLambda, weights: p.w0, initialWeights: p.w0, innerStep: 3)
            _ = try m.hypergradient(of: other.problem, lambda: .zeros([3]), weights: .zeros([5]),
                                    context: HypergradientContext(initialWeights: .zeros([5]), innerStep: 0, workspace: ws))
            let reused = try m.hypergradient(of: p, lambda: p.initialLambda, weights: p.w0,
                                             context: HypergradientContext(initialWeights: p.w0, innerStep: 3, workspace: ws))
            #expect(fresh.gradient == reused.gradient && fresh.outerLoss == reused.outerLoss, "\(m.name)")
        }
    }
}
