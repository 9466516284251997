import Foundation
import Testing
import TapeKernels
@testable import Tape

/// The vectorized exp, tanh and sigmoid (Sources/TapeKernels/vmath.c), AVX2 and portable, against
/// libm: error in units in the last place over wide random samples, special values, and results that
/// do not depend on where in an array a value sits.
@Suite("Vectorized exp, tanh, sigmoid")
struct VectorMathTests {
    typealias Routine = @Sendable (UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, Int) -> Void
    struct Row: CustomStringConvertible, Sendable {
        let function: UnaryFunction, fast: Routine, portable: Routine, reference: @Sendable (Double) -> Double
        let range: ClosedRange<Double>, maxUlp: Double
        var name: String { function.description }
        var description: String { name }
    }

    static let rows = [
        Row(function: .exp, fast: tk_vexp, portable: tk_vexp_portable, reference: Foundation.exp, range: -745...709.7, maxUlp: 2),
        Row(function: .tanh, fast: tk_vtanh, portable: tk_vtanh_portable, reference: Foundation.tanh, range: -25...25, maxUlp: 3),
        Row(function: .sigmoid, fast: tk_vsigmoid, portable: tk_vsigmoid_portable,
            reference: { x in x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x)) },
            range: -745...40, maxUlp: 4),
    ]

    /// |got − want| in units of the last place of `want`.
    static func ulps(_ got: Double, _ want: Double) -> Double {
        if got.isNaN || want.isNaN { return got.isNaN && want.isNaN ? 0 : .infinity }
        if got == want { return 0 }
        if want.isInfinite || got.isInfinite { return .infinity }
        return abs(got - want) / max(want.ulp, Double.leastNonzeroMagnitude)
    }

    /// Uniform samples over the range plus log-uniform ones near 0 (both signs), seeded.
    static func samples(_ range: ClosedRange<Double>, count: Int) -> [Double] {
        var g = SeededGenerator(seed: 11)
        return (0..<count).map { i in
            let u = g.nextUniform()
            if i % 2 == 0 { return range.lowerBound + (range.upperBound - range.lowerBound) * u }
            let x = Foundation.pow(10, -18 + 19 * g.nextUniform()) * (u < 0.5 ? -1 : 1)
            return min(max(x, range.lowerBound), range.upperBound)
        }
    }

    @Test(arguments: rows)
    func withinAFewUlpOfLibm(_ row: Row) {
        let x = Self.samples(row.range, count: 200_000)
        for (path, f) in [("fast", row.fast), ("portable", row.portable)] {
            var y = [Double](repeating: 0, count: x.count)
            f(x, &y, x.count)
            var worst = (0.0, 0.0)
            for (xi, yi) in zip(x, y) { let e = Self.ulps(yi, row.reference(xi)); if e > worst.0 { worst = (e, xi) } }
            #expect(worst.0 <= row.maxUlp, "\(row.name) \(path): \(worst.0) ulp at x = \(worst.1)")
        }
    }

    @Test(arguments: rows)
    func specialValues(_ row: Row) {
        let x: [Double] = [0, -0.0, .infinity, -.infinity, .nan, 0x1.2p-1030, -0x1.2p-1030, .leastNonzeroMagnitude, 710, -746, 709.78, -745.1, 1e300, -1e300]
        for f in [row.fast, row.portable] {
            var y = [Double](repeating: 0, count: x.count)
            f(x, &y, x.count)
            for (xi, yi) in zip(x, y) {
                let want = row.reference(xi)
                #expect(Self.ulps(yi, want) <= row.maxUlp, "\(row.name)(\(xi)) = \(yi), libm \(want)")
                if want == 0 { #expect(yi.sign == want.sign, "\(row.name)(\(xi)) keeps the sign of zero") }
            }
        }
    }

    @Test("a value's result does not depend on its position or the array's length (the tail is padded)")
    func positionIndependent() {
        let x = Self.samples(-20...20, count: 37)
        for row in Self.rows {
            var whole = [Double](repeating: 0, count: x.count)
            row.fast(x, &whole, x.count)
            for k in [0, 1, 2, 3, 5, 33] {
                let part = Array(x[k...])
                var y = [Double](repeating: 0, count: part.count)
                row.fast(part, &y, part.count)
                #expect(y == Array(whole[k...]), "\(row.name) from offset \(k)")
            }
            #expect(x.map { row.function($0) } == whole, "\(row.name): the scalar form agrees with the array form")
        }
    }
}
