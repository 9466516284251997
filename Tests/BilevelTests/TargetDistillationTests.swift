import Foundation
import Testing
import Tape
import Layers
import Bilevel

/// For a model linear in w, `TargetDistillation` evaluates f(x; w) = Φ(x)·w with Φ made once in `init` instead of
/// recording the model's features at every call. The objectives, their gradients and H·v must be what the
/// model's own forward gives: the very bits for Fourier features (the same sines, cosines and products), to
/// rounding for an affine model (Φw = [x, 1]·[W; b] sums in another order than xW + b).
@Suite("Target distillation with a model linear in w")
struct TargetDistillationTests {
    /// J_in and J_out written with the model's forward, as the problem defined them before.
    static func direct<M: Model>(_ p: TargetDistillation<M>) -> (inner: ([Variable]) -> Variable, outer: ([Variable]) -> Variable) {
        let n = p.learnedInputs.shape.rows
        return ({ x in Loss.meanSquaredError(p.model(x[1].constant(p.learnedInputs), parameters: x[1]), x[0].reshaped([n, 1])) },
                { x in Loss.meanSquaredError(p.model(x[1].constant(p.originalInputs), parameters: x[1]), p.originalTargets) })
    }

    static func compare<M: Model>(_ p: TargetDistillation<M>, _ lambda: Tensor, _ w: Tensor, tolerance: Double) -> Bool {
        let (inner, outer) = direct(p)
        let viaFeatures: ([Variable]) -> Variable = { x in p.innerObjective(lambda: x[0], weights: x[1], step: 0) }
        let outerViaFeatures: ([Variable]) -> Variable = { x in p.outerObjective(lambda: x[0], weights: x[1]) }
        var g = SeededGenerator(seed: 3)
        let v = Tensor.randomNormal(w.shape, using: &g)
        let a = Tape().valueGradientAndHessianVectorProduct(of: viaFeatures, at: [lambda, w], along: [nil, v])
        let b = Tape().valueGradientAndHessianVectorProduct(of: inner, at: [lambda, w], along: [nil, v])
        let c = Tape().valueAndGradient(of: outerViaFeatures, at: [lambda, w]), d = Tape().valueAndGradient(of: outer, at: [lambda, w])
        func close(_ x: [Tensor], _ y: [Tensor]) -> Bool {
            zip(x, y).allSatisfy { $0.maxAbsoluteDifference($1) <= tolerance * max($1.scalars.map(abs).max() ?? 0, 1) }
        }
        func closeValue(_ x: Double, _ y: Double) -> Bool { abs(x - y) <= tolerance * max(abs(y), 1) }
        return closeValue(a.value, b.value) && close(a.gradients, b.gradients) && close(a.products, b.products)
            && closeValue(c.value, d.value) && close(c.gradients, d.gradients)
    }

    @Test("Fourier features: J_in, J_out, their gradients and H·v have the bits of the model's own forward")
    func fourier() {
        let xs = Tensor(shape: [13, 1], scalars: (0..<13).map { -Double.pi + 2 * Double.pi * (Double($0) + 0.5) / 13 })
        let p = TargetDistillation(model: FourierRegressor(), learnedInputs: xs,
                                   originalInputs: Tensor(shape: [3, 1], scalars: [0.5, -1, 2]), originalTargets: Tensor([1, 0, -1]))
        var g = SeededGenerator(seed: 1)
        #expect(Self.compare(p, Tensor.randomNormal([13], using: &g), Tensor.randomNormal([21], using: &g), tolerance: 0))
    }

    @Test("an affine model: the same to rounding")
    func affine() {
        var g = SeededGenerator(seed: 2)
        let p = TargetDistillation(model: LinearModel(inputs: 3), learnedInputs: Tensor.randomNormal([5, 3], using: &g),
                                   originalInputs: Tensor.randomNormal([4, 3], using: &g), originalTargets: Tensor.randomNormal([4], using: &g))
        #expect(Self.compare(p, Tensor.randomNormal([5], using: &g), Tensor.randomNormal([4], using: &g), tolerance: 1e-14))
    }
}
