import Foundation
import Testing
import Tape

/// Derivatives against formulas worked out by hand (not computed by the engine).
@Suite("Closed forms")
struct ClosedFormTests {
    static func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
        a.maxAbsoluteDifference(b) / max(b.scalars.map(abs).max() ?? 0, 1e-300)
    }

    @Test("HVP of ½ xᵀAx is A v (symmetric A)")
    func quadraticHVP() {
        var g = SeededGenerator(seed: 21)
        let n = 6
        let b = Tensor.randomNormal([n, n], using: &g)
        let a = b + b.transposed()
        let x = Tensor.randomNormal([n], using: &g), v = Tensor.randomNormal([n], using: &g)
        let r = valueGradientAndHessianVectorProduct(of: { x in
            0.5 * x.dot(x.constant(a).matmul(x.reshaped([n, 1])).reshaped([n]))
        }, at: x, along: v)
        let av = a.matmul(v.reshaped([n, 1])).reshaped([n])
        #expect(Self.relativeError(r.product, av) < 1e-13)
        // and the gradient is A x
        #expect(Self.relativeError(r.gradient, a.matmul(x.reshaped([n, 1])).reshaped([n])) < 1e-13)
    }

    static func rosenbrock(_ x: Variable) -> Variable {
        let n = x.shape.count
        let head = x.rows(0..<(n - 1)), tail = x.rows(1..<n)
        return (100 * (tail - head.squared()).squared() + (1 - head).squared()).sum()
    }

    @Test("Hessian of Rosenbrock equals its analytic form")
    func rosenbrockHessian() {
        let xs: [Double] = [-1.2, 1.0, 0.7, -0.3, 2.0]
        let n = xs.count
        var expected = Tensor.zeros([n, n])
        for i in 0..<n {
            var d = i > 0 ? 200.0 : 0
            if i < n - 1 {
                d += 1200 * xs[i] * xs[i] - 400 * xs[i + 1] + 2
                expected[i, i + 1] = -400 * xs[i]
                expected[i + 1, i] = -400 * xs[i]
            }
            expected[i, i] = d
        }
        let h = hessian(of: Self.rosenbrock, at: Tensor(xs))
        #expect(Self.relativeError(h, expected) < 1e-14, "Hessian \(h) vs \(expected)")
        // gradient too: ∂f/∂xᵢ = −400 xᵢ(xᵢ₊₁ − xᵢ²) − 2(1 − xᵢ) + 200(xᵢ − xᵢ₋₁²)
        let grad = gradient(of: Self.rosenbrock, at: Tensor(xs))
        let expectedGrad = Tensor((0..<n).map { i in
            var s = 0.0
            if i < n - 1 { s += -400 * xs[i] * (xs[i + 1] - xs[i] * xs[i]) - 2 * (1 - xs[i]) }
            if i > 0 { s += 200 * (xs[i] - xs[i - 1] * xs[i - 1]) }
            return s
        })
        #expect(Self.relativeError(grad, expectedGrad) < 1e-14)
    }

    @Test("HVP of softmax cross-entropy w.r.t. logits is (diag(p) − ppᵀ)v per row, averaged")
    func softmaxCrossEntropyHVP() {
        var g = SeededGenerator(seed: 4)
        let (rows, classes) = (5, 4)
        let z = Tensor.randomNormal([rows, classes], using: &g), v = Tensor.randomNormal([rows, classes], using: &g)
        var y = Tensor.zeros([rows, classes])
        for i in 0..<rows { y[i, (i * 3) % classes] = 1 }
        let r = valueGradientAndHessianVectorProduct(of: { z in -(z.logSoftmax(alongAxis: 1) * y).sum() / Double(rows) }, at: z, along: v)
        var expected = Tensor.zeros([rows, classes]), expectedGrad = Tensor.zeros([rows, classes])
        for i in 0..<rows {
            let m = (0..<classes).map { z[i, $0] }.max()!
            let e = (0..<classes).map { Foundation.exp(z[i, $0] - m) }
            let p = e.map { $0 / e.reduce(0, +) }
            let pv = (0..<classes).reduce(0.0) { $0 + p[$1] * v[i, $1] }
            for j in 0..<classes {
                expected[i, j] = (p[j] * v[i, j] - p[j] * pv) / Double(rows)
                expectedGrad[i, j] = (p[j] - y[i, j]) / Double(rows)
            }
        }
        #expect(Self.relativeError(r.product, expected) < 1e-13)
        #expect(Self.relativeError(r.gradient, expectedGrad) < 1e-13)
    }

    @Test("JVP of sin is cos(x) ⊙ v; of a matrix product is Ȧ B + A Ḃ")
    func jvpClosedForms() {
        var g = SeededGenerator(seed: 8)
        let x = Tensor.randomNormal([3, 4], using: &g), v = Tensor.randomNormal([3, 4], using: &g)
        let r = jvp(of: { $0.sin() }, at: x, along: v)
        let expected = Tensor(shape: x.shape, scalars: zip(x.scalars, v.scalars).map { Foundation.cos($0) * $1 })
        #expect(Self.relativeError(r.tangent, expected) < 1e-15)
        let a = Tensor.randomNormal([3, 4], using: &g), b = Tensor.randomNormal([4, 2], using: &g)
        let da = Tensor.randomNormal([3, 4], using: &g), db = Tensor.randomNormal([4, 2], using: &g)
        let m = jvp(of: { $0[0].matmul($0[1]) }, at: [a, b], along: [da, db])
        #expect(Self.relativeError(m.tangent, da.matmul(b) + a.matmul(db)) < 1e-14)
    }
}

