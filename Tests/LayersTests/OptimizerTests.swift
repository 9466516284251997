import Foundation
import Testing
import Tape
@testable import Layers

@Suite("Optimizers")
struct OptimizerTests {
    @Test func sgdWithMomentumAndWeightDecayMatchesHandComputation() {
        let opt = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        var s = opt.initialState(weights: Tensor([1, -2]))
        opt.update(&s, gradient: Tensor([0.5, 0.25]))
        // d = g + 0.01 w = (0.51, 0.23) = b;  w = w − 0.1 b
        #expect(s.weights.maxAbsoluteDifference(Tensor([0.949, -2.023])) < 1e-15)
        opt.update(&s, gradient: Tensor([-1, 0.5]))
        // d = (−0.99051, 0.47977);  b = 0.9 (0.51, 0.23) + d = (−0.53151, 0.68677)
        #expect(s.slots[0].maxAbsoluteDifference(Tensor([-0.53151, 0.68677])) < 1e-15)
        #expect(s.weights.maxAbsoluteDifference(Tensor([1.002151, -2.091677])) < 1e-15)
        #expect(s.iteration == 2)
    }

    @Test func scheduleScalesTheStep() {
        let opt = SGD(learningRate: 0.5, schedule: .inverseTimeDecay(horizon: 4, power: 2))
        var s = opt.initialState(weights: Tensor([0]))
        opt.update(&s, gradient: Tensor([1]))   // k = 0: α = 0.5
        opt.update(&s, gradient: Tensor([1]))   // k = 1: α = 0.5 / 1.25² = 0.32
        #expect(abs(s.weights.scalars[0] - (-0.82)) < 1e-15)
    }

    @Test func adamMatchesHandComputation() {
        let (b1, b2, eps, lr) = (0.9, 0.999, 1e-8, 0.1)
        let opt = Adam(learningRate: lr)
        let w0 = [1.0, -2.0, 0.5], g1 = [0.5, -0.25, 0.0], g2 = [-1.0, 0.5, 2.0]
        var s = opt.initialState(weights: Tensor(w0))
        opt.update(&s, gradient: Tensor(g1))
        opt.update(&s, gradient: Tensor(g2))
        for i in 0..<3 {
            var m = (1 - b1) * g1[i], v = (1 - b2) * g1[i] * g1[i]
            var w = w0[i] - lr * (m / (1 - b1)) / ((v / (1 - b2) + 1e-30).squareRoot() + eps)
            m = b1 * m + (1 - b1) * g2[i]
            v = b2 * v + (1 - b2) * g2[i] * g2[i]
            w -= lr * (m / (1 - b1 * b1)) / ((v / (1 - b2 * b2) + 1e-30).squareRoot() + eps)
            #expect(abs(s.weights.scalars[i] - w) < 1e-14, "coordinate \(i)")
            #expect(abs(s.slots[0].scalars[i] - m) < 1e-16 && abs(s.slots[1].scalars[i] - v) < 1e-16)
        }
    }

    /// J(λ, w) = ½ wᵀAw − λᵀw with SGD: w_K = (I − αA)^K w₀ + α Σ_{j<K} (I − αA)^j λ, so for c·w_K
    /// ∂/∂λ = α Σ_{j<K} (I − αA)^j c and ∂/∂w₀ = (I − αA)^K c (A symmetric).
    @Test func unrolledSGDOnQuadraticMatchesClosedForm() throws {
        let a = Tensor(rows: [[2, 0.5, 0], [0.5, 1, 0.2], [0, 0.2, 0.5]])
        let alpha = 0.3, k = 6
        let inner: InnerObjective = { l, w, _ in w.dot(w.reshaped([1, 3]).matmul(a).reshaped([3])) * 0.5 - l.dot(w) }
        let lambda = Tensor([1, -1, 0.5]), w0 = Tensor([0.2, 0.1, -0.3]), c = Tensor([1, 2, -1])
        let unrolled = UnrolledOptimization(optimizer: SGD(learningRate: alpha), steps: k)
        let r = try unrolled.reverse(inner, lambda: lambda, from: SGD(learningRate: alpha).initialState(weights: w0),
                                     weightsCotangent: c)
        let m = Tensor.identity(3) - alpha * a
        var power = c, sum = Tensor.zeros([3])
        for _ in 0..<k { sum = sum + power; power = m.matmul(power.reshaped([3, 1])).reshaped([3]) }
        #expect(r.lambda.maxAbsoluteDifference(alpha * sum) < 1e-14)
        #expect(r.initialWeights.maxAbsoluteDifference(power) < 1e-14)
    }

    /// K = 3 unrolled steps of SGD (with momentum) and Adam: derivatives with respect to the data, the
    /// learning rate and the initial weights against central finite differences of the whole run.
    @Test func unrolledSGDDerivativesMatchFiniteDifferences() throws {
        try checkUnrolledAgainstFiniteDifferences({ SGD(learningRate: $0, momentum: 0.5) }, lr: 0.3)
    }

    @Test func unrolledAdamDerivativesMatchFiniteDifferences() throws {
        try checkUnrolledAgainstFiniteDifferences({ Adam(learningRate: $0) }, lr: 0.05)
    }

