import Foundation

/// The symmetric eigensolver behind `LinearAlgebra.symmetricEigen` and `pseudoinverse(symmetric:)`:
/// Householder reduction to tridiagonal form, then the implicit QL algorithm with Wilkinson-type shifts
/// (the EISPACK tred2/tql2 pair). About 9 n³ flops with the vectors, against roughly 10 n³ per sweep times
/// six to ten sweeps for cyclic Jacobi, and every step a backward-stable orthogonal transformation: each
/// eigenvalue comes out within a small multiple of ε‖A‖ of an exact one, the vectors orthonormal to a few ε.
///
/// Storage is column-major in `z` (z[c·n + r] = Z[r][c]), so the inner loops, which run down columns, are
/// contiguous; on return column j of Z is the eigenvector of `d[j]`.
enum TridiagonalQL {
    /// Eigenvalues (ascending) and eigenvectors (column-major n × n, column j for value j) of the
    /// symmetric n × n matrix `a` (row-major; both triangles are averaged first).
    static func eigen(_ a: UnsafePointer<Double>, n: Int) -> (values: [Double], vectors: [Double]) {
        guard n > 0 else { return ([], []) }
        let perm = gradingOrder(a, n)
        var z = [Double](repeating: 0, count: n * n)
        var d = [Double](repeating: 0, count: n), e = [Double](repeating: 0, count: n)
        z.withUnsafeMutableBufferPointer { zb in
            d.withUnsafeMutableBufferPointer { db in
                e.withUnsafeMutableBufferPointer { eb in
                    let z = zb.baseAddress!, d = db.baseAddress!, e = eb.baseAddress!
                    fill(z, a, perm, n)
                    tridiagonalize(z, d, e, n)
                    diagonalize(z, d, e, n)
                    // Undo P on the eigenvectors' rows.
                    var column = [Double](repeating: 0, count: n)
                    for c in 0..<n {
                        for r in 0..<n { column[perm[r]] = z[c * n + r] }
                        for r in 0..<n { z[c * n + r] = column[r] }
                    }
                }
            }
        }
        // Ascending, with the vectors (insertion sort: n is small, and QL leaves the values nearly sorted).
        var order = Array(0..<n)
        for i in 1..<n {
            let k = order[i]
            var j = i
            while j > 0 && d[order[j - 1]] > d[k] { order[j] = order[j - 1]; j -= 1 }
            order[j] = k
        }
        if order == Array(0..<n) { return (d, z) }
        var values = [Double](repeating: 0, count: n), vectors = [Double](repeating: 0, count: n * n)
        for (c, k) in order.enumerated() {
            values[c] = d[k]
            for r in 0..<n { vectors[c * n + r] = z[k * n + r] }
        }
        return (values, vectors)
    }

    /// A plane rotation of the QL sweep on coordinates i and i + 1.
    struct Rotation { var i: Int; var c: Double; var s: Double }

