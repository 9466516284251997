import Foundation
import Testing
@testable import Tape

/// `Tape.linearizedGradient`: f and its sweep recorded once, then products with tangents alone. Every product
/// must have the bits of a fresh HVP at the same point and direction (the products-only form, whose bits are
/// the full form's), one direction at a time or k at once, on every op of the table, on graphs whose large
/// buffers are returned (and poisoned with NaN, so a replay that reads a buffer the linearization let go
/// shows), on a network against finite differences and on least squares against the closed form; and it
/// must hold no more memory than one HVP.
@Suite("Linearized gradients")
struct LinearizationTests {
    /// A fresh HVP's products (the reference).
    static func reference(_ f: ([Variable]) -> Variable, _ xs: [Tensor], _ vs: [Tensor?], wrt: [Int]? = nil) -> [Tensor] {
        var products: [Tensor] = []
        Tape().hessianVectorProduct(of: f, at: xs, along: vs, wrt: wrt, into: &products)
        return products
    }

    static func directions(_ xs: [Tensor], seed: UInt64) -> [Tensor] {
        var g = SeededGenerator(seed: seed)
        return xs.map { Tensor.randomNormal($0.shape, using: &g) }
    }

    @Test("every op: each product has the bits of a fresh HVP", arguments: opTable)
    func everyOpMatchesHVP(_ row: OpCase) {
        let xs = row.inputs(seed: 51)
        let f = OpDerivativeTests.scalarized(row, seed: 51)
        let vs = Self.directions(xs, seed: 52), others = Self.directions(xs, seed: 53)
        // All directions; the first one absent; the last input alone.
        let cases: [([Tensor?], [Int]?)] = [(vs, nil), ([nil] + vs.dropFirst().map { $0 }, nil), (vs, [xs.count - 1])]
        for (dirs, wrt) in cases {
            let tape = Tape()
            tape.arena.poisonsReleasedBlocks = true
            let lin = tape.linearizedGradient(of: f, at: xs, wrt: wrt)
            #expect(lin.value == Tape().evaluate(f, at: xs).scalar, "\(row.name): value")
            let want = Self.reference(f, xs, dirs, wrt: wrt)
            let first = lin.hessianVectorProduct(along: dirs)
            // Another direction in between, into reused tensors: a product leaves nothing behind.
            var products = first
            lin.hessianVectorProduct(along: others, into: &products)
            let other = products == Self.reference(f, xs, others, wrt: wrt)
            lin.hessianVectorProduct(along: dirs, into: &products)
            let same = first == want, again = products == want
            #expect(same && again && other, "\(row.name) wrt \(String(describing: wrt)): products differ from a fresh HVP's")
        }
    }

    @Test("every op: k directions in one sweep have the bits of k single products", arguments: opTable)
    func everyOpBlockMatchesSingles(_ row: OpCase) {
        let xs = row.inputs(seed: 61)
        let f = OpDerivativeTests.scalarized(row, seed: 61)
        let absentFirst: [Tensor?] = [nil] + Self.directions(xs, seed: 63).dropFirst().map { $0 }
        let blockDirs: [[Tensor?]] = [Self.directions(xs, seed: 62), absentFirst, Self.directions(xs, seed: 64)]
        let lin = Tape().linearizedGradient(of: f, at: xs)
        let block = lin.hessianMatrixProduct(along: blockDirs)
        let same = block == blockDirs.map { Self.reference(f, xs, $0) }
        #expect(same, "\(row.name): a block product differs from the single products")
    }

    /// Every op on values of 16,900 doubles (returned after their last use, poisoned with NaN), shared
    /// subexpressions and views: one direction and a block of four.
    @Test("large values, released and poisoned: single and block products have the bits of fresh HVPs")
    func largeGraph() {
        let xs = ReleaseTests.inputs(seed: 71)
        let f: ([Variable]) -> Variable = { ReleaseTests.everything($0) }
        let tape = Tape()
        tape.arena.poisonsReleasedBlocks = true
        let lin = tape.linearizedGradient(of: f, at: xs)
        let dirs = (0..<4).map { Self.directions(xs, seed: 72 + UInt64($0)).map { Optional($0) } }
        let single = lin.hessianVectorProduct(along: dirs[0]) == Self.reference(f, xs, dirs[0])
        #expect(single, "a single product differs from a fresh HVP's")
        let block = lin.hessianMatrixProduct(along: dirs)
        for (j, products) in block.enumerated() {
            let same = products == Self.reference(f, xs, dirs[j])
            #expect(same, "block direction \(j) differs from a fresh HVP's")
        }
    }

