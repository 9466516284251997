import Testing
import Foundation
import TapeKernels
@testable import Tape

/// The kernels' worker pool (Sources/TapeKernels/pool.c): every thread of a task runs once, a task started
/// from inside a task runs alone (never waits for the busy pool), and `Kernels.parallel` (`tk_parallel_for`)
/// covers its range exactly once in stretches starting at multiples of 8.
@Suite("Worker pool")
struct PoolTests {
    @Test func everyThreadRunsOnceAndNestedTasksRunAlone() {
        // Slot t counts how often thread t ran; the last slot records the nested call's thread count.
        // Other tests run at the same time and may hold the pool for seconds (the call then runs alone):
        // retry, pausing a millisecond between tries, until a call gets every thread or a minute has passed.
        var got = Int32(0)
        let deadline = ContinuousClock.now + .seconds(60)
        while got < min(8, tk_pool_threads()) && ContinuousClock.now < deadline {
            if got > 0 { usleep(1000) }
            var counts = [Int32](repeating: 0, count: 65)
            let n = counts.withUnsafeMutableBufferPointer { buf in
                tk_pool_run(8, { raw, tid, nt in
                    let c = raw!.assumingMemoryBound(to: Int32.self)
                    c[Int(tid)] += 1
                    if tid == 0 { c[64] = tk_pool_run(8, { _, _, _ in }, nil) }
                }, buf.baseAddress)
            }
            #expect(counts[0..<Int(n)].allSatisfy { $0 == 1 } && counts[Int(n)..<64].allSatisfy { $0 == 0 })
            #expect(counts[64] == 1, "a task started inside a task runs on its caller alone")
            got = max(got, n)
        }
        #expect(got == min(8, tk_pool_threads()))
    }

    /// Many hand-overs in a row, as back-to-back matrix products make them (the workers spin between tasks):
    /// every call runs each of its threads exactly once and returns only after all of them have finished.
    /// Calls that find the pool busy (other tests) run alone and are not counted; the loop goes on until 1,000
    /// calls ran on two threads, or a minute has passed.
    @Test(.enabled(if: tk_pool_threads() >= 2, "needs a second thread"))
    func backToBackCallsRunEveryThreadOnceAndWaitForThem() {
        var counts = [Int32](repeating: 0, count: 2)
        var twoThreaded = 0, wrong = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while twoThreaded < 1000 && ContinuousClock.now < deadline {
            counts[0] = 0; counts[1] = 0
            let n = counts.withUnsafeMutableBufferPointer { buf in
                tk_pool_run(2, { raw, tid, _ in raw!.assumingMemoryBound(to: Int32.self)[Int(tid)] += 1 }, buf.baseAddress)
            }
            if counts[0] != 1 || counts[1] != (n == 2 ? 1 : 0) { wrong += 1 }
            if n == 2 { twoThreaded += 1 }
        }
        #expect(wrong == 0, "\(wrong) calls returned before each of their threads had run once")
        #expect(twoThreaded == 1000, "only \(twoThreaded) calls got the second thread in a minute")
    }

    /// What the chunks of `parallelCoversTheRangeOnce` write to: a visit count and a first-value mark per value.
    struct Marks { var seen: UnsafeMutablePointer<UInt8>; var starts: UnsafeMutablePointer<UInt8> }

    @Test func parallelCoversTheRangeOnce() {
        for n in [0, 1, 7, 100, Kernels.parallelMinimum, Kernels.parallelMinimum + 13, 3 * Kernels.parallelMinimum + 5] {
            var seen = [UInt8](repeating: 0, count: n + 1), starts = [UInt8](repeating: 0, count: n + 1)
            seen.withUnsafeMutableBufferPointer { s in starts.withUnsafeMutableBufferPointer { f in
                var marks = Marks(seen: s.baseAddress!, starts: f.baseAddress!)
                Kernels.parallel(n, &marks) { raw, k, count in
                    let m = raw!.assumingMemoryBound(to: Marks.self).pointee
                    m.starts[k] = 1
                    for i in k..<(k + count) { m.seen[i] += 1 }
                }
            } }
            #expect(seen[0..<n].allSatisfy { $0 == 1 }, "n = \(n)")
            #expect(starts[0..<n].indices.allSatisfy { starts[$0] == 0 || $0 % 8 == 0 }, "n = \(n)")
        }
    }

    /// Under contention (more runnable threads than cores: three spinning hogs here) a worker is often not
    /// running when a task starts; the caller then leaves it out and runs with the threads that claimed their
    /// share (pool.c). Every call must still run each thread index it returns exactly once, and a threaded
    /// matrix product must keep its bits however many threads took part.
    @Test(.enabled(if: tk_pool_threads() >= 2, "needs a second thread"))
    func underContentionEachCallRunsItsThreadsOnceAndProductsKeepTheirBits() {
        var g = SeededGenerator(seed: 7)
        let a = Tensor.randomNormal([160, 200], using: &g), b = Tensor.randomNormal([200, 180], using: &g)
        let reference = a.matmul(b)
        let until = Date().addingTimeInterval(2)
        let hogs = (0..<3).map { _ in Thread { var x = 0.0; while Date() < until { for k in 0..<10_000 { x += Double(k) } }; _ = x } }
        hogs.forEach { $0.start() }
        var calls = 0, wrong = 0, shortHanded = 0, productsDiffering = 0
        var counts = [Int32](repeating: 0, count: 64)
        while Date() < until {
            for k in counts.indices { counts[k] = 0 }
            let n = counts.withUnsafeMutableBufferPointer { buf in
                tk_pool_run(tk_pool_threads(), { raw, tid, _ in raw!.assumingMemoryBound(to: Int32.self)[Int(tid)] += 1 }, buf.baseAddress)
            }
            if !(counts[0..<Int(n)].allSatisfy { $0 == 1 } && counts[Int(n)...].allSatisfy { $0 == 0 }) { wrong += 1 }
            if n < tk_pool_threads() { shortHanded += 1 }
            calls += 1
            if calls % 20 == 0, a.matmul(b) != reference { productsDiffering += 1 }
        }
        #expect(calls > 100, "only \(calls) calls in 2 s")
        #expect(wrong == 0, "\(wrong) of \(calls) calls ran a thread index twice, or not at all, or beyond the count they returned")
        #expect(productsDiffering == 0, "\(productsDiffering) products under contention differ from the uncontended one")
        print("pool under contention: \(calls) calls, \(shortHanded) ran with fewer threads than the pool has")
    }
}
