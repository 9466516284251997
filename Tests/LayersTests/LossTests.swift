import Foundation
import Testing
import Tape
@testable import Layers

@Suite("Losses")
struct LossTests {
    let logits = Tensor(rows: [[1.0, -0.5, 2.0], [0.3, 0.2, -1.0]])

    @Test func valuesMatchHandComputation() {
        // MSE: ((1−0)² + (2−4)²)/2 = 2.5
        let mse = evaluate({ v in Loss.meanSquaredError(v[0], Tensor(shape: [2, 1], scalars: [0, 4])) },
                           at: [Tensor(shape: [2, 1], scalars: [1, 2])])
        #expect(abs(mse.scalar - 2.5) < 1e-15)
        // CE with labels [2, 0]: mean of log Σ e^z − z_y.
        func lse(_ r: [Double]) -> Double { log(r.map(exp).reduce(0, +)) }
        let row0: Double = lse([1, -0.5, 2]) - 2
        let row1: Double = lse([0.3, 0.2, -1]) - 0.3
        let expected = (row0 + row1) / 2
        let ce = evaluate({ v in Loss.softmaxCrossEntropy(logits: v[0], labels: [2, 0]) }, at: [logits])
        #expect(abs(ce.scalar - expected) < 1e-14)
        // Soft labels from logits [0, 0, log 2] → q = [1/4, 1/4, 1/2] on row 0, uniform on row 1.
        let q0 = [0.25, 0.25, 0.5], q1 = [1.0 / 3, 1.0 / 3, 1.0 / 3]
        let lse0 = lse([1, -0.5, 2]), lse1 = lse([0.3, 0.2, -1])
        let r0: [Double] = [1.0, -0.5, 2.0].map { $0 - lse0 }
        let r1: [Double] = [0.3, 0.2, -1.0].map { $0 - lse1 }
        let dot0: Double = zip(q0, r0).map { $0 * $1 }.reduce(0, +)
        let dot1: Double = zip(q1, r1).map { $0 * $1 }.reduce(0, +)
        let softExpected = -(dot0 + dot1) / 2
        let soft = evaluate({ v in Loss.softmaxCrossEntropy(logits: v[0], softLabelLogits: v[1]) },
                            at: [logits, Tensor(rows: [[0, 0, log(2)], [5, 5, 5]])])
        #expect(abs(soft.scalar - softExpected) < 1e-14)
        // BCE: −t log σ(z) − (1−t) log(1−σ(z)), including a large logit where the naive formula overflows.
        let z = [0.7, -800.0], t = [1.0, 0.0]
        let naive0 = -log(1 / (1 + exp(-0.7)))
        let bce = evaluate({ v in Loss.binaryCrossEntropy(logits: v[0], targets: Tensor(shape: [2, 1], scalars: t)) },
                           at: [Tensor(shape: [2, 1], scalars: z)])
        #expect(abs(bce.scalar - naive0 / 2) < 1e-15)
        #expect(Loss.accuracy(logits: logits, labels: [2, 1]) == 0.5)
        #expect(Loss.accuracy(logits: Tensor(shape: [3, 1], scalars: [0.2, -1, 3]), labels: [1, 0, 0]) == 2.0 / 3)
    }

    @Test func gradientsMatchFiniteDifferencesIncludingInputsAndLabelLogits() {
        var g = SeededGenerator(seed: 11)
        let mlp = MLP(widths: [2, 5, 3], activation: .tanh)
        let w = mlp.initialParameters(using: &g)
        let x = Tensor.randomNormal([4, 2], using: &g)
        let labelLogits = Tensor.randomNormal([4, 3], using: &g)
        let cases: [(String, ([Variable]) -> Variable)] = [
            ("cross-entropy, hard labels", { v in Loss.softmaxCrossEntropy(logits: mlp(v[0], parameters: v[1]), labels: [0, 2, 1, 2]) }),
            ("cross-entropy, soft label logits", { v in Loss.softmaxCrossEntropy(logits: mlp(v[0], parameters: v[1]), softLabelLogits: v[2]) }),
            ("mse", { v in Loss.meanSquaredError(mlp(v[0], parameters: v[1]), v[2]) }),
            ("bce", { v in Loss.binaryCrossEntropy(logits: mlp(v[0], parameters: v[1]).cols(0..<1), targets: Tensor(shape: [4, 1], scalars: [1, 0, 0, 1])) + 0 * v[2].sum() }),
        ]
        for (name, f) in cases {
            let grad = DerivativeChecker.checkGradient(of: f, at: [x, w, labelLogits])
            #expect(grad.passes(tolerance: 1e-7), "\(name): \(grad)")
            let hvp = DerivativeChecker.checkHVP(of: f, at: [x, w, labelLogits],
                                                 along: [.randomNormal(x.shape, using: &g), .randomNormal(w.shape, using: &g), .randomNormal(labelLogits.shape, using: &g)])
            #expect(hvp.passes(tolerance: 1e-5), "\(name): \(hvp)")
        }
    }

    @Test func softLabelGradientHasClosedForm() {
        // ∂/∂ℓ of −Σ_c softmax(ℓ)_c r_c (one row, r = log-softmax of fixed logits) = −q ⊙ (r − q·r).
        let l = Tensor(rows: [[0.2, -1.0, 0.5]])
        let z = Tensor(rows: [[1.0, 0.0, -2.0]])
        let lseZ = log([1.0, 0.0, -2.0].map(exp).reduce(0, +))
        let r = z.scalars.map { $0 - lseZ }
        let e = l.scalars.map(exp), s = e.reduce(0, +)
        let q = e.map { $0 / s }
        let qr = zip(q, r).map(*).reduce(0, +)
        let grad = gradient(of: { v in Loss.softmaxCrossEntropy(logits: v[0].constant(z), softLabelLogits: v[0]) }, at: [l])[0]
        for c in 0..<3 { #expect(abs(grad.scalars[c] - (-q[c] * (r[c] - qr))) < 1e-15) }
    }
}
