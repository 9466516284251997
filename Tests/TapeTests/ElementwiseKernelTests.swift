import Testing
import TapeKernels
@testable import Tape

/// The C elementwise loops (Sources/TapeKernels/elementwise.c) against plain Swift loops, bit for bit:
/// every op, dense and broadcast strides, row lengths around the vector width, accumulate or not.
@Suite("Elementwise kernels")
struct ElementwiseKernelTests {
    func random(_ n: Int, _ g: inout SeededGenerator) -> [Double] { (0..<n).map { _ in g.nextNormal() + 0.1 } }

    @Test func binaryMatchesScalarLoops() {
        var g = SeededGenerator(seed: 21)
        let ops: [(Int32, (Double, Double) -> Double)] = [(Int32(TK_ADD), +), (Int32(TK_SUB), -), (Int32(TK_MUL), *), (Int32(TK_DIV), /)]
        // The last two are long enough to be split over the worker pool (by rows, and one long row).
        for (rows, cols) in [(1, 1), (1, 7), (13, 10), (3, 4), (5, 17), (2, 64), (300, 203), (1, 70_001)] {
            // (row stride, column stride) of a and b: dense, row vector, column vector, scalar.
            for (ars, acs) in [(cols, 1), (0, 1), (1, 0), (0, 0)] { for (brs, bcs) in [(cols, 1), (0, 1), (1, 0), (0, 0)] {
                let a = random(rows * cols, &g), b = random(rows * cols, &g), start = random(rows * cols, &g)
                for (code, f) in ops { for accumulate in [false, true] {
                    var want = start
                    for i in 0..<rows { for j in 0..<cols {
                        let v = f(a[i * ars + j * acs], b[i * brs + j * bcs])
                        want[i * cols + j] = accumulate ? want[i * cols + j] + v : v
                    } }
                    var fast = start, portable = start
                    tk_binary(code, rows, cols, a, ars, acs, b, brs, bcs, &fast, accumulate ? 1 : 0)
                    tk_binary_portable(code, rows, cols, a, ars, acs, b, brs, bcs, &portable, accumulate ? 1 : 0)
                    #expect(fast == want && portable == want, "op \(code) \(rows)×\(cols) a(\(ars),\(acs)) b(\(brs),\(bcs)) acc \(accumulate)")
                } }
            } }
        }
    }

    @Test func reductionsMatchScalarLoops() {
        var g = SeededGenerator(seed: 22)
        for (rows, cols) in [(1, 1), (13, 10), (7, 4), (100, 203), (400, 301)] {
            let src = random(rows * cols, &g), start = random(cols, &g)
            var want = start
            for i in 0..<rows { for j in 0..<cols { want[j] += src[i * cols + j] } }
            var got = start
            tk_reduce_rows(src, rows, cols, &got)
            #expect(got == want)
            let dense = random(rows * cols, &g)
            var sum = dense
            tk_add_into(src, &sum, rows * cols)
            #expect(sum == zip(dense, src).map { $0 + $1 })
        }
    }

    /// Maps and their derivative products on arrays long enough to be split over the worker pool give,
    /// value by value, what the scalar table gives.
    @Test func longMapsMatchTheScalarTable() {
        var g = SeededGenerator(seed: 23)
        let n = 300 * 301
        let x = Tensor.randomNormal([300, 301], using: &g), v = Tensor.randomNormal([300, 301], using: &g)
        let u = Tensor.randomNormal([300, 301], using: &g)
        for f in [UnaryFunction.tanh, .exp, .sigmoid, .softplus, .square] {
            let (y, dy) = Tape().jvp(of: { $0.map(f) }, at: x, along: v)
            #expect((0..<n).allSatisfy { y.scalars[$0] == f(x.scalars[$0]) }, "\(f) values")
            let (_, grad) = Tape().vjp(of: { $0.map(f) }, at: x, cotangent: u)
            f.dispatch(Check(x: x, y: y, v: v, dy: dy, u: u, grad: grad, name: f.description))
        }
    }

    /// Checks tangents and cotangents against the table row F, value by value.
    struct Check: UnaryKernel {
        let x: Tensor, y: Tensor, v: Tensor, dy: Tensor, u: Tensor, grad: Tensor, name: String
        func run<F: ScalarFunction>(_: F.Type) {
            let n = x.count
            #expect((0..<n).allSatisfy { dy.scalars[$0] == F.d1(x.scalars[$0], y.scalars[$0], 0) * v.scalars[$0] }, "\(name) tangents")
            #expect((0..<n).allSatisfy { grad.scalars[$0] == u.scalars[$0] * F.d1(x.scalars[$0], y.scalars[$0], 0) }, "\(name) cotangents")
        }
    }
}
