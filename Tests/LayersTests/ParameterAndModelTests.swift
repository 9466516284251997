import Foundation
import Testing
import Tape
@testable import Layers

@Suite("Parameters and models")
struct ParameterAndModelTests {
    @Test func flatRoundTripIsExact() {
        var g = SeededGenerator(seed: 1)
        let layout = ParameterLayout([("a", [3, 2]), ("b", [2]), ("c", .scalar), ("d", [1, 4])])
        #expect(layout.count == 6 + 2 + 1 + 4)
        let tensors: [Tensor] = layout.entries.map { .randomNormal($0.shape, using: &g) }
        let flat = layout.flatten(tensors)
        #expect(layout.tensors(of: flat) == tensors)
        #expect(layout.flatten(layout.tensors(of: flat)) == flat)
        var p = Parameters(layout: layout, flat: flat)
        #expect(p["b"] == tensors[1])
        p["b"] = Tensor([7, 8])
        #expect(Array(p.flat.scalars[6..<8]) == [7, 8])
        #expect(p["a"] == tensors[0] && p["d"] == tensors[3])
    }

    @Test func variableSplitMatchesTensorSplitAndCarriesGradients() {
        let layout = ParameterLayout([("w", [2, 3]), ("b", [3])])
        let flat = Tensor((0..<9).map(Double.init))
        let parts = Tape().evaluate({ v in layout.tensors(of: v[0]) }, at: [flat])
        #expect(parts == layout.tensors(of: flat))
        // d/dflat of Σ_k k·(w ⊙ w)_k + Σ b: gradient 2·flat on w's part times weights, 1 on b's part.
        let grad = gradient(of: { v in let p = layout.tensors(of: v); return p[0].squared().sum() + p[1].sum() }, at: flat)
        #expect(grad.scalars == (0..<6).map { 2 * Double($0) } + [1, 1, 1])
    }

    @Test func fourierFeaturesMatchClosedForm() {
        let f = FourierFeatures(frequencies: 3, profile: .exponential(0.5))
        #expect(f.amplitudes == [0.5, 0.25, 0.125])
        #expect(FourierFeatures(frequencies: 4, profile: .linear).amplitudes == [1, 0.75, 0.5, 0.25])
        let xs: [Double] = [-2.5, 0, 0.3, 3]
        let x = Tensor(shape: [4, 1], scalars: xs)
        let phiVar = evaluate({ v in f(v[0]) }, at: [x])
        let phi = f(x)
        for (i, xi) in xs.enumerated() {
            let expected = [1, 0.5 * sin(xi), 0.5 * cos(xi), 0.25 * sin(2 * xi), 0.25 * cos(2 * xi), 0.125 * sin(3 * xi), 0.125 * cos(3 * xi)]
            for j in 0..<7 {
                #expect(abs(phiVar[i, j] - expected[j]) < 1e-15)
                #expect(abs(phi[i, j] - expected[j]) < 1e-15)
            }
        }
        // The regressor is φ(x)·w, differentiable in x (learned inputs): d/dx Σ φ(x)w = Σ_k a_k k (w_s cos kx − w_c sin kx).
        let model = FourierRegressor(features: f)
        let w = Tensor([0.3, -1, 2, 0.5, 0.7, -0.2, 1.1])
        let gx = gradient(of: { v in model(v[0], parameters: v[1]).sum() }, at: [x, w])[0]
        for (i, xi) in xs.enumerated() {
            var d = 0.0
            for k in 1...3 {
                let a = f.amplitudes[k - 1], kd = Double(k)
                d += a * kd * (w.scalars[2 * k - 1] * cos(kd * xi) - w.scalars[2 * k] * sin(kd * xi))
            }
            #expect(abs(gx.scalars[i] - d) < 1e-13)
        }
    }

    @Test func mlpForwardMatchesHandWrittenNetwork() {
        var g = SeededGenerator(seed: 3)
        let mlp = MLP(widths: [2, 4, 3, 1], activation: .tanh)
        #expect(mlp.parameterCount == 2 * 4 + 4 + 4 * 3 + 3 + 3 + 1)
        let w = mlp.initialParameters(using: &g)
        let x = Tensor.randomNormal([5, 2], using: &g)
        let p = mlp.layout.tensors(of: w)
        // Independent forward: plain loops.
        var h = x
        for l in 0..<3 {
            let W = p[2 * l], b = p[2 * l + 1]
            var out = Tensor.zeros([5, W.shape.cols])
            for i in 0..<5 { for j in 0..<W.shape.cols {
                var s = b.scalars[j]
                for k in 0..<W.shape.rows { s += h[i, k] * W[k, j] }
                out[i, j] = l < 2 ? tanh(s) : s
            } }
            h = out
        }
        #expect(mlp.predict(x, parameters: w).maxAbsoluteDifference(h) < 1e-14)
    }

    @Test func initializationsHaveTheDocumentedScale() {
        var g = SeededGenerator(seed: 4)
        let he = Dense(inputs: 400, outputs: 300, initialization: .he).initialParameters(using: &g)
        let weights = Array(he.scalars[0..<120_000])
        let std = (weights.reduce(0) { $0 + $1 * $1 } / Double(weights.count)).squareRoot()
        #expect(abs(std - (2.0 / 400).squareRoot()) < 0.002)
        #expect(he.scalars[120_000...].allSatisfy { $0 == 0 })
        var g1 = SeededGenerator(seed: 9), g2 = SeededGenerator(seed: 9)
        let m = MLP(inputs: 2, hidden: 8, depth: 2, outputs: 3)
        #expect(m.initialParameters(using: &g1) == m.initialParameters(using: &g2))
    }
}