    /// H⁺b = Σ over |μ| > tol·max|μ| of v (vᵀb)/μ for the symmetric n × n matrix `a` (row-major; both triangles
    /// averaged), with tol = `relativeTolerance`, and the rank kept. H = P Q S Λ Sᵀ Qᵀ Pᵀ as in `eigen`, but b
    /// is carried through the factors instead of forming them: Qᵀ as its n − 1 reflections, Sᵀ as the QL
    /// sweep's rotations, logged as they are made and replayed in reverse for S; about a third of `eigen`'s work.
    static func pseudoinverseProduct(_ a: UnsafePointer<Double>, n: Int, _ b: UnsafePointer<Double>,
                                     relativeTolerance: Double) -> (product: [Double], rank: Int) {
        guard n > 0 else { return ([], 0) }
        let perm = gradingOrder(a, n)
        var z = [Double](repeating: 0, count: n * n)
        var d = [Double](repeating: 0, count: n), e = [Double](repeating: 0, count: n)
        var y = [Double](repeating: 0, count: n), h = [Double](repeating: 0, count: n)
        var rotations: [Rotation] = []
        rotations.reserveCapacity(4 * n * n)
        var rank = 0
        z.withUnsafeMutableBufferPointer { zb in
            d.withUnsafeMutableBufferPointer { db in
                e.withUnsafeMutableBufferPointer { eb in
                    y.withUnsafeMutableBufferPointer { yb in
                        h.withUnsafeMutableBufferPointer { hb in
                            let z = zb.baseAddress!, d = db.baseAddress!, e = eb.baseAddress!
                            let y = yb.baseAddress!, h = hb.baseAddress!
                            fill(z, a, perm, n)
                            for r in 0..<n { y[r] = b[perm[r]] }
                            reduce(z, h, e, n)
                            for i in 0..<n { d[i] = z[i * n + i] }
                            // y ← Qᵀy = P₁ ⋯ P_{n−1} y.
                            for i in stride(from: n - 1, to: 0, by: -1) { reflect(y, z + i * n, h[i], i) }
                            e[0] = 0
                            // y ← Sᵀy as the rotations are made.
                            diagonalize(nil, d, e, n, y: y, rotations: &rotations)
                            // y ← Λ⁺y.
                            let tol = relativeTolerance * (0..<n).reduce(0.0) { max($0, abs(d[$1])) }
                            for k in 0..<n {
                                if abs(d[k]) > tol { rank += 1; y[k] /= d[k] } else { y[k] = 0 }
                            }
                            // y ← S y = G₁(⋯(G_R y)). Reversed, a sweep's rotations climb i by one: the coordinate
                            // one rotation writes and the next reads stays in a register.
                            var carried = 0.0, carriedIndex = -1
                            for g in rotations.reversed() {
                                let a = y[g.i + 1], b = g.i == carriedIndex ? carried : y[g.i]
                                y[g.i] = g.c * b + g.s * a
                                carried = g.c * a - g.s * b
                                carriedIndex = g.i + 1
                                y[g.i + 1] = carried
                            }
                            // y ← Q y = P_{n−1}(⋯(P₁ y)).
                            for i in 1..<n { reflect(y, z + i * n, h[i], i) }
                        }
                    }
                }
            }
        }
        var out = [Double](repeating: 0, count: n)
        for r in 0..<n { out[perm[r]] = y[r] }
        return (out, rank)
    }

    /// y ← (I − u uᵀ/h) y on y's first i coordinates (h = 0: no reflection).
    @inline(__always) private static func reflect(_ y: UnsafeMutablePointer<Double>, _ u: UnsafePointer<Double>,
                                                  _ h: Double, _ i: Int) {
        guard h != 0 else { return }
        var t = 0.0
        for k in 0..<i { t += u[k] * y[k] }
        t /= h
        for k in 0..<i { y[k] -= t * u[k] }
    }

    /// The symmetric permutation that makes |diagonal| grow down the rows: Householder from the last row and QL
    /// then meet a graded matrix large end last, the orientation in which they keep the small eigenvalues
    /// accurate (a permutation is exact).
    private static func gradingOrder(_ a: UnsafePointer<Double>, _ n: Int) -> [Int] {
        (0..<n).sorted { (abs(a[$0 * n + $0]), $0) < (abs(a[$1 * n + $1]), $1) }
    }

    /// Z = P (A + Aᵀ)/2 Pᵀ, column-major: symmetrized (removing the rounding asymmetry of a Hessian assembled
    /// from products) and permuted.
    private static func fill(_ z: UnsafeMutablePointer<Double>, _ a: UnsafePointer<Double>, _ perm: [Int], _ n: Int) {
        for c in 0..<n { for r in 0..<n { z[c * n + r] = 0.5 * (a[perm[r] * n + perm[c]] + a[perm[c] * n + perm[r]]) } }
    }

