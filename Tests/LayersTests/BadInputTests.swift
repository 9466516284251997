import Testing
import Tape
import Layers

/// The bad inputs a user actually produces, and the message each one gets. Programmer errors trap
/// with a message (checked in a child process); run-time failures throw a `TrainingError`.
@Suite("Layers bad input")
struct LayersBadInputTests {
    @Test("a model fed inputs of the wrong width names the layer and both shapes")
    func wrongInputWidth() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var g = SeededGenerator(seed: 0)
            let m = MLP(widths: [3, 4, 1])
            _ = m.predict(Tensor.zeros([5, 2]), parameters: m.initialParameters(using: &g))
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("Dense") && e.contains("(5, 2)") && e.contains("(3, 4)"), "stderr: \(e)")
    }

    @Test("a flat parameter vector of the wrong length names both lengths")
    func wrongParameterCount() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = LinearModel(inputs: 3).predict(Tensor.zeros([2, 3]), parameters: Tensor.zeros([5]))
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("(5)") && e.contains("(4)"), "stderr: \(e)")
    }

    @Test("an empty batch is refused by every loss")
    func emptyBatch() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = evaluate({ v in Loss.meanSquaredError(v[0], Tensor.zeros([0, 1])) }, at: [Tensor.zeros([0, 1])])
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("empty batch"), "stderr: \(e)")
    }

    @Test("labels out of range name the range")
    func labelsOutOfRange() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = evaluate({ v in Loss.softmaxCrossEntropy(logits: v[0], labels: [0, 3]) }, at: [Tensor.zeros([2, 3])])
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("0..<3") && e.contains("3"), "stderr: \(e)")
    }

    @Test("loss with mismatched prediction and target shapes names both")
    func lossShapes() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = evaluate({ v in Loss.meanSquaredError(v[0], Tensor.zeros([4, 1])) }, at: [Tensor.zeros([4, 2])])
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("meanSquaredError") && e.contains("(4, 2)") && e.contains("(4, 1)"), "stderr: \(e)")
    }

    @Test("a non-positive learning rate is refused with its value")
    func badLearningRate() async {
        let r = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Adam(learningRate: -0.1)
        }
        let e = String(decoding: r?.standardErrorContent ?? [], as: UTF8.self)
        #expect(e.contains("learning rate") && e.contains("-0.1"), "stderr: \(e)")
    }

    @Test func nanInputsStopTrainingWithTheStep() {
        let x = Tensor(shape: [2, 1], scalars: [1, .nan])
        let model = LinearModel(inputs: 1)
        let opt = SGD(learningRate: 0.1)
        var s = opt.initialState(weights: .zeros([2]))
        #expect { try opt.minimize({ w, _ in Loss.meanSquaredError(model(w.constant(x), parameters: w), Tensor.zeros([2, 1])) },
                                   state: &s, steps: 3) } throws: { e in
            "\(e)".contains("became nan at step 0")
        }
    }

    @Test func divergingLearningRateSaysWhatToChange() {
        let opt = SGD(learningRate: 10)
        var s = opt.initialState(weights: Tensor([1]))
        #expect { try opt.minimize({ w, _ in w.squared().sum() * 100 }, state: &s, steps: 500) } throws: { e in
            "\(e)".contains("lower the learning rate (now 10.0)")
        }
    }

    @Test func negativeStepCountIsRefused() async {
        await #expect(processExitsWith: .failure) {
            _ = UnrolledOptimization(optimizer: SGD(learningRate: 0.1), steps: -1)
        }
    }
}
