import Foundation
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

    /// ‖A − VΛVᵀ‖_max / ‖A‖_max, ‖VᵀV − I‖_max and whether the values ascend, for `symmetricEigen(a)`.
    static func eigenErrors(_ a: Tensor) -> (reconstruction: Double, orthogonality: Double, ascending: Bool, values: [Double]) {
        let n = a.shape.rows
        let (mu, v) = LinearAlgebra.symmetricEigen(a)
        let scale = max(a.scalars.map(abs).max() ?? 0, .leastNormalMagnitude)
        let reconstruction = v.matmul(diag(mu)).matmul(v, transposeOther: true).maxAbsoluteDifference(a) / scale
        let orthogonality = v.matmul(v, transposeSelf: true).maxAbsoluteDifference(.identity(n))
        return (reconstruction, orthogonality, zip(mu, mu.dropFirst()).allSatisfy { $0 <= $1 }, mu)
    }

    /// Q diag(d) Qᵀ with a seeded random orthogonal Q.
    static func withEigenvalues(_ d: [Double], seed: UInt64) -> Tensor {
        var g = SeededGenerator(seed: seed)
        let q = randomOrthogonal(d.count, &g)
        let a = q.matmul(diag(d)).matmul(q, transposeOther: true)
        return 0.5 * (a + a.transposed())   // exactly symmetric
    }

    @Test("symmetric eigensolver: reconstruction, orthogonality and ascending order on random matrices of several sizes")
    func eigenRandom() {
        for (n, seed) in [(2, 11), (3, 12), (5, 13), (21, 14), (40, 15), (97, 16)] {
            var g = SeededGenerator(seed: UInt64(seed))
            let b = Tensor.randomNormal([n, n], using: &g)
            let e = Self.eigenErrors(0.5 * (b + b.transposed()))
            #expect(e.reconstruction < 1e-14 * Double(n) && e.orthogonality < 1e-14 * Double(n) && e.ascending,
                    "n = \(n): reconstruction \(e.reconstruction), orthogonality \(e.orthogonality)")
        }
    }

    @Test("symmetric eigensolver: constructed spectra (repeated, clustered, zero, negative, graded over 12 decades)")
    func eigenConstructed() {
        let spectra: [[Double]] = [
            [1, 1, 1, 1, 1, 2, 2, 2, -3, -3],                          // repeated eigenvalues
            [1, 1 + 1e-12, 1 + 2e-12, 5, 5 + 1e-14, -1],               // clusters
            [0, 0, 0, 0, 1e-3, 2, -7],                                // rank-deficient, indefinite
            (0..<13).map { Foundation.pow(10, -Double($0)) },         // 1 … 1e-12
            (0..<9).map { Double($0) - 4 },                            // integers through zero
        ]
        for (k, d) in spectra.enumerated() {
            let a = Self.withEigenvalues(d, seed: 20 + UInt64(k))
            let e = Self.eigenErrors(a)
            let norm = d.map(abs).max()!
            let sorted = d.sorted()
            let valueError = zip(e.values, sorted).map { abs($0 - $1) }.max()! / norm
            #expect(valueError < 1e-14, "spectrum \(k): eigenvalues \(e.values) against \(sorted)")
            #expect(e.reconstruction < 1e-14 && e.orthogonality < 1e-14 && e.ascending,
                    "spectrum \(k): reconstruction \(e.reconstruction), orthogonality \(e.orthogonality)")
        }
    }

    @Test("symmetric eigensolver: zero, 1 × 1, diagonal, already tridiagonal and rank-one matrices exactly")
    func eigenSpecial() {
        // Zero: eigenvalues 0, V orthogonal.
        let zero = LinearAlgebra.symmetricEigen(.zeros([4, 4]))
        #expect(zero.values == [0, 0, 0, 0])
        #expect(zero.vectors.matmul(zero.vectors, transposeSelf: true).maxAbsoluteDifference(.identity(4)) == 0)
        // 1 × 1: the entry itself, vector (1).
        let one = LinearAlgebra.symmetricEigen(Tensor(rows: [[-2.5]]))
        #expect(one.values == [-2.5] && one.vectors.scalars == [1])
        // Diagonal: the diagonal sorted, with exact unit vectors (no rotation is needed, none may be made).
        let diagonal = LinearAlgebra.symmetricEigen(Self.diag([3, -1, 0, 7, 2]))
        #expect(diagonal.values == [-1, 0, 2, 3, 7])
        #expect(diagonal.vectors.scalars.allSatisfy { $0 == 0 || abs($0) == 1 })
        let d = Self.eigenErrors(Self.diag([3, -1, 0, 7, 2]))
        #expect(d.reconstruction == 0 && d.orthogonality == 0)
        // The 2 × 2 [[2, 1], [1, 2]]: eigenvalues 1 and 3 with vectors (1, −1)/√2 and (1, 1)/√2.
        let two = LinearAlgebra.symmetricEigen(Tensor(rows: [[2, 1], [1, 2]]))
        #expect(abs(two.values[0] - 1) < 1e-15 && abs(two.values[1] - 3) < 1e-15)
        #expect(abs(abs(two.vectors[0, 1]) - 0.5.squareRoot()) < 1e-15 && two.vectors[0, 1] * two.vectors[1, 1] > 0)
        #expect(two.vectors[0, 0] * two.vectors[1, 0] < 0)
        // The path graph's Laplacian-like tridiagonal [2 −1; −1 2 −1; …] (n = 8): μₖ = 2 − 2 cos(kπ/9).
        var t = Tensor.zeros([8, 8])
        for i in 0..<8 { t[i, i] = 2; if i > 0 { t[i, i - 1] = -1; t[i - 1, i] = -1 } }
        let path = Self.eigenErrors(t)
        let closed = (1...8).map { 2 - 2 * Foundation.cos(Double($0) * Double.pi / 9) }
        #expect(zip(path.values, closed).allSatisfy { abs($0 - $1) < 1e-14 }, "\(path.values) against \(closed)")
        // Rank one, u uᵀ with u = (1, 2, 2): eigenvalues 0, 0, 9, the last vector ±u/3.
        let u: [Double] = [1, 2, 2]
        let r1 = LinearAlgebra.symmetricEigen(Tensor(shape: [3, 3], scalars: u.flatMap { a in u.map { a * $0 } }))
        #expect(abs(r1.values[0]) < 1e-14 && abs(r1.values[1]) < 1e-14 && abs(r1.values[2] - 9) < 1e-14)
        let top = (0..<3).map { r1.vectors[$0, 2] }
        #expect(zip(top, u).allSatisfy { abs(abs($0) - $1 / 3) < 1e-14 } && top[0] * top[1] > 0 && top[1] * top[2] > 0)
    }

    @Test("symmetric eigensolver: an asymmetric input is symmetrized, (A + Aᵀ)/2")
    func eigenSymmetrizes() {
        let a = Tensor(rows: [[2, 1 + 1e-9], [1 - 1e-9, 2]])
        let (mu, _) = LinearAlgebra.symmetricEigen(a)
        #expect(abs(mu[0] - 1) < 1e-15 && abs(mu[1] - 3) < 1e-15)
    }

    @Test("pseudoinverse of a symmetric matrix: H⁺ = Q diag(1/μ) Qᵀ on the kept eigenvalues, rank by the cut-off")
    func symmetricPseudoinverse() {
        var g = SeededGenerator(seed: 31)
        let q = Self.randomOrthogonal(6, &g)
        let d: [Double] = [4, -2, 1e-3, 1e-12, 0, 0]
        let h = q.matmul(Self.diag(d)).matmul(q, transposeOther: true)
        // Cut-off 1e-10 · 4: 1e-12 and the zeros are dropped.
        let (pinv, rank) = LinearAlgebra.pseudoinverse(symmetric: h, relativeTolerance: 1e-10)
        let closed = q.matmul(Self.diag([0.25, -0.5, 1e3, 0, 0, 0])).matmul(q, transposeOther: true)
        #expect(rank == 3)
        #expect(pinv.maxAbsoluteDifference(closed) < 1e-12 * 1e3, "error \(pinv.maxAbsoluteDifference(closed))")
        // With the default cut-off (6 ε · 4) 1e-12 is kept: rank 4.
        #expect(LinearAlgebra.pseudoinverse(symmetric: h).rank == 4)
        #expect(LinearAlgebra.pseudoinverse(symmetric: .zeros([3, 3])).rank == 0)
    }

    @Test("H⁺b without forming H⁺: the closed form Q diag(1/μ) Qᵀ b, rank by the cut-off, and degenerate shapes")
    func symmetricPseudoinverseTimes() {
        var g = SeededGenerator(seed: 41)
        for (k, d) in [[4, -2, 1e-3, 1e-12, 0, 0], [1, 1, 1, 2, 2], [3], (0..<21).map { Foundation.pow(0.5, Double($0)) }].enumerated() {
            let n = d.count
            let q = Self.randomOrthogonal(n, &g)
            let h = q.matmul(Self.diag(d)).matmul(q, transposeOther: true)
            let b = Tensor.randomNormal([n], using: &g)
            let (x, rank) = LinearAlgebra.pseudoinverse(symmetric: h, times: b, relativeTolerance: 1e-10)
            let kept = d.map { abs($0) > 1e-10 * d.map(abs).max()! ? 1 / $0 : 0 }
            let closed = q.matmul(Self.diag(kept)).matmul(q, transposeOther: true).matmul(b.reshaped([n, 1])).reshaped([n])
            #expect(rank == kept.filter { $0 != 0 }.count && x.shape == b.shape)
            // The condition of the kept part, ‖H‖/μ_min, bounds the sensitivity to H's rounding (ε‖H‖).
            let bound = 100 * Double.ulpOfOne * d.map(abs).max()! * kept.map(abs).max()!
            let err = (x - closed).norm / closed.norm
            #expect(err < bound, "spectrum \(k): relative error \(err), bound \(bound)")
            // The same as the formed pseudoinverse times b.
            let formed = LinearAlgebra.pseudoinverse(symmetric: h, relativeTolerance: 1e-10)
            #expect(formed.rank == rank)
            #expect((formed.inverse.matmul(b.reshaped([n, 1])).reshaped([n]) - x).norm <= bound * closed.norm)
        }
        let zero = LinearAlgebra.pseudoinverse(symmetric: .zeros([3, 3]), times: Tensor([1, 2, 3]))
        #expect(zero.rank == 0 && zero.product == .zeros([3]))
        let one = LinearAlgebra.pseudoinverse(symmetric: Tensor(rows: [[4]]), times: Tensor([2]))
        #expect(one.rank == 1 && one.product.scalars == [0.5])
        // A diagonal H: exactly bᵢ/hᵢ where hᵢ is kept.
        let diagonal = LinearAlgebra.pseudoinverse(symmetric: Self.diag([2, 0, -4, 8]), times: Tensor([1, 5, 1, 1]))
        #expect(diagonal.rank == 3 && diagonal.product.scalars == [0.5, 0, -0.25, 0.125])
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
