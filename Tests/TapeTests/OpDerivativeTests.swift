import Testing
import Tape

/// Every op of the table, three ways: its raw (possibly non-scalar) output through JVP vs finite
/// differences and VJP vs JVP; and a scalarized version g(op(x)) = Σ c ⊙ sin(op(x)) through the
/// full gradient, HVP vs finite differences of the gradient, HVP symmetry, and HVP vs the dense
/// Hessian built from finite differences.
@Suite("Derivatives of every operation")
struct OpDerivativeTests {
    /// Scalarizes an op with fixed random weights, through a nonlinearity so that H ≠ 0 even for linear ops.
    static func scalarized(_ row: OpCase, seed: UInt64) -> @Sendable ([Variable]) -> Variable {
        let outShape = DerivativeChecker.value(of: row.f, at: row.inputs(seed: seed)).shape
        var g = SeededGenerator(seed: seed &+ 99)
        let c = Tensor.randomNormal(outShape, using: &g)
        return { xs in (row.f(xs).sin() * c).sum() }
    }

    @Test("raw output: JVP vs finite differences, VJP vs JVP", arguments: opTable)
    func rawOutput(_ row: OpCase) {
        var g = SeededGenerator(seed: 7)
        let xs = row.inputs(seed: 1)
        for check in DerivativeChecker.checkAll(of: row.f, at: xs, using: &g) {
            #expect(check.passes(tolerance: 1e-7), "\(row.name) \(check)")
        }
    }

    @Test("scalarized: gradient, HVP, symmetry (relative error < 1e-6)", arguments: opTable)
    func scalarizedChecks(_ row: OpCase) {
        var g = SeededGenerator(seed: 11)
        let xs = row.inputs(seed: 2)
        let f = Self.scalarized(row, seed: 2)
        let checks = DerivativeChecker.checkAll(of: f, at: xs, using: &g)
        #expect(checks.count == 5)
        for check in checks {
            #expect(check.passes(tolerance: 1e-6), "\(row.name) \(check)")
        }
    }

    @Test("HVP equals the dense finite-difference Hessian times v", arguments: opTable)
    func hvpAgainstDenseHessian(_ row: OpCase) {
        let xs = row.inputs(seed: 3)
        let f = Self.scalarized(row, seed: 3)
        // Flatten all inputs into one vector z, so the Hessian is one (n, n) matrix.
        let sizes = xs.map(\.count), n = sizes.reduce(0, +)
        let z = Tensor(xs.flatMap(\.scalars))
        let flat: @Sendable (Variable) -> Variable = { z in
            var parts: [Variable] = [], offset = 0
            for (k, x) in xs.enumerated() {
                parts.append(z.rows(offset..<(offset + sizes[k])).reshaped(x.shape)); offset += sizes[k]
            }
            return f(parts)
        }
        // Dense Hessian by central differences of the gradient along unit vectors: independent of HVP.
        let h = 1e-5
        var dense = Tensor.zeros([n, n])
        for j in 0..<n {
            var zp = z, zm = z
            zp.scalars[j] += h; zm.scalars[j] -= h
            let col = (1 / (2 * h)) * (gradient(of: flat, at: zp) - gradient(of: flat, at: zm))
            for i in 0..<n { dense[i, j] = col.scalars[i] }
        }
        var g = SeededGenerator(seed: 5)
        let v = Tensor.randomNormal([n], using: &g)
        let hv = hessianVectorProduct(of: flat, at: z, along: v)
        let reference = dense.matmul(v.reshaped([n, 1])).reshaped([n])
        let err = hv.maxAbsoluteDifference(reference) / max(reference.scalars.map(abs).max() ?? 0, 1e-12)
        #expect(err < 1e-6, "\(row.name): HVP vs dense Hessian, relative error \(err)")
        // The dense Hessian from HVPs matches the finite-difference one too.
        let fromHVPs = hessian(of: flat, at: z)
        let herr = fromHVPs.maxAbsoluteDifference(dense) / max(dense.scalars.map(abs).max() ?? 0, 1e-12)
        #expect(herr < 1e-6, "\(row.name): hessian(of:at:) vs finite differences, relative error \(herr)")
    }
}