    /// Householder reduction of the symmetric Z to tridiagonal T = QᵀZQ: on return d holds T's diagonal,
    /// e[1..<n] its subdiagonal (e[0] = 0), and Z holds Q.
    private static func tridiagonalize(_ z: UnsafeMutablePointer<Double>, _ d: UnsafeMutablePointer<Double>,
                                       _ e: UnsafeMutablePointer<Double>, _ n: Int) {
        reduce(z, d, e, n)
        accumulate(z, d, e, n)
    }

    /// The reflections of the reduction, Q = P_{n−1} ⋯ P₁ with Pᵢ = I − uᵢuᵢᵀ/hᵢ: on return uᵢ is column i of Z
    /// above the diagonal, hᵢ = d[i] (0: no reflection), T's diagonal is Z's and e[1..<n] its subdiagonal.
    private static func reduce(_ z: UnsafeMutablePointer<Double>, _ d: UnsafeMutablePointer<Double>,
                               _ e: UnsafeMutablePointer<Double>, _ n: Int) {
        @inline(__always) func at(_ r: Int, _ c: Int) -> UnsafeMutablePointer<Double> { z + (c &* n &+ r) }
        for j in 0..<n { d[j] = at(n - 1, j).pointee }
        for i in stride(from: n - 1, to: 0, by: -1) {
            // Row i, columns 0..<i, is reduced; scaling by Σ|dₖ| keeps h = ‖u‖² away from under- and overflow.
            var scale = 0.0, h = 0.0
            for k in 0..<i { scale += abs(d[k]) }
            if scale == 0 {
                e[i] = d[i - 1]
                for j in 0..<i { d[j] = at(i - 1, j).pointee; at(i, j).pointee = 0; at(j, i).pointee = 0 }
            } else {
                for k in 0..<i { d[k] /= scale; h += d[k] * d[k] }
                var f = d[i - 1]
                var g = h.squareRoot()
                if f > 0 { g = -g }
                e[i] = scale * g
                h -= f * g
                d[i - 1] = f - g
                for j in 0..<i { e[j] = 0 }
                // p = Z u / h on the leading i × i block (its lower triangle), stored in e.
                for j in 0..<i {
                    f = d[j]
                    at(j, i).pointee = f
                    g = e[j] + at(j, j).pointee * f
                    if j + 1 < i {
                        for k in (j + 1)..<i { let zkj = at(k, j).pointee; g += zkj * d[k]; e[k] += zkj * f }
                    }
                    e[j] = g
                }
                f = 0
                for j in 0..<i { e[j] /= h; f += e[j] * d[j] }
                let hh = f / (h + h)
                for j in 0..<i { e[j] -= hh * d[j] }
                // Z ← Z − u qᵀ − q uᵀ with q = p − (uᵀp / 2h) u.
                for j in 0..<i {
                    f = d[j]; g = e[j]
                    for k in j..<i { at(k, j).pointee -= f * e[k] + g * d[k] }
                    d[j] = at(i - 1, j).pointee
                    at(i, j).pointee = 0
                }
            }
            d[i] = h
        }
    }

    /// Q from `reduce`'s reflections into Z, T's diagonal into d.
    private static func accumulate(_ z: UnsafeMutablePointer<Double>, _ d: UnsafeMutablePointer<Double>,
                                   _ e: UnsafeMutablePointer<Double>, _ n: Int) {
        @inline(__always) func at(_ r: Int, _ c: Int) -> UnsafeMutablePointer<Double> { z + (c &* n &+ r) }
        for i in 0..<(n - 1) {
            at(n - 1, i).pointee = at(i, i).pointee
            at(i, i).pointee = 1
            let h = d[i + 1]
            if h != 0 {
                for k in 0...i { d[k] = at(k, i + 1).pointee / h }
                for j in 0...i {
                    var g = 0.0
                    for k in 0...i { g += at(k, i + 1).pointee * at(k, j).pointee }
                    for k in 0...i { at(k, j).pointee -= g * d[k] }
                }
            }
            for k in 0...i { at(k, i + 1).pointee = 0 }
        }
        for j in 0..<n { d[j] = at(n - 1, j).pointee; at(n - 1, j).pointee = 0 }
        at(n - 1, n - 1).pointee = 1
        e[0] = 0
    }

