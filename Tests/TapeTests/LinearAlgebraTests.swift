import Testing
import Tape

@Suite("Dense linear algebra")
struct LinearAlgebraTests {
    /// A random orthogonal matrix by Gram–Schmidt, written here so the tests do not rely on the code under test.
    static func randomOrthogonal(_ n: Int, _ g: inout SeededGenerator) -> Tensor {
        var cols: [[Double]] = []
        while cols.count < n {
            var v = (0..<n).map { _ in g.nextNormal() }
            for c in cols { let d = zip(v, c).reduce(0) { $0 + $1.0 * $1.1 }; v = zip(v, c).map { $0 - d * $1 } }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            cols.append(v.map { $0 / norm })
        }
        var q = Tensor.zeros([n, n])
        for i in 0..<n { for j in 0..<n { q[i, j] = cols[j][i] } }
        return q
    }

    static func diag(_ d: [Double]) -> Tensor {
        var t = Tensor.zeros([d.count, d.count]); for i in d.indices { t[i, i] = d[i] }; return t
    }

    @Test("symmetric eigendecomposition recovers constructed eigenvalues, including zeros")
    func eigen() {
        var g = SeededGenerator(seed: 1)
        let n = 7
        let q = Self.randomOrthogonal(n, &g)
        let d: [Double] = [-2, 0, 0, 1e-3, 0.5, 3, 10]
        let a = q.matmul(Self.diag(d)).matmul(q, transposeOther: true)
        let (mu, v) = LinearAlgebra.symmetricEigen(a)
        for (x, y) in zip(mu, d) { #expect(abs(x - y) < 1e-13, "eigenvalue \(x) vs \(y)") }
        #expect(v.matmul(v, transposeSelf: true).maxAbsoluteDifference(.identity(n)) < 1e-13)
        #expect(v.matmul(Self.diag(mu)).matmul(v, transposeOther: true).maxAbsoluteDifference(a) < 1e-12)
        // a 2 × 2 by hand: [[2, 1], [1, 2]] has eigenvalues 1 and 3
        #expect(LinearAlgebra.symmetricEigen(Tensor(rows: [[2, 1], [1, 2]])).values.map { ($0 * 1e12).rounded() / 1e12 } == [1, 3])
    }

    @Test("pseudoinverse: closed form on a rank-1 matrix and the four Penrose conditions")
    func pseudoinverse() {
        // A = u uᵀ with u = (1, 2): A⁺ = A / ‖u‖⁴ = A / 25.
        let a = Tensor(rows: [[1, 2], [2, 4]])
        let (pinv, rank) = LinearAlgebra.pseudoinverse(a)
        #expect(rank == 1)
        #expect(pinv.maxAbsoluteDifference((1.0 / 25) * a) < 1e-15)
        let (spinv, srank) = LinearAlgebra.pseudoinverse(symmetric: a)
        #expect(srank == 1 && spinv.maxAbsoluteDifference((1.0 / 25) * a) < 1e-15)
        // A wide rank-deficient matrix: 3 × 5 of rank 2.
        var g = SeededGenerator(seed: 3)
        let b = Tensor.randomNormal([3, 2], using: &g).matmul(Tensor.randomNormal([2, 5], using: &g))
        let (p, r) = LinearAlgebra.pseudoinverse(b)
        #expect(r == 2)
        #expect(b.matmul(p).matmul(b).maxAbsoluteDifference(b) < 1e-12)
        #expect(p.matmul(b).matmul(p).maxAbsoluteDifference(p) < 1e-12)
        let bp = b.matmul(p), pb = p.matmul(b)
        #expect(bp.maxAbsoluteDifference(bp.transposed()) < 1e-12)
        #expect(pb.maxAbsoluteDifference(pb.transposed()) < 1e-12)
        // A full-rank square matrix: the pseudoinverse is the inverse.
        let c = Tensor(rows: [[4, 1], [2, 3]])   // inverse = [[3, −1], [−2, 4]] / 10
        #expect(LinearAlgebra.pseudoinverse(c).inverse.maxAbsoluteDifference(Tensor(rows: [[0.3, -0.1], [-0.2, 0.4]])) < 1e-15)
    }

    @Test("Cholesky solve, and a clear error on a matrix that is not positive definite")
    func cholesky() throws {
        let a = Tensor(rows: [[4, 2], [2, 3]])   // solution of A x = (2, 1): x = (0.5, 0)
        let x = try LinearAlgebra.choleskySolve(a, Tensor([2, 1]))
        #expect(x.maxAbsoluteDifference(Tensor([0.5, 0])) < 1e-15)
        #expect(throws: LinearAlgebraError.notPositiveDefinite(pivot: 1, value: -3)) {
            try LinearAlgebra.cholesky(Tensor(rows: [[1, 2], [2, 1]]))
        }
        let message = String(describing: LinearAlgebraError.notPositiveDefinite(pivot: 1, value: -3))
        #expect(message.contains("not positive definite") && message.contains("damping"))
    }

    @Test("conjugate gradient: exact in n steps on SPD, truncated, damped, and breakdown on indefinite")
    func conjugateGradient() {
        var g = SeededGenerator(seed: 5)
        let n = 6
        let q = LinearAlgebraTests.randomOrthogonal(n, &g)
        let a = q.matmul(Self.diag([1, 2, 3, 4, 5, 6])).matmul(q, transposeOther: true)
        let b = Tensor.randomNormal([n], using: &g)
        let apply: (Tensor) -> Tensor = { a.matmul($0.reshaped([n, 1])).reshaped([n]) }
        let exact = try! LinearAlgebra.choleskySolve(a, b)
        let r = ConjugateGradient.solve(apply, b, maxIterations: 50)
        #expect(r.status == .converged && r.iterations <= n)
        #expect(r.solution.maxAbsoluteDifference(exact) < 1e-10)
        let t = ConjugateGradient.solve(apply, b, maxIterations: 2)
        #expect(t.status == .iterationLimit && t.iterations == 2)
        // damping: (A + η I) x = b
        let damped = ConjugateGradient.solve(apply, b, damping: 0.5, maxIterations: 50)
        let dampedExact = try! LinearAlgebra.choleskySolve(a + 0.5 * .identity(n), b)
        #expect(damped.solution.maxAbsoluteDifference(dampedExact) < 1e-10)
        // indefinite operator: breakdown with a diagnostic, never a blow-up
        let indefinite = q.matmul(Self.diag([1, -2, 3, 4, 5, 6])).matmul(q, transposeOther: true)
        let negativeDirection = Tensor((0..<n).map { q[$0, 1] })   // the eigenvector of −2: pᵀAp < 0 at once
        let bad = ConjugateGradient.solve({ indefinite.matmul($0.reshaped([n, 1])).reshaped([n]) }, negativeDirection, maxIterations: 50)
        if case .breakdown = bad.status {} else { Issue.record("expected breakdown, got \(bad.status)") }
        #expect(bad.solution.isFinite)
        #expect(bad.status.description.contains("indefinite"))
    }
}
