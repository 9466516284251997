extension Kernels {
    /// c (+)= op(a) · op(b) for row-major rank-2 buffers, where op transposes when asked
    /// (never materialized: the loops read the operand with swapped strides).
    static func matmul(_ a: UnsafePointer<Double>, _ aShape: Shape, _ ta: Bool,
                       _ b: UnsafePointer<Double>, _ bShape: Shape, _ tb: Bool,
                       into c: UnsafeMutablePointer<Double>, accumulate: Bool) {
        let m = ta ? aShape.cols : aShape.rows
        let k = ta ? aShape.rows : aShape.cols
        let n = tb ? bShape.rows : bShape.cols
        let lda = aShape.cols, ldb = bShape.cols
        if !accumulate { c.update(repeating: 0, count: m * n) }
        if k == 0 { return }
        switch (ta, tb) {
        case (false, false):
            for i in 0..<m {
                let ci = c + i * n
                for p in 0..<k {
                    let x = a[i * lda + p], bp = b + p * ldb
                    for j in 0..<n { ci[j] += x * bp[j] }
                }
            }
        case (true, false):
            for p in 0..<k {
                let ap = a + p * lda, bp = b + p * ldb
                for i in 0..<m {
                    let x = ap[i], ci = c + i * n
                    for j in 0..<n { ci[j] += x * bp[j] }
                }
            }
        case (false, true):
            for i in 0..<m {
                let ai = a + i * lda
                for j in 0..<n { c[i * n + j] += dot(ai, b + j * ldb, count: k) }
            }
        case (true, true):
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for p in 0..<k { s += a[p * lda + i] * b[j * ldb + p] }
                    c[i * n + j] += s
                }
            }
        }
    }
}
