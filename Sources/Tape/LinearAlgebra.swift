import Foundation

/// Errors of the dense linear algebra routines.
public enum LinearAlgebraError: Error, CustomStringConvertible, Equatable {
    /// Cholesky met a non-positive pivot: the matrix is not symmetric positive definite.
    case notPositiveDefinite(pivot: Int, value: Double)
    /// A shape that the routine cannot take.
    case shape(String)

    /// The message; for Cholesky, the failing pivot and what to do instead.
    public var description: String {
        switch self {
        case let .notPositiveDefinite(pivot, value):
            "Cholesky: matrix is not positive definite (pivot \(pivot) is \(value)); add damping or use the pseudoinverse"
        case let .shape(message): message
        }
    }
}

/// Small dense linear algebra on rank-2 `Tensor`s (the sizes a bilevel problem's exact
/// hypergradient needs: up to a few hundred unknowns).
public enum LinearAlgebra {
    /// Eigendecomposition of a symmetric (n, n) matrix, A = V diag(μ) Vᵀ (both triangles averaged first), by
    /// Householder tridiagonalization and implicit QL (`TridiagonalQL`): every eigenvalue within a small
    /// multiple of ε‖A‖ of an exact one. Eigenvalues ascending; eigenvectors are the columns of `vectors`.
    public static func symmetricEigen(_ a: Tensor) -> (values: [Double], vectors: Tensor) {
        require(a.rank == 2 && a.shape.rows == a.shape.cols, "symmetricEigen: needs a square matrix, got shape \(a.shape)")
        let n = a.shape.rows
        let (values, z) = a.scalars.withUnsafeBufferPointer { TridiagonalQL.eigen($0.baseAddress!, n: n) }
        // z is column-major: its transpose is V row-major.
        return (values, Tensor(shape: [n, n], scalars: z).transposed())
    }

    /// The default pseudoinverse cut-off: singular values ≤ max(m, n) · ε · σ_max count as zero
    /// (the NumPy and MATLAB convention).
    public static func defaultRelativeTolerance(rows: Int, cols: Int) -> Double {
        Double(max(rows, cols)) * Double.ulpOfOne
    }

    /// Singular value decomposition A = U diag(σ) Vᵀ of an (m, n) matrix by one-sided Jacobi
    /// (Hestenes) rotations. Returns U (m, r), σ (r, descending), V (n, r) with r = min(m, n).
    public static func singularValueDecomposition(_ a: Tensor, maxSweeps: Int = 60) -> (u: Tensor, singularValues: [Double], v: Tensor) {
        require(a.rank == 2, "singularValueDecomposition: needs a matrix, got shape \(a.shape)")
        if a.shape.rows < a.shape.cols {   // work on the tall orientation
            let t = singularValueDecomposition(a.transposed(), maxSweeps: maxSweeps)
            return (t.v, t.singularValues, t.u)
        }
        let m = a.shape.rows, n = a.shape.cols
        var u = a.transposed().scalars            // columns of A as rows: u[j*m + i] = A[i][j]
        var v = Tensor.identity(n).scalars      // rows are columns of V likewise
        for _ in 0..<maxSweeps {
            var rotated = false
            for p in 0..<n {
                for q in (p + 1)..<n {
                    var alpha = 0.0, beta = 0.0, gamma = 0.0
                    for i in 0..<m { let x = u[p * m + i], y = u[q * m + i]; alpha += x * x; beta += y * y; gamma += x * y }
                    if gamma == 0 || abs(gamma) <= 1e-15 * (alpha * beta).squareRoot() { continue }
                    rotated = true
                    let zeta = (beta - alpha) / (2 * gamma)
                    let t = (zeta >= 0 ? 1 : -1) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                    let c = 1 / (1 + t * t).squareRoot(), s = c * t
                    for i in 0..<m { let x = u[p * m + i], y = u[q * m + i]; u[p * m + i] = c * x - s * y; u[q * m + i] = s * x + c * y }
                    for i in 0..<n { let x = v[p * n + i], y = v[q * n + i]; v[p * n + i] = c * x - s * y; v[q * n + i] = s * x + c * y }
                }
            }
            if !rotated { break }
        }
        let norms = (0..<n).map { j in (0..<m).reduce(0.0) { $0 + u[j * m + $1] * u[j * m + $1] }.squareRoot() }
        let order = (0..<n).sorted { norms[$0] > norms[$1] }
        var uOut = Tensor.zeros([m, n]), vOut = Tensor.zeros([n, n])
        for (col, j) in order.enumerated() {
            let inv = norms[j] > 0 ? 1 / norms[j] : 0
            for i in 0..<m { uOut.scalars[i * n + col] = u[j * m + i] * inv }
            for i in 0..<n { vOut.scalars[i * n + col] = v[j * n + i] }
        }
        return (uOut, order.map { norms[$0] }, vOut)
    }

