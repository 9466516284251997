import Testing
import TapeKernels
@testable import Tape

/// The C matrix-multiply kernel against a naive triple loop: every transpose combination, odd sizes that
/// exercise every edge tile, alpha/beta, the portable path, and one vs two threads (bit-identical).
@Suite("GEMM kernel")
struct GemmTests {
    struct Case { let ta: Bool, tb: Bool, m: Int, n: Int, k: Int }

    static let sizes = [(1, 1, 1), (2, 3, 7), (13, 7, 65), (65, 13, 7), (7, 257, 13), (13, 10, 10), (13, 17, 2), (3, 33, 9),
                        (13, 1, 21), (21, 1, 13), (6, 1, 4), (300, 1, 9),
                        (97, 101, 259), (200, 130, 300),
                        (400, 9, 80), (400, 8, 90)]   // two threads with one or two slivers of columns

    func random(_ count: Int, _ g: inout SeededGenerator) -> [Double] { (0..<count).map { _ in g.nextNormal() } }

    /// Reference: C = alpha op(A) op(B) + beta C with plain loops.
    func naive(_ c: Case, _ a: [Double], _ b: [Double], _ c0: [Double], alpha: Double, beta: Double) -> [Double] {
        let lda = c.ta ? c.m : c.k, ldb = c.tb ? c.k : c.n
        var out = c0.map { beta * $0 }
        for i in 0..<c.m { for j in 0..<c.n {
            var s = 0.0
            for p in 0..<c.k { s += (c.ta ? a[p * lda + i] : a[i * lda + p]) * (c.tb ? b[j * ldb + p] : b[p * ldb + j]) }
            out[i * c.n + j] += alpha * s
        } }
        return out
    }

    func run(_ c: Case, portable: Bool, alpha: Double, beta: Double, _ a: [Double], _ b: [Double], _ c0: [Double]) -> [Double] {
        var out = c0
        let work = UnsafeMutablePointer<Double>.allocate(capacity: tk_dgemm_workspace_doubles(2))
        defer { work.deallocate() }
        let lda = c.ta ? c.m : c.k, ldb = c.tb ? c.k : c.n
        let f = portable ? tk_dgemm_portable : tk_dgemm
        f(c.ta ? 1 : 0, c.tb ? 1 : 0, c.m, c.n, c.k, alpha, a, lda, b, ldb, beta, &out, c.n, work, 2)
        return out
    }

    @Test(arguments: [false, true])
    func matchesTheNaiveProduct(portable: Bool) {
        var g = SeededGenerator(seed: 42)
        for (m, n, k) in Self.sizes { for ta in [false, true] { for tb in [false, true] {
            let c = Case(ta: ta, tb: tb, m: m, n: n, k: k)
            let a = random(m * k, &g), b = random(k * n, &g), c0 = random(m * n, &g)
            for (alpha, beta) in [(1.0, 0.0), (0.5, 1.0), (-2.0, 0.25)] {
                let want = naive(c, a, b, c0, alpha: alpha, beta: beta)
                let got = run(c, portable: portable, alpha: alpha, beta: beta, a, b, c0)
                let err = zip(want, got).map { abs($0 - $1) }.max() ?? 0
                #expect(err < 1e-12 * Double(k), "m=\(m) n=\(n) k=\(k) ta=\(ta) tb=\(tb) α=\(alpha) β=\(beta): \(err)")
            }
        } } }
    }

    @Test func betaZeroNeverReadsC() {
        var g = SeededGenerator(seed: 1)
        // Blocked and direct-path sizes, every transpose case.
        for (m, n, k) in [(40, 33, 50), (13, 10, 10), (13, 1, 10), (5, 17, 3)] { for ta in [false, true] { for tb in [false, true] {
            let c = Case(ta: ta, tb: tb, m: m, n: n, k: k)
            let a = random(m * k, &g), b = random(n * k, &g)
            let garbage = [Double](repeating: .nan, count: m * n)
            for portable in [false, true] {
                let got = run(c, portable: portable, alpha: 1, beta: 0, a, b, garbage)
                #expect(got.allSatisfy { $0.isFinite }, "m=\(m) n=\(n) k=\(k) ta=\(ta) tb=\(tb)")
            }
        } } }
    }

