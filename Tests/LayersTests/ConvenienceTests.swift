import Foundation
import Testing
import Tape
import Layers

/// What issue 15's first-hour user reached for: optimizer states checked against their optimizer, per-example
/// losses, the sigmoid activation, `[Int]` shapes, and the feature matrix of models linear in their parameters.
@Suite("Layers conveniences and state checks")
struct ConvenienceTests {
    /// The state of another optimizer (Adam's two moments for SGD with momentum, the mistake of the old
    /// docs/layers.md) stops at the call with the optimizer and the state it expects, not deep inside a step.
    @Test("a state of another optimizer is refused by update, naming the optimizer and the state it expects")
    func updateRefusesAnotherOptimizersState() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var state = Adam(learningRate: 0.1).initialState(weights: .zeros([51]))
            SGD(learningRate: 0.1, momentum: 0.9).update(&state, gradient: .zeros([51]))
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("Optimizer.update") && e.contains("SGD(learningRate: 0.1, momentum: 0.9)")
                && e.contains("expects 1 state tensor of the weights' shape (51)") && e.contains("got 2 state tensors"), "stderr: \(e)")
    }

    @Test("unrolling refuses a state whose tensors do not match the weights, before running a step")
    func unrollingRefusesAMismatchedState() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let adam = Adam(learningRate: 0.1)
            let state = OptimizerState(weights: .zeros([3]), slots: [.zeros([3]), .zeros([2])])
            _ = try? UnrolledOptimization(optimizer: adam, steps: 2)
                .hypergradient(outer: { _, w in w.sum() }, inner: { _, w, _ in w.squared().sum() }, lambda: Tensor([0]), from: state)
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("UnrolledOptimization.hypergradient") && e.contains("Adam(learningRate: 0.1)")
                && e.contains("expects 2 state tensors of the weights' shape (3)") && e.contains("(3), (2)"), "stderr: \(e)")
    }

    @Test func everyOptimizerHasALearningRate() {
        let optimizers: [any Optimizer] = [SGD(learningRate: 0.3), SGD(learningRate: 0.2, momentum: 0.5), Adam(learningRate: 0.01)]
        #expect(optimizers.map(\.learningRate) == [0.3, 0.2, 0.01])
    }

    /// Each per-example loss has one value per example, by hand, and its mean is the batch loss.
    @Test func perExampleLossesMatchHandValuesAndAverageToTheBatchLoss() {
        let z = Tensor(shape: [3, 1], scalars: [0.7, -2, 30]), t = Tensor(shape: [3, 1], scalars: [1, 0, 1])
        let bce = evaluate({ v in Loss.perExampleBinaryCrossEntropy(logits: v[0], targets: t) }, at: [z])
        let byHand = zip(z.scalars, t.scalars).map { z, t in Foundation.log(1 + Foundation.exp(z)) - t * z }
        #expect(bce.shape == [3] && zip(bce.scalars, byHand).allSatisfy { abs($0 - $1) < 1e-14 })
        let mean = evaluate({ v in Loss.binaryCrossEntropy(logits: v[0], targets: t) }, at: [z]).scalar
        #expect(abs(bce.scalars.reduce(0, +) / 3 - mean) < 1e-15)

        let p = Tensor(rows: [[1, 2], [0, -1]]), q = Tensor(rows: [[0, 0], [1, 1]])
        let se = evaluate({ v in Loss.perExampleSquaredError(v[0], q) }, at: [p])
        #expect(se == Tensor([5, 5]))
        #expect(abs(evaluate({ v in Loss.meanSquaredError(v[0], q) }, at: [p]).scalar - 5) < 1e-15)

        let logits = Tensor(rows: [[1.0, -0.5, 2.0], [0.3, 0.2, -1.0]])
        let ce = evaluate({ v in Loss.perExampleSoftmaxCrossEntropy(logits: v[0], labels: [2, 0]) }, at: [logits])
        func lse(_ r: [Double]) -> Double { Foundation.log(r.map(Foundation.exp).reduce(0, +)) }
        #expect(abs(ce.scalars[0] - (lse([1, -0.5, 2]) - 2)) < 1e-14 && abs(ce.scalars[1] - (lse([0.3, 0.2, -1]) - 0.3)) < 1e-14)
        let batch = evaluate({ v in Loss.softmaxCrossEntropy(logits: v[0], labels: [2, 0]) }, at: [logits]).scalar
        #expect(abs(ce.scalars.reduce(0, +) / 2 - batch) < 1e-15)
    }

    /// Weighting examples through the per-example form: weight 0 drops an example from the gradient.
    @Test func aZeroWeightRemovesAnExampleFromTheGradient() {
        let x = Tensor(rows: [[1, 0], [0, 1], [1, 1]]), t = Tensor(shape: [3, 1], scalars: [1, 0, 1])
        let model = LinearModel(inputs: 2)
        let w = Tensor([0.3, -0.2, 0.1])
        let weighted = gradient(of: { w in
            (Loss.perExampleBinaryCrossEntropy(logits: model(w.constant(x), parameters: w), targets: t) * Tensor([1, 1, 0])).sum()
        }, at: w)
        let firstTwo = gradient(of: { w in
            Loss.binaryCrossEntropy(logits: model(w.constant(Tensor(rows: [[1, 0], [0, 1]])), parameters: w),
                                    targets: Tensor(shape: [2, 1], scalars: [1, 0])) * 2
        }, at: w)
        #expect(weighted.maxAbsoluteDifference(firstTwo) < 1e-14)
    }

    @Test func sigmoidActivationIsTheLogistic() {
        let y = evaluate({ v in Activation.sigmoid(v[0]) }, at: [Tensor([-1, 0, 2])])
        #expect(zip(y.scalars, [-1.0, 0, 2].map { 1 / (1 + Foundation.exp(-$0)) }).allSatisfy { abs($0 - $1) < 1e-15 })
        #expect(Activation.allCases.contains(.sigmoid))
    }

    @Test func shapesMayBeGivenAsIntArrays() {
        let dims = [2, 3]
        let t = Tensor(shape: dims, scalars: [1, 2, 3, 4, 5, 6])
        #expect(t.shape == Shape(dims) && t[1, 2] == 6)
        #expect(Tensor(shape: [Int](), scalars: [4]).shape == .scalar)
    }

    /// Φ(x)·w is the model's output: for a one-output linear model Φ = [x, 1], for a Fourier regressor φ(x).
    @Test func featureMatricesReproduceTheModels() {
        var g = SeededGenerator(seed: 4)
        let x = Tensor.randomNormal([5, 3], using: &g), w = Tensor.randomNormal([4], using: &g)
        let linear = LinearModel(inputs: 3)
        let viaPhi = linear.featureMatrix(x).matmul(w.reshaped([4, 1]))
        #expect(viaPhi.maxAbsoluteDifference(linear.predict(x, parameters: w)) < 1e-14)
        let fourier = FourierRegressor(features: FourierFeatures(frequencies: 3, profile: .linear))
        let xs = Tensor.randomNormal([6, 1], using: &g), v = Tensor.randomNormal([7], using: &g)
        #expect(fourier.featureMatrix(xs).matmul(v.reshaped([7, 1])).maxAbsoluteDifference(fourier.predict(xs, parameters: v)) < 1e-14)
    }
}
