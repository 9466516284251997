import Testing
import Tape

/// `hessianVectorProduct(…, into: &products)`, the form that returns H·v alone and skips the inputs'
/// own gradient products: its products must have the very bits of the full form's, for every op of
/// the table (whose operands are all inputs, so every rule meets a tangent-only cotangent), for a
/// network whose layers mix inputs and intermediate values, and against finite differences and a
/// closed form.
@Suite("Hessian-vector products without the gradient")
struct ProductOnlyTests {
    @Test("every op: the products equal the full form's bit for bit", arguments: opTable)
    func everyOpMatchesFullForm(_ row: OpCase) {
        let xs = row.inputs(seed: 21)
        let f = OpDerivativeTests.scalarized(row, seed: 21)
        var g = SeededGenerator(seed: 22)
        let vs = xs.map { Tensor.randomNormal($0.shape, using: &g) }
        let others = row.inputs(seed: 23)
        let tape = Tape(), reference = Tape()
        // All directions; the first one absent; the last input alone.
        let cases: [([Tensor?], [Int]?)] = [(vs, nil), ([nil] + vs.dropFirst().map { $0 }, nil), (vs, [xs.count - 1])]
        for (dirs, wrt) in cases {
            let full = reference.valueGradientAndHessianVectorProduct(of: f, at: xs, along: dirs, wrt: wrt)
            // The tape's reused buffers first hold another point's values, so a primal the sweep
            // should have computed and did not would show.
            _ = tape.hessianVectorProduct(of: f, at: others, along: dirs, wrt: wrt)
            var products: [Tensor] = []
            let value = tape.hessianVectorProduct(of: f, at: xs, along: dirs, wrt: wrt, into: &products)
            #expect(value == full.value, "\(row.name): value")
            let same = products == full.products   // a Bool, so a failure does not print the tensors
            #expect(same, "\(row.name) wrt \(String(describing: wrt)): products differ from the full form's")
        }
    }

    /// A tanh network big enough for the packed, threaded matrix product, with the second layer's
    /// weight used twice (its cotangent is summed from two rules), the loss divided by an input, and the
    /// data passed as an input with no direction and no gradient wanted.
    static let net: @Sendable ([Variable]) -> Variable = { p in
        let h1 = (p[0].matmul(p[1]) + p[2]).tanh()
        let h2 = h1.matmul(p[3]).tanh().matmul(p[3]).tanh()
        return (h2.matmul(p[4]) - 0.5).squared().mean() / p[5]   // divided by an input: the split `div` rule
    }

    static func netInputs(seed: UInt64) -> (xs: [Tensor], vs: [Tensor?]) {
        var g = SeededGenerator(seed: seed)
        let shapes: [Shape] = [[96, 70], [70, 64], [64], [64, 64], [64, 1]]
        let xs = shapes.enumerated().map { k, s in Tensor.randomNormal(s, standardDeviation: k == 0 ? 1 : 0.2, using: &g) }
        let vs: [Tensor?] = [nil] + shapes.dropFirst().map { Tensor.randomNormal($0, using: &g) } + [Tensor([0.3])]
        return (xs + [Tensor([1.7])], vs)
    }

    @Test("a network: the same bits as the full form, and the finite-difference derivative of the gradient")
    func networkMatchesFullFormAndFiniteDifferences() {
        let (xs, vs) = Self.netInputs(seed: 31)
        let wrt = [1, 2, 3, 4, 5]
        let tape = Tape()
        let full = Tape().valueGradientAndHessianVectorProduct(of: Self.net, at: xs, along: vs, wrt: wrt)
        // Another point first, so that stale values in reused buffers cannot pass for a skipped primal.
        _ = tape.hessianVectorProduct(of: Self.net, at: Self.netInputs(seed: 32).xs, along: vs, wrt: wrt)
        var products: [Tensor] = []
        tape.hessianVectorProduct(of: Self.net, at: xs, along: vs, wrt: wrt, into: &products)
        let same = products == full.products   // a Bool, so a failure does not print the tensors
        #expect(same, "the products differ from the full form's")
        // Called again into the same tensors (their storage reused): still the same bits.
        let storage = products[0].scalars.withUnsafeBufferPointer { $0.baseAddress }
        tape.hessianVectorProduct(of: Self.net, at: xs, along: vs, wrt: wrt, into: &products)
        let sameAgain = products == full.products
        #expect(sameAgain, "called again: the products differ from the full form's")
        #expect(products[0].scalars.withUnsafeBufferPointer { $0.baseAddress } == storage)

        // (∇f(x + h v) − ∇f(x − h v)) / 2h, from gradients alone.
        let h = 1e-5
        func moved(_ s: Double) -> [Tensor] {
            zip(xs, vs).map { x, v in v.map { x + s * h * $0 } ?? x }
        }
        let up = tape.valueAndGradient(of: Self.net, at: moved(1), wrt: wrt).gradients
        let down = tape.valueAndGradient(of: Self.net, at: moved(-1), wrt: wrt).gradients
        for (k, product) in products.enumerated() {
            let fd = (1 / (2 * h)) * (up[k] - down[k])
            let scale = max(fd.scalars.map(abs).max() ?? 0, 1e-12)
            let err = product.maxAbsoluteDifference(fd) / scale
            #expect(err < 1e-6, "input \(wrt[k]): relative error \(err) against finite differences")
        }
    }

    @Test("least squares: H·V = XᵀX·V / n exactly as the closed form says")
    func leastSquaresClosedForm() {
        var g = SeededGenerator(seed: 41)
        let n = 50
        let x = Tensor.randomNormal([n, 30], using: &g), y = Tensor.randomNormal([n, 20], using: &g)
        let w = Tensor.randomNormal([30, 20], using: &g), v = Tensor.randomNormal([30, 20], using: &g)
        // f(W) = ‖XW − Y‖² / (2n): ∇f = Xᵀ(XW − Y)/n, H·V = XᵀX V / n.
        let f: ([Variable]) -> Variable = { p in 0.5 * (p[0].constant(x).matmul(p[0]) - p[0].constant(y)).squared().sum() / Double(n) }
        var products: [Tensor] = []
        Tape().hessianVectorProduct(of: f, at: [w], along: [v], into: &products)
        let closed = (1 / Double(n)) * x.matmul(x.matmul(v), transposeSelf: true)
        let err = products[0].maxAbsoluteDifference(closed) / (closed.scalars.map(abs).max() ?? 1)
        #expect(err < 1e-13, "relative error \(err) against XᵀXV/n")
    }
}