    /// The portable kernel split over two threads equals itself on one thread, bit for bit.
    @Test func portableKernelOnTwoThreadsIsBitIdentical() {
        var g = SeededGenerator(seed: 3)
        let work = UnsafeMutablePointer<Double>.allocate(capacity: tk_dgemm_workspace_doubles(2))
        defer { work.deallocate() }
        for (ta, tb, m, n, k) in [(false, false, 301, 190, 177), (true, true, 20, 301, 150)] {
            let a = random(m * k, &g), b = random(k * n, &g)
            var one = [Double](repeating: 0, count: m * n), two = one
            let lda = ta ? m : k, ldb = tb ? k : n
            tk_dgemm_portable(ta ? 1 : 0, tb ? 1 : 0, m, n, k, 1, a, lda, b, ldb, 0, &one, n, work, 1)
            tk_dgemm_portable(ta ? 1 : 0, tb ? 1 : 0, m, n, k, 1, a, lda, b, ldb, 0, &two, n, work, 2)
            #expect(one == two, "ta=\(ta) tb=\(tb)")
            let want = naive(Case(ta: ta, tb: tb, m: m, n: n, k: k), a, b, one, alpha: 1, beta: 0)
            #expect(zip(want, one).map { abs($0 - $1) }.max()! < 1e-10)
        }
    }

    @Test func twoThreadsGiveBitIdenticalResults() {
        var g = SeededGenerator(seed: 2)
        for (ta, tb, m, n, k) in [(false, false, 301, 190, 177), (true, false, 301, 190, 177), (false, true, 301, 190, 177),
                                  (true, true, 301, 190, 177), (false, false, 100, 203, 150), (true, true, 100, 203, 150), (false, true, 60, 300, 200),
                                  // few rows: the threads split the columns of C instead
                                  (false, false, 20, 301, 150), (true, false, 30, 257, 99), (false, true, 9, 700, 64),
                                  // K in several slices, N in several panels
                                  (false, false, 50, 2100, 600), (true, true, 70, 130, 1100)] {
            let a = random(m * k, &g), b = random(k * n, &g)
            var one = [Double](repeating: 0, count: m * n), two = one
            let arena = Arena()
            let lda = ta ? m : k, ldb = tb ? k : n
            GemmContext.multiply(ta, tb, m, n, k, a, lda, b, ldb, &one, n, beta: 0, arena: arena, threads: 1)
            GemmContext.multiply(ta, tb, m, n, k, a, lda, b, ldb, &two, n, beta: 0, arena: arena, threads: 2)
            #expect(one == two, "ta=\(ta) tb=\(tb)")
            let want = naive(Case(ta: ta, tb: tb, m: m, n: n, k: k), a, b, one, alpha: 1, beta: 0)
            #expect(zip(want, one).map { abs($0 - $1) }.max()! < 1e-10)
        }
    }

    /// Stacked products (two A segments sharing B, or two B segments sharing A) give each block exactly
    /// the bits of its own product, on the direct path and the blocked one, on one thread and two.
    @Test func stackedPairsEqualSeparateProducts() {
        var g = SeededGenerator(seed: 4)
        let work = UnsafeMutablePointer<Double>.allocate(capacity: tk_dgemm_workspace_doubles(2))
        defer { work.deallocate() }
        for (ta, tb, m, n, k) in [(false, false, 13, 10, 10), (true, false, 7, 5, 3), (false, false, 13, 1, 21), (true, false, 21, 1, 13), (false, false, 100, 203, 150),
                                  (true, false, 64, 90, 301), (false, true, 20, 301, 150), (true, true, 97, 101, 259)] {
            let lda = ta ? m : k, ldb = tb ? k : n
            let a0 = random(m * k, &g), a1 = random(m * k, &g), b0 = random(k * n, &g), b1 = random(k * n, &g)
            func alone(_ a: [Double], _ b: [Double], threads: Int32) -> [Double] {
                var c = [Double](repeating: .nan, count: m * n)
                tk_dgemm(ta ? 1 : 0, tb ? 1 : 0, m, n, k, 1, a, lda, b, ldb, 0, &c, n, work, threads)
                return c
            }
            for threads: Int32 in [1, 2] {
                var c0 = [Double](repeating: .nan, count: m * n), c1 = c0
                tk_dgemm_pair(ta ? 1 : 0, tb ? 1 : 0, m, n, k, 1, a0, a1, lda, b0, b0, ldb, &c0, &c1, n, work, threads)
                #expect(c0 == alone(a0, b0, threads: 1) && c1 == alone(a1, b0, threads: 1), "rows m=\(m) n=\(n) k=\(k) threads=\(threads)")
                tk_dgemm_pair(ta ? 1 : 0, tb ? 1 : 0, m, n, k, 0, a0, a0, lda, b0, b1, ldb, &c0, &c1, n, work, threads)
                #expect(c0 == alone(a0, b0, threads: 1) && c1 == alone(a0, b1, threads: 1), "columns m=\(m) n=\(n) k=\(k) threads=\(threads)")
            }
            let want = naive(Case(ta: ta, tb: tb, m: m, n: n, k: k), a1, b0, [Double](repeating: 0, count: m * n), alpha: 1, beta: 0)
            #expect(zip(want, alone(a1, b0, threads: 2)).map { abs($0 - $1) }.max()! < 1e-10)
        }
    }

