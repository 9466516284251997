import Testing
import Tape
import Layers

/// End-to-end training on the shipped and synthetic data: the layers, losses and optimizers together
/// must actually learn. Fixed seeds and step budgets, so the numbers are reproducible.
@Suite("Training")
struct TrainingTests {
    @Test func twoLayerMLPFitsTheTwoClassRings() throws {
        let data = SyntheticData.rings(classes: 2, pointsPerClass: 100, noise: 0.1, seed: 7)
        let mlp = MLP(widths: [2, 32, 32, 2], activation: .tanh)
        var g = SeededGenerator(seed: 1)
        let opt = Adam(learningRate: 0.02)
        var state = opt.initialState(weights: mlp.initialParameters(using: &g))
        try opt.minimize({ w, _ in Loss.softmaxCrossEntropy(logits: mlp(w.constant(data.inputs), parameters: w), labels: data.labels) },
                         state: &state, steps: 400)
        let accuracy = Loss.accuracy(logits: mlp.predict(data.inputs, parameters: state.weights), labels: data.labels)
        print("rings MLP training accuracy: \(accuracy)")
        #expect(accuracy >= 0.95, "training accuracy \(accuracy)")
    }

    @Test func linearClassifierOnTheDigitsGeneralizes() throws {
        let (train, _, test) = try Digits.load()
        let model = LinearModel(inputs: 64, outputs: 10)
        let opt = Adam(learningRate: 0.05)
        var g = SeededGenerator(seed: 0)
        var state = opt.initialState(weights: model.initialParameters(using: &g))
        try opt.minimize({ w, _ in Loss.softmaxCrossEntropy(logits: model(w.constant(train.inputs), parameters: w), labels: train.labels) },
                         state: &state, steps: 300)
        let accuracy = Loss.accuracy(logits: model.predict(test.inputs, parameters: state.weights), labels: test.labels)
        print("digits linear classifier test accuracy: \(accuracy)")
        #expect(accuracy >= 0.90, "test accuracy \(accuracy)")
    }
}