    /// Moore–Penrose pseudoinverse A⁺ (n, m) of an (m, n) matrix: V diag(1/σ) Uᵀ over the singular
    /// values σ > tolerance · σ_max (default `defaultRelativeTolerance`). Returns A⁺ and the rank kept.
    public static func pseudoinverse(_ a: Tensor, relativeTolerance: Double? = nil) -> (inverse: Tensor, rank: Int) {
        let (u, s, v) = singularValueDecomposition(a)
        let tol = (relativeTolerance ?? defaultRelativeTolerance(rows: a.shape.rows, cols: a.shape.cols)) * (s.first ?? 0)
        let (m, n, r) = (a.shape.rows, a.shape.cols, s.count)
        var out = Tensor.zeros([n, m])
        var rank = 0
        for k in 0..<r where s[k] > tol {
            rank += 1
            let inv = 1 / s[k]
            for i in 0..<n { let vik = v.scalars[i * r + k] * inv; for j in 0..<m { out.scalars[i * m + j] += vik * u.scalars[j * r + k] } }
        }
        return (out, rank)
    }

    /// Pseudoinverse of a symmetric matrix from its eigendecomposition: Σ over |μ| > tol·max|μ| of
    /// v vᵀ / μ. Returns H⁺ and the rank kept.
    public static func pseudoinverse(symmetric h: Tensor, relativeTolerance: Double? = nil) -> (inverse: Tensor, rank: Int) {
        require(h.rank == 2 && h.shape.rows == h.shape.cols, "pseudoinverse(symmetric:): needs a square matrix, got shape \(h.shape)")
        let n = h.shape.rows
        let (mu, z) = h.scalars.withUnsafeBufferPointer { TridiagonalQL.eigen($0.baseAddress!, n: n) }
        let scale = mu.map(abs).max() ?? 0
        let tol = (relativeTolerance ?? defaultRelativeTolerance(rows: n, cols: n)) * scale
        var out = [Double](repeating: 0, count: n * n)
        var rank = 0
        z.withUnsafeBufferPointer { zb in
            out.withUnsafeMutableBufferPointer { ob in
                let z = zb.baseAddress!, o = ob.baseAddress!
                for k in 0..<n where abs(mu[k]) > tol {
                    rank += 1
                    let inv = 1 / mu[k], v = z + k * n   // eigenvector k: column k of V, contiguous in z
                    for i in 0..<n { let vik = v[i] * inv, row = o + i * n; for j in 0..<n { row[j] += vik * v[j] } }
                }
            }
        }
        return (Tensor(shape: [n, n], scalars: out), rank)
    }

    /// H⁺b for a symmetric (n, n) H and b of n elements (any shape, kept): the minimum-norm least-squares
    /// solution of H x = b, Σ over |μ| > tol·max|μ| of v (vᵀb)/μ (tol as in `pseudoinverse(symmetric:)`),
    /// carried through the eigendecomposition's factors without forming H⁺ or the eigenvectors. Returns it
    /// and the rank kept.
    public static func pseudoinverse(symmetric h: Tensor, times b: Tensor, relativeTolerance: Double? = nil) -> (product: Tensor, rank: Int) {
        require(h.rank == 2 && h.shape.rows == h.shape.cols, "pseudoinverse(symmetric:times:): needs a square matrix, got shape \(h.shape)")
        let n = h.shape.rows
        require(b.count == n, "pseudoinverse(symmetric:times:): matrix \(h.shape) and vector \(b.shape) do not fit")
        let tol = relativeTolerance ?? defaultRelativeTolerance(rows: n, cols: n)
        let (x, rank) = h.scalars.withUnsafeBufferPointer { hp in
            b.scalars.withUnsafeBufferPointer { bp in
                TridiagonalQL.pseudoinverseProduct(hp.baseAddress!, n: n, bp.baseAddress!, relativeTolerance: tol)
            }
        }
        return (Tensor(shape: b.shape, scalars: x), rank)
    }

    /// Lower-triangular L with A = L Lᵀ for a symmetric positive definite (n, n) matrix.
    public static func cholesky(_ a: Tensor) throws -> Tensor {
        guard a.rank == 2, a.shape.rows == a.shape.cols else {
            throw LinearAlgebraError.shape("Cholesky: needs a square matrix, got shape \(a.shape)")
        }
        let n = a.shape.rows
        var l = Tensor.zeros([n, n])
        for j in 0..<n {
            var d = a.scalars[j * n + j]
            for k in 0..<j { d -= l.scalars[j * n + k] * l.scalars[j * n + k] }
            guard d > 0, d.isFinite else { throw LinearAlgebraError.notPositiveDefinite(pivot: j, value: d) }
            let ljj = d.squareRoot()
            l.scalars[j * n + j] = ljj
            for i in (j + 1)..<n {
                var s = a.scalars[i * n + j]
                for k in 0..<j { s -= l.scalars[i * n + k] * l.scalars[j * n + k] }
                l.scalars[i * n + j] = s / ljj
            }
        }
        return l
    }

    /// Solves A x = b for symmetric positive definite A (n, n) and b of n elements (any shape) by Cholesky.
    public static func choleskySolve(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let l = try cholesky(a)
        let n = a.shape.rows
        guard b.count == n else { throw LinearAlgebraError.shape("choleskySolve: matrix \(a.shape) and right-hand side \(b.shape) do not fit") }
        var y = b.scalars
        for i in 0..<n { for k in 0..<i { y[i] -= l.scalars[i * n + k] * y[k] }; y[i] /= l.scalars[i * n + i] }          // L y = b
        for i in stride(from: n - 1, through: 0, by: -1) {                                                                  // Lᵀ x = y
            for k in (i + 1)..<n { y[i] -= l.scalars[k * n + i] * y[k] }
            y[i] /= l.scalars[i * n + i]
        }
        return Tensor(shape: b.shape, scalars: y)
    }
}