    /// Stacks of k A segments sharing B, or k B segments sharing A (a block of k tangents), beyond the 32 blocks
    /// one packing serves: each block gets exactly the bits of its own product, overwriting C or adding to it.
    @Test func stackedSegmentsEqualSeparateProducts() {
        var g = SeededGenerator(seed: 5)
        let work = UnsafeMutablePointer<Double>.allocate(capacity: tk_dgemm_workspace_doubles(2))
        defer { work.deallocate() }
        for (ta, tb, m, n, k) in [(false, false, 100, 200, 200), (true, false, 200, 200, 100), (false, true, 100, 203, 150),
                                  (true, true, 30, 257, 99), (false, false, 13, 10, 10), (false, true, 9, 700, 64)] {
            let lda = ta ? m : k, ldb = tb ? k : n
            for (count, rows, beta) in [(2, true, 0.0), (5, true, 1.0), (37, true, 0.0), (3, false, 1.0), (16, false, 0.0), (35, false, 1.0)] {
                let a = (0..<(rows ? count : 1)).map { _ in random(m * k, &g) }, b = (0..<(rows ? 1 : count)).map { _ in random(k * n, &g) }
                let c0 = (0..<count).map { _ in random(m * n, &g) }
                var want = c0
                for s in 0..<count {
                    tk_dgemm(ta ? 1 : 0, tb ? 1 : 0, m, n, k, 1, a[rows ? s : 0], lda, b[rows ? 0 : s], ldb, beta, &want[s], n, work, 1)
                }
                /// A copy of `x` in its own buffer (freed by the caller).
                func buffer(_ x: [Double]) -> UnsafeMutablePointer<Double> {
                    let p = UnsafeMutablePointer<Double>.allocate(capacity: x.count)
                    p.initialize(from: x, count: x.count)
                    return p
                }
                let aBuffers = a.map(buffer), bBuffers = b.map(buffer)
                defer { (aBuffers + bBuffers).forEach { $0.deallocate() } }
                for threads: Int32 in [1, 2] {
                    let cs: [UnsafeMutablePointer<Double>?] = c0.map(buffer)
                    defer { cs.forEach { $0!.deallocate() } }
                    tk_dgemm_stacked(ta ? 1 : 0, tb ? 1 : 0, k, 1, Int32(a.count), aBuffers.map { UnsafePointer<Double>?($0) },
                                     Array(repeating: lda, count: a.count), Array(repeating: m, count: a.count), Int32(b.count),
                                     bBuffers.map { UnsafePointer<Double>?($0) }, Array(repeating: ldb, count: b.count),
                                     Array(repeating: n, count: b.count), beta, cs, Array(repeating: n, count: count), work, threads)
                    let same = (0..<count).allSatisfy { s in Array(UnsafeBufferPointer(start: cs[s], count: m * n)) == want[s] }
                    #expect(same, "ta=\(ta) tb=\(tb) m=\(m) n=\(n) k=\(k): \(count) \(rows ? "A" : "B") segments, β=\(beta), \(threads) threads")
                }
            }
        }
    }
}
