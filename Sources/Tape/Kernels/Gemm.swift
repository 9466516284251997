import Dispatch
import TapeKernels

/// Runs the matrix products of a sweep with the C kernel (Sources/TapeKernels/gemm.c): packed,
/// cache-blocked, AVX2 + FMA when the CPU has them (checked at run time), else portable C.
/// Large products are split by rows of C over both cores; every element of C is still summed by one
/// thread in the same order, so results do not depend on the number of threads.
struct GemmContext {
    unowned(unsafe) let arena: Arena

    /// Products with at least this many multiply-adds use two threads.
    static let parallelThreshold = 1 << 21

    @inline(__always)
    func run(_ a: UnsafeMutablePointer<Double>, _ aShape: Shape, _ ta: Bool,
             _ b: UnsafeMutablePointer<Double>, _ bShape: Shape, _ tb: Bool,
             into c: UnsafeMutablePointer<Double>, accumulate: Bool) {
        let m = ta ? aShape.cols : aShape.rows
        let k = ta ? aShape.rows : aShape.cols
        let n = tb ? bShape.rows : bShape.cols
        GemmContext.multiply(ta, tb, m, n, k, a, aShape.cols, b, bShape.cols, c, n, beta: accumulate ? 1 : 0, arena: arena)
    }

    /// C = op(A) op(B) + beta·C for row-major buffers, threaded for big products.
    static func multiply(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int,
                         _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ ldb: Int,
                         _ c: UnsafeMutablePointer<Double>, _ ldc: Int, beta: Double,
                         arena: Arena, threads: Int = 2) {
        let block = tk_dgemm_row_block()
        // Split rows of C when there are enough for two row panels, else columns (in multiples of 8).
        let byRows = m >= 2 * block
        let small = m * n * k < parallelThreshold || threads < 2 || (!byRows && n < 64)
        // Tiny products never touch the workspace, so they do not make the arena allocate it.
        let needsWorkspace = !(m < 8 || n < 8 || k < 8 || Double(m) * Double(n) * Double(k) < 32768)
        if small {
            tk_dgemm(ta ? 1 : 0, tb ? 1 : 0, m, n, k, 1, a, lda, b, ldb, beta, c, ldc, needsWorkspace ? arena.gemmWorkspace(0) : nil)
            return
        }
        // Split at a multiple of the kernel's row block (rows) or of its 8-column register block (columns).
        let half = byRows ? ((m / 2 + block - 1) / block) * block : ((n / 2 + 7) / 8) * 8
        // Pointers cross into the worker closure as addresses: each part writes a disjoint row range of C
        // and its own workspace, and concurrentPerform returns only when both are done.
        let (ai, bi, ci) = (Int(bitPattern: a), Int(bitPattern: b), Int(bitPattern: c))
        let (w0, w1) = (Int(bitPattern: arena.gemmWorkspace(0)), Int(bitPattern: arena.gemmWorkspace(1)))
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            let a = UnsafePointer<Double>(bitPattern: ai)!, b = UnsafePointer<Double>(bitPattern: bi)!
            let c = UnsafeMutablePointer<Double>(bitPattern: ci)!, w = UnsafeMutablePointer<Double>(bitPattern: part == 0 ? w0 : w1)!
            let start = part == 0 ? 0 : half, count = part == 0 ? half : (byRows ? m : n) - half
            if byRows {
                // Row r of op(A) starts at a + r·lda (no transpose) or at column r (transpose).
                tk_dgemm(ta ? 1 : 0, tb ? 1 : 0, count, n, k, 1, ta ? a + start : a + start * lda, lda, b, ldb, beta, c + start * ldc, ldc, w)
            } else {
                // Column j of op(B) starts at b + j (no transpose) or at row j (transpose).
                tk_dgemm(ta ? 1 : 0, tb ? 1 : 0, m, count, k, 1, a, lda, tb ? b + start * ldb : b + start, ldb, beta, c + start, ldc, w)
            }
        }
    }
}