/// Compositions: whole models, checked against finite differences.
@Suite("Compositions")
struct CompositionTests {
    /// MSE of a 3-layer tanh MLP 2 → 5 → 5 → 1 on 7 points; weights are the inputs.
    static func mlpLoss(_ p: [Variable], x: Tensor, y: Tensor) -> Variable {
        var h = p[0].constant(x)
        for layer in 0..<3 {
            h = h.matmul(p[2 * layer]) + p[2 * layer + 1]
            if layer < 2 { h = h.tanh() }
        }
        return (h - y).squared().mean()
    }

    @Test("HVP of a 3-layer tanh MLP's MSE w.r.t. all weights vs finite differences")
    func mlpHVP() {
        var g = SeededGenerator(seed: 31)
        let shapes: [Shape] = [[2, 5], [5], [5, 5], [5], [5, 1], [1]]
        let params = shapes.map { Tensor.randomNormal($0, standardDeviation: 0.7, using: &g) }
        let x = Tensor.randomNormal([7, 2], using: &g), y = Tensor.randomNormal([7, 1], using: &g)
        let f: ([Variable]) -> Variable = { Self.mlpLoss($0, x: x, y: y) }
        let v = shapes.map { Tensor.randomNormal($0, using: &g) }
        let check = DerivativeChecker.checkHVP(of: f, at: params, along: v)
        #expect(check.passes(tolerance: 1e-6), "\(check)")
        let sym = DerivativeChecker.checkHVPSymmetry(of: f, at: params, shapes.map { Tensor.randomNormal($0, using: &g) }, v)
        #expect(sym.passes(tolerance: 1e-12), "\(sym)")
        let grad = DerivativeChecker.checkGradient(of: f, at: params)
        #expect(grad.passes(tolerance: 1e-6), "\(grad)")
    }

    @Test("mixed product H_λw·v: closed form and finite differences")
    func mixedProduct() {
        // f(w, λ) = ‖X w − y‖² / n + Σ exp(λ) ⊙ w²  ⇒  ∂f/∂λ = exp(λ) ⊙ w², so H_λw v = 2 exp(λ) ⊙ w ⊙ v.
        var g = SeededGenerator(seed: 12)
        let (n, d) = (6, 4)
        let x = Tensor.randomNormal([n, d], using: &g), y = Tensor.randomNormal([n, 1], using: &g)
        let w = Tensor.randomNormal([d], using: &g), lam = Tensor.randomNormal([d], using: &g)
        let v = Tensor.randomNormal([d], using: &g)
        let f: ([Variable]) -> Variable = { p in
            let r = p[0].constant(x).matmul(p[0].reshaped([d, 1])) - y
            return r.squared().sum() / Double(n) + (p[1].exp() * p[0].squared()).sum()
        }
        let r = hessianVectorProduct(of: f, at: [w, lam], along: [v, nil])
        let expected = Tensor((0..<d).map { 2 * Foundation.exp(lam.scalars[$0]) * w.scalars[$0] * v.scalars[$0] })
        #expect(ClosedFormTests.relativeError(r[1], expected) < 1e-14)
        // H_ww v = (2/n) XᵀX v + 2 exp(λ) ⊙ v
        let xtxv = x.matmul(x.matmul(v.reshaped([d, 1])), transposeSelf: true).reshaped([d])
        let expectedWW = (2 / Double(n)) * xtxv + Tensor((0..<d).map { 2 * Foundation.exp(lam.scalars[$0]) * v.scalars[$0] })
        #expect(ClosedFormTests.relativeError(r[0], expectedWW) < 1e-13)
        // and against finite differences of ∇_λ f along (v, 0)
        let check = DerivativeChecker.checkHVP(of: f, at: [w, lam], along: [v, nil])
        #expect(check.passes(tolerance: 1e-7), "\(check)")
    }

    @Test("gradients for a chosen subset of inputs")
    func subsetOfInputs() {
        let a = Tensor([1, 2, 3]), b = Tensor([4, 5, 6])
        let r = valueAndGradient(of: { ($0[0] * $0[1]).sum() }, at: [a, b], wrt: [1])
        #expect(r.gradients.count == 1)
        #expect(r.gradients[0] == a)     // ∂/∂b Σ a ⊙ b = a
        #expect(r.value == 32)
    }
}
