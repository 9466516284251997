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
    /// Eigendecomposition of a symmetric (n, n) matrix, A = V diag(μ) Vᵀ, by cyclic Jacobi
    /// rotations (accurate to rounding for every eigenvalue, also the tiny ones, which is what a
    /// pseudoinverse needs). Eigenvalues ascending; eigenvectors are the columns of `vectors`.
    public static func symmetricEigen(_ a: Tensor, maxSweeps: Int = 60) -> (values: [Double], vectors: Tensor) {
        require(a.rank == 2 && a.shape.rows == a.shape.cols, "symmetricEigen: needs a square matrix, got shape \(a.shape)")
        let n = a.shape.rows
        var m = a.scalars
        var v = Tensor.identity(n).scalars
        // Symmetrize to remove rounding asymmetry of Hessians built column by column.
        for i in 0..<n { for j in (i + 1)..<n { let s = 0.5 * (m[i * n + j] + m[j * n + i]); m[i * n + j] = s; m[j * n + i] = s } }
        for _ in 0..<maxSweeps {
            var off = 0.0, diag = 0.0
            for i in 0..<n { diag += m[i * n + i] * m[i * n + i]; for j in (i + 1)..<n { off += m[i * n + j] * m[i * n + j] } }
            if off <= 1e-30 * diag || off == 0 { break }
            for p in 0..<n {
                for q in (p + 1)..<n {
                    let apq = m[p * n + q]
                    if apq == 0 { continue }
                    // Rotation angle that zeroes m[p][q]: tan 2θ = 2 a_pq / (a_qq − a_pp), the stable small root.
                    let theta = (m[q * n + q] - m[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {   // columns p and q
                        let mkp = m[k * n + p], mkq = m[k * n + q]
                        m[k * n + p] = c * mkp - s * mkq
                        m[k * n + q] = s * mkp + c * mkq
                    }
                    for k in 0..<n {   // rows p and q
                        let mpk = m[p * n + k], mqk = m[q * n + k]
                        m[p * n + k] = c * mpk - s * mqk
                        m[q * n + k] = s * mpk + c * mqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<n).sorted { m[$0 * n + $0] < m[$1 * n + $1] }
        var vectors = Tensor.zeros([n, n])
        for (newCol, old) in order.enumerated() { for k in 0..<n { vectors.scalars[k * n + newCol] = v[k * n + old] } }
        return (order.map { m[$0 * n + $0] }, vectors)
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
        let (mu, vecs) = symmetricEigen(h)
        let n = h.shape.rows
        let scale = mu.map(abs).max() ?? 0
        let tol = (relativeTolerance ?? defaultRelativeTolerance(rows: n, cols: n)) * scale
        var out = Tensor.zeros([n, n])
        var rank = 0
        for k in 0..<n where abs(mu[k]) > tol {
            rank += 1
            let inv = 1 / mu[k]
            for i in 0..<n { let vik = vecs.scalars[i * n + k] * inv; for j in 0..<n { out.scalars[i * n + j] += vik * vecs.scalars[j * n + k] } }
        }
        return (out, rank)
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