    @Test("a network: the bits of fresh HVPs one and five at a time, and finite differences of the gradient")
    func network() {
        let (xs, vs) = ProductOnlyTests.netInputs(seed: 81)
        let wrt = [1, 2, 3, 4, 5]
        let f = ProductOnlyTests.net
        let tape = Tape()
        tape.arena.poisonsReleasedBlocks = true
        let lin = tape.linearizedGradient(of: f, at: xs, wrt: wrt)
        let products = lin.hessianVectorProduct(along: vs)
        let same = products == Self.reference(f, xs, vs, wrt: wrt)
        #expect(same, "the products differ from a fresh HVP's")
        let more: [[Tensor?]] = (0..<5).map { j in ProductOnlyTests.netInputs(seed: 90 + UInt64(j)).vs }
        let block = lin.hessianMatrixProduct(along: more)
        let sameBlock = block == more.map { Self.reference(f, xs, $0, wrt: wrt) }
        #expect(sameBlock, "a block of five differs from five fresh HVPs")

        // (∇f(x + h v) − ∇f(x − h v)) / 2h, from gradients alone.
        let h = 1e-5
        func moved(_ s: Double) -> [Tensor] { zip(xs, vs).map { x, v in v.map { x + s * h * $0 } ?? x } }
        let up = Tape().valueAndGradient(of: f, at: moved(1), wrt: wrt).gradients
        let down = Tape().valueAndGradient(of: f, at: moved(-1), wrt: wrt).gradients
        for (k, product) in products.enumerated() {
            let fd = (1 / (2 * h)) * (up[k] - down[k])
            let err = product.maxAbsoluteDifference(fd) / max(fd.scalars.map(abs).max() ?? 0, 1e-12)
            #expect(err < 1e-6, "input \(wrt[k]): relative error \(err) against finite differences")
        }
    }

    @Test("least squares: H·V = XᵀX·V / n for 40 directions in blocks, as the closed form says")
    func leastSquaresClosedForm() {
        var g = SeededGenerator(seed: 91)
        let n = 50
        let x = Tensor.randomNormal([n, 30], using: &g), y = Tensor.randomNormal([n, 20], using: &g)
        let w = Tensor.randomNormal([30, 20], using: &g)
        let vs = (0..<40).map { _ in Tensor.randomNormal([30, 20], using: &g) }
        // f(W) = ‖XW − Y‖² / (2n): H·V = XᵀX V / n.
        let f: ([Variable]) -> Variable = { p in 0.5 * (p[0].constant(x).matmul(p[0]) - p[0].constant(y)).squared().sum() / Double(n) }
        let lin = linearizedGradient(of: f, at: [w])
        #expect(lin.maximumBlockWidth == 32)
        for (v, product) in zip(vs, lin.hessianMatrixProduct(along: vs.map { [$0] })) {
            let closed = (1 / Double(n)) * x.matmul(x.matmul(v), transposeSelf: true)
            let err = product[0].maxAbsoluteDifference(closed) / (closed.scalars.map(abs).max() ?? 1)
            #expect(err < 1e-13, "relative error \(err) against XᵀXV/n")
        }
    }

    /// Between products a linearization holds the primal values and cotangents some tangent formula reads;
    /// that must not exceed one HVP's peak (its values with their tangents). A product adds its tangents on
    /// top and gives them all back.
    @Test("memory: a linearization holds no more than one HVP's peak; a product gives back what it took", arguments: [0, 1])
    func memory(_ which: Int) {
        let f: ([Variable]) -> Variable = { which == 0 ? ReleaseTests.everything($0) : ReleaseTests.mlp($0) }
        let xs = ReleaseTests.inputs(seed: 101), vs = Self.directions(xs, seed: 102).map { Optional($0) }
        let hvp = Tape()
        _ = hvp.hessianVectorProduct(of: f, at: xs, along: vs)
        let lin = Tape()
        let l = lin.linearizedGradient(of: f, at: xs)
        let held = l.heldBytes, recordPeak = lin.peakBytes
        _ = l.hessianVectorProduct(along: vs)
        print("memory \(which): held \(held) record peak \(recordPeak) product peak \(lin.peakBytes) hvp \(hvp.peakBytes)")
        #expect(lin.arena.inUse * 8 == held, "a product gives back what it allocated")
        #expect(held <= hvp.peakBytes, "the linearization holds \(held) B, one HVP's peak is \(hvp.peakBytes) B")
    }

