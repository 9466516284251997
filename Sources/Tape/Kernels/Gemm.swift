import TapeKernels

/// Runs the matrix products of a sweep with the C kernel (Sources/TapeKernels/gemm.c): packed,
/// cache-blocked, AVX2 + FMA when the CPU has them (checked at run time), else portable C.
/// Products of at least `TK_PARALLEL_MIN_MACS` multiply-adds are split over the worker pool
/// (Sources/TapeKernels/pool.c); every element of C is still summed by one thread in the same
/// order, so results do not depend on the number of threads.
struct GemmContext {
    unowned(unsafe) let arena: Arena

    /// (m, n, k) of op(A)·op(B) for row-major A and B of these shapes.
    @inline(__always)
    private static func sizes(_ aShape: Shape, _ ta: Bool, _ bShape: Shape, _ tb: Bool) -> (m: Int, n: Int, k: Int) {
        (ta ? aShape.cols : aShape.rows, tb ? bShape.rows : bShape.cols, ta ? aShape.rows : aShape.cols)
    }

    /// The packing buffer an m × n × k product needs: none on the direct path, which never touches it,
    /// so small products do not make the arena allocate it.
    @inline(__always)
    private func workspace(_ m: Int, _ n: Int, _ k: Int) -> UnsafeMutablePointer<Double>? {
        tk_dgemm_is_small(m, n, k) != 0 ? nil : arena.gemmWorkspace()
    }

    @inline(__always)
    func run(_ a: UnsafeMutablePointer<Double>, _ aShape: Shape, _ ta: Bool,
             _ b: UnsafeMutablePointer<Double>, _ bShape: Shape, _ tb: Bool,
             into c: UnsafeMutablePointer<Double>, accumulate: Bool) {
        let (m, n, k) = GemmContext.sizes(aShape, ta, bShape, tb)
        GemmContext.multiply(ta, tb, m, n, k, a, aShape.cols, b, bShape.cols, c, n, beta: accumulate ? 1 : 0, arena: arena)
    }

    /// [C0; C1] = [op(A0); op(A1)]·op(B): two products sharing B, packed once (`a1` has `a0`'s shape).
    /// Each block gets exactly the bits of its own product.
    @inline(__always)
    func runStackedRows(_ a0: UnsafeMutablePointer<Double>, _ a1: UnsafeMutablePointer<Double>, _ aShape: Shape, _ ta: Bool,
                        _ b: UnsafeMutablePointer<Double>, _ bShape: Shape, _ tb: Bool,
                        into c0: UnsafeMutablePointer<Double>, _ c1: UnsafeMutablePointer<Double>) {
        pair(stackRows: true, a0, a1, aShape, ta, b, b, bShape, tb, into: c0, c1)
    }

    /// [C0 | C1] = op(A)·[op(B0) | op(B1)]: two products sharing A, packed once (`b1` has `b0`'s shape).
    @inline(__always)
    func runStackedColumns(_ a: UnsafeMutablePointer<Double>, _ aShape: Shape, _ ta: Bool,
                           _ b0: UnsafeMutablePointer<Double>, _ b1: UnsafeMutablePointer<Double>, _ bShape: Shape, _ tb: Bool,
                           into c0: UnsafeMutablePointer<Double>, _ c1: UnsafeMutablePointer<Double>) {
        pair(stackRows: false, a, a, aShape, ta, b0, b1, bShape, tb, into: c0, c1)
    }

    /// `tk_dgemm_pair`: C0 = op(A0)·op(B0) and C1 = op(A1)·op(B0) (stackRows) or op(A0)·op(B1).
    @inline(__always)
    private func pair(stackRows: Bool, _ a0: UnsafeMutablePointer<Double>, _ a1: UnsafeMutablePointer<Double>, _ aShape: Shape,
                      _ ta: Bool, _ b0: UnsafeMutablePointer<Double>, _ b1: UnsafeMutablePointer<Double>, _ bShape: Shape,
                      _ tb: Bool, into c0: UnsafeMutablePointer<Double>, _ c1: UnsafeMutablePointer<Double>) {
        let (m, n, k) = GemmContext.sizes(aShape, ta, bShape, tb)
        tk_dgemm_pair(ta ? 1 : 0, tb ? 1 : 0, m, n, k, stackRows ? 1 : 0, a0, a1, aShape.cols, b0, b1, bShape.cols, c0, c1, n,
                      workspace(m, n, k), Int32(Arena.threads))
    }

    /// The `k` products Cⱼ (+)= op(Aⱼ)·op(B) (`tangentOfA`: A holds k matrices of `aShape` back to back) or
    /// Cⱼ (+)= op(A)·op(Bⱼ) (B holds k), into C's k blocks back to back: one stacked product, the shared
    /// operand packed once, each block with the bits of its own product.
    func runTangents(_ k: Int, _ a: UnsafeMutablePointer<Double>, _ aShape: Shape, _ ta: Bool,
                     _ b: UnsafeMutablePointer<Double>, _ bShape: Shape, _ tb: Bool, tangentOfA: Bool,
                     into c: UnsafeMutablePointer<Double>, accumulate: Bool) {
        if k == 1 { return run(a, aShape, ta, b, bShape, tb, into: c, accumulate: accumulate) }
        let (m, n, depth) = GemmContext.sizes(aShape, ta, bShape, tb)
        let na = tangentOfA ? k : 1, nb = tangentOfA ? 1 : k
        withUnsafeTemporaryAllocation(of: UnsafePointer<Double>?.self, capacity: 2 * k) { ops in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 5 * k) { sizes in
                withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Double>?.self, capacity: k) { cs in
                    let (lda, ms, ldb, ns, ldc) = (sizes.baseAddress!, sizes.baseAddress! + k, sizes.baseAddress! + 2 * k,
                                                   sizes.baseAddress! + 3 * k, sizes.baseAddress! + 4 * k)
                    let aOps = ops.baseAddress!, bOps = ops.baseAddress! + k
                    for j in 0..<k {
                        aOps[j] = UnsafePointer(tangentOfA ? a + j * aShape.count : a)
                        bOps[j] = UnsafePointer(tangentOfA ? b : b + j * bShape.count)
                        (lda[j], ms[j], ldb[j], ns[j], ldc[j]) = (aShape.cols, m, bShape.cols, n, n)
                        cs[j] = c + j * m * n
                    }
                    tk_dgemm_stacked(ta ? 1 : 0, tb ? 1 : 0, depth, 1, Int32(na), aOps, lda, ms, Int32(nb), bOps, ldb, ns,
                                     accumulate ? 1 : 0, cs.baseAddress!, ldc, workspace(m, n, depth), Int32(Arena.threads))
                }
            }
        }
    }

    /// C = op(A) op(B) + beta·C for row-major buffers, on up to `threads` threads (default: the pool's).
    @inline(__always)
    static func multiply(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int,
                         _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ ldb: Int,
                         _ c: UnsafeMutablePointer<Double>, _ ldc: Int, beta: Double,
                         arena: Arena, threads: Int = Arena.threads) {
        tk_dgemm(ta ? 1 : 0, tb ? 1 : 0, m, n, k, 1, a, lda, b, ldb, beta, c, ldc,
                 GemmContext(arena: arena).workspace(m, n, k), Int32(threads))
    }
}