    /// √(x² + y²) without spurious overflow or underflow: directly when x² + y² is a normal number, else `hypot`.
    @inline(__always) private static func radius(_ x: Double, _ y: Double) -> Double {
        let s = x * x + y * y
        return s.isNormal ? s.squareRoot() : hypot(x, y)
    }

    /// Implicit QL on the tridiagonal (d, e) with Q in Z: on return d holds the eigenvalues (unsorted) and
    /// Z's columns the eigenvectors of the original matrix. A subdiagonal entry counts as zero once it is at
    /// most ε times the largest |dₗ| + |eₗ| seen so far (the EISPACK test).
    /// With `z` nil no vectors are formed: each rotation (i, c, s) is applied to the row vector yᵀ as to a row
    /// of Z (making yᵀS, S = G₁ ⋯ G_R, T = S Λ Sᵀ) and appended to `rotations`.
    private static func diagonalize(_ z: UnsafeMutablePointer<Double>?, _ d: UnsafeMutablePointer<Double>,
                                    _ e: UnsafeMutablePointer<Double>, _ n: Int,
                                    y: UnsafeMutablePointer<Double>? = nil, rotations: UnsafeMutablePointer<[Rotation]>? = nil) {
        for i in 1..<n { e[i - 1] = e[i] }
        e[n - 1] = 0
        var f = 0.0, tst1 = 0.0
        let eps = Double.ulpOfOne
        for l in 0..<n {
            tst1 = max(tst1, abs(d[l]) + abs(e[l]))
            var m = l
            while m < n - 1 && abs(e[m]) > eps * tst1 { m += 1 }
            if m > l {
                // Each eigenvalue converges in two or three steps; the cap only guards against a NaN-free
                // pathology that would otherwise loop (a NaN ends the loop through the comparison).
                var steps = 0
                repeat {
                    steps += 1
                    // The shift: the eigenvalue of the leading 2 × 2 block nearer to d[l].
                    var g = d[l]
                    var p = (d[l + 1] - g) / (2 * e[l])
                    var r = (p * p + 1).squareRoot()
                    if p < 0 { r = -r }
                    d[l] = e[l] / (p + r)
                    d[l + 1] = e[l] * (p + r)
                    let dl1 = d[l + 1]
                    var h = g - d[l]
                    if l + 2 < n { for i in (l + 2)..<n { d[i] -= h } }
                    f += h
                    // The QL sweep from m − 1 up to l, rotating the columns of Z alongside.
                    p = d[m]
                    var c = 1.0, c2 = 1.0, c3 = 1.0, s = 0.0, s2 = 0.0
                    let el1 = e[l + 1]
                    for i in stride(from: m - 1, through: l, by: -1) {
                        c3 = c2; c2 = c; s2 = s
                        g = c * e[i]
                        h = c * p
                        r = radius(p, e[i])
                        e[i + 1] = s * r
                        s = e[i] / r
                        c = p / r
                        p = c * d[i] - s * g
                        d[i + 1] = h + s * (c * g + s * d[i])
                        if let z {
                            let zi = z + i &* n, zi1 = z + (i + 1) &* n
                            for k in 0..<n {
                                let a = zi1[k], b = zi[k]
                                zi1[k] = s * b + c * a
                                zi[k] = c * b - s * a
                            }
                        } else if let y, let rotations {
                            let a = y[i + 1], b = y[i]
                            y[i + 1] = s * b + c * a
                            y[i] = c * b - s * a
                            rotations.pointee.append(Rotation(i: i, c: c, s: s))
                        }
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1
                    e[l] = s * p
                    d[l] = c * p
                } while abs(e[l]) > eps * tst1 && steps < 60
            }
            d[l] += f
            e[l] = 0
        }
    }
}