    /// The linearization keeps a recorded value only if some tangent formula reads it (`PrimalLog.reads`).
    /// Here each product's operands are large intermediates that nothing else reads: x + 1 and 2x − 3 are
    /// made by ops whose rules read no values, so only the product's tangent formulas (ẏ = ȧ ⊙ b + a ⊙ ḃ, and
    /// the VJP's ȧ = ȳ ⊙ b with ȳ carrying a tangent; likewise for ⊘, dot and matmul) keep them. The product
    /// feeds a square, so its tangent reaches the gradient (into a plain sum, ẏ would be dead and a lost b
    /// harmless). An operand not noted as read goes back, poisoned with NaN.
    @Test("operands read only by a product's tangent formula are kept", arguments: ["multiply", "divide", "dot", "matmul"])
    func productOperandsKept(_ op: String) {
        let n = ReleaseTests.n   // n² doubles: large, so released buffers really go back
        let f: ([Variable]) -> Variable = { p in
            let a = p[0] + 1, b = p[0] * 2 - 3   // each read by the product below alone
            switch op {
            case "multiply": return (a * b).squared().sum()
            case "divide": return (a / (b * 0.5 + 4)).squared().sum()   // the divisor b/2 + 4, read by the quotient alone
            case "dot": return a.reshaped([n * n]).dot(b.reshaped([n * n])).squared()
            default: return (a.matmul(b) * 1e-2).squared().sum()
            }
        }
        var g = SeededGenerator(seed: 121)
        let xs = [Tensor.randomNormal([n, n], standardDeviation: 0.3, using: &g)]
        let vs = Self.directions(xs, seed: 122).map { Optional($0) }
        let tape = Tape()
        tape.arena.poisonsReleasedBlocks = true
        let products = tape.linearizedGradient(of: f, at: xs).hessianVectorProduct(along: vs)
        let same = products == Self.reference(f, xs, vs)
        let nan = !products[0].isFinite
        #expect(same, "\(op): a product differs from a fresh HVP's (NaN: \(nan)): an operand it reads was let go")
    }

    /// Linearizing returns every large buffer no tangent formula reads (`Arena.releaseHeldBlocks(except:)`),
    /// whatever the recording's own sweep still held at its end: here the gradient, one n² buffer per input
    /// (ū scaled by cᵢ, which no product reads). With k inputs x₁ … x_k entering f = mean((Σ cᵢxᵢ + 1)²) through
    /// scalings and additions (rules that read nothing), three more inputs must add their three copies of the
    /// point and nothing else; kept gradients would add three more buffers.
    @Test("memory: a linearization returns what no tangent formula reads, such as the gradient")
    func unreadBuffersReleased() {
        let n = ReleaseTests.n   // n² doubles: large blocks, counted exactly by heldBytes
        func held(inputs k: Int) -> Int {
            let f: ([Variable]) -> Variable = { p in
                var u = p[0] * 0.5
                for i in 1..<k { u = u + p[i] * (0.5 + Double(i)) }
                return (u + 1).squared().mean()
            }
            var g = SeededGenerator(seed: 131)
            let xs = (0..<k).map { _ in Tensor.randomNormal([n, n], standardDeviation: 0.3, using: &g) }
            return Tape().linearizedGradient(of: f, at: xs).heldBytes
        }
        let one = held(inputs: 1), four = held(inputs: 4), block = n * n * 8
        #expect(four - one >= 3 * block && four - one < 4 * block,
                "one input: \(one) B held, four: \(four) B; three copies of the point are \(3 * block) B")
    }

    @Test("the dense Hessian from block products equals the column-by-column one and the closed form")
    func denseHessian() {
        var g = SeededGenerator(seed: 111)
        let a = Tensor.randomNormal([7, 5], using: &g), x = Tensor.randomNormal([5], using: &g)
        // f(x) = ½‖A x‖² + Σ sin xᵢ:  H = AᵀA − diag(sin x).
        let f: (Variable) -> Variable = { v in 0.5 * v.constant(a).matmul(v.reshaped([5, 1])).squared().sum() + v.sin().sum() }
        let h = hessian(of: f, at: x)
        var closed = a.matmul(a, transposeSelf: true)
        for i in 0..<5 { closed.scalars[i * 5 + i] -= Foundation.sin(x.scalars[i]) }
        #expect(h.maxAbsoluteDifference(closed) < 1e-13)
        for j in 0..<5 {
            var e = Tensor.zeros([5]); e.scalars[j] = 1
            let column = hessianVectorProduct(of: f, at: x, along: e)
            #expect((0..<5).allSatisfy { h.scalars[$0 * 5 + j] == column.scalars[$0] }, "column \(j)")
        }
    }

    @Test("using a linearization after its tape made another call says so")
    func staleLinearization() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let tape = Tape()
            let lin = tape.linearizedGradient(of: { $0[0].squared().sum() }, at: [Tensor.zeros([3])])
            _ = tape.valueAndGradient(of: { $0[0].sum() }, at: [Tensor.zeros([2])])
            _ = lin.hessianVectorProduct(along: [Tensor.zeros([3])])
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("linearize again"), "stderr: \(stderr)")
    }

    @Test("a direction whose shape differs from its input names both shapes")
    func directionShape() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let lin = linearizedGradient(of: { $0[0].squared().sum() }, at: [Tensor.zeros([3])])
            _ = lin.hessianMatrixProduct(along: [[Tensor.zeros([3])], [Tensor.zeros([4])]])
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("(4)") && stderr.contains("(3)"), "stderr: \(stderr)")
    }
}