    func checkUnrolledAgainstFiniteDifferences<O: Optimizer>(_ make: (Double) -> O, lr: Double) throws {
        var g = SeededGenerator(seed: 21)
        let mlp = MLP(widths: [2, 6, 1], activation: .tanh)
        let w0 = mlp.initialParameters(using: &g)
        let xData = Tensor.randomNormal([5, 2], using: &g)          // λ: the training inputs
        let yData = Tensor.randomNormal([5, 1], using: &g)
        let xVal = Tensor.randomNormal([7, 2], using: &g), yVal = Tensor.randomNormal([7, 1], using: &g)
        let inner: InnerObjective = { l, w, _ in Loss.meanSquaredError(mlp(l, parameters: w), yData) }
        let outer: (Variable, Variable) -> Variable = { _, w in Loss.meanSquaredError(mlp(w.constant(xVal), parameters: w), yVal) }
        func outerAfterRun(_ lambda: Tensor, lr: Double, w0: Tensor) throws -> Double {
            let opt = make(lr)
            let final = try UnrolledOptimization(optimizer: opt, steps: 3).run(inner, lambda: lambda, from: opt.initialState(weights: w0))
            return evaluate({ v in outer(v[0], v[1]) }, at: [lambda, final.weights]).scalar
        }
        let opt = make(lr)
        let r = try UnrolledOptimization(optimizer: opt, steps: 3).hypergradient(outer: outer, inner: inner, lambda: xData,
                                                                                 from: opt.initialState(weights: w0)).gradients
        let h = 1e-6
        func fd(_ f: (Double) throws -> Double) rethrows -> Double { (try f(h) - f(-h)) / (2 * h) }
        func relErr(_ a: [Double], _ b: [Double]) -> Double {
            let d = zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            return d / max(b.map { $0 * $0 }.reduce(0, +).squareRoot(), 1e-300)
        }
        var dX: [Double] = []
        for i in 0..<xData.count {
            dX.append(try fd { e in var x = xData; x.scalars[i] += e; return try outerAfterRun(x, lr: lr, w0: w0) })
        }
        #expect(relErr(r.lambda.scalars, dX) < 1e-7, "data gradient")
        let dLR = try fd { e in try outerAfterRun(xData, lr: lr + e, w0: w0) }
        let lrGrad = r.hyperparameters.scalars[0]
        #expect(abs(lrGrad - dLR) < 1e-7 * max(abs(dLR), 1e-3), "learning-rate gradient \(lrGrad) vs \(dLR)")
        var dW: [Double] = []
        for i in stride(from: 0, to: w0.count, by: 3) {
            dW.append(try fd { e in var w = w0; w.scalars[i] += e; return try outerAfterRun(xData, lr: lr, w0: w) })
        }
        let sub = stride(from: 0, to: w0.count, by: 3).map { r.initialWeights.scalars[$0] }
        #expect(relErr(sub, dW) < 1e-7, "initial-weights gradient")
    }

    @Test func checkpointingIsBitIdenticalAndStoresFewerStates() throws {
        var g = SeededGenerator(seed: 5)
        let mlp = MLP(widths: [3, 8, 1], activation: .softplus)
        let w0 = mlp.initialParameters(using: &g)
        let x = Tensor.randomNormal([6, 3], using: &g), y = Tensor.randomNormal([6, 1], using: &g)
        // A stochastic objective: step t sees rows chosen from t, as a minibatch sampler would.
        let inner: InnerObjective = { l, w, t in
            let rows = [t % 6, (t * 5 + 1) % 6]
            let xb = Tensor(shape: [2, 3], scalars: rows.flatMap { x.row($0).scalars })
            return Loss.meanSquaredError(mlp(w.constant(xb), parameters: w) * l.sum(), Tensor(shape: [2, 1], scalars: rows.map { y.scalars[$0] }))
        }
        let lambda = Tensor([0.7, 0.4])
        let opt = Adam(learningRate: 0.01)
        let c = Tensor.randomNormal(w0.shape, using: &g)
        let full = try UnrolledOptimization(optimizer: opt, steps: 20).reverse(inner, lambda: lambda, from: opt.initialState(weights: w0), weightsCotangent: c)
        for interval in [1, 3, 7, 20, 50] {
            let ck = try UnrolledOptimization(optimizer: opt, steps: 20, checkpointInterval: interval)
                .reverse(inner, lambda: lambda, from: opt.initialState(weights: w0), weightsCotangent: c)
            #expect(ck.lambda == full.lambda && ck.initialWeights == full.initialWeights && ck.hyperparameters == full.hyperparameters)
            #expect(ck.final == full.final)
            if interval == 5 || interval == 3 { #expect(ck.peakStoredStates < full.peakStoredStates) }
        }
    }

    @Test func divergingInnerLoopSaysWhereAndWhatToChange() {
        let inner: InnerObjective = { _, w, _ in w.squared().sum() * 50 }
        let opt = SGD(learningRate: 1)
        do {
            _ = try UnrolledOptimization(optimizer: opt, steps: 400).run(inner, lambda: Tensor([0]), from: opt.initialState(weights: Tensor([1, 1])))
            Issue.record("expected divergence")
        } catch let e as TrainingError {
            #expect(e.description.contains("at step") && e.description.contains("lower the inner learning rate"))
        } catch { Issue.record("unexpected \(error)") }
    }
}

