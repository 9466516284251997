import Testing
@testable import Tape

/// The reverse sweep returns large buffers as soon as nothing needs them (Sweep.swift). These tests run
/// graphs whose intermediates are large enough to be released (≥ `Arena.largeMinimum` doubles), touching
/// every op, shared subexpressions (one value read by several nodes, one cotangent passed to several
/// operands) and views, and check that value, gradient and HVP are bit-for-bit those of a sweep that
/// releases nothing, and that the peak memory really drops.
@Suite("Releasing buffers during the sweep")
struct ReleaseTests {
    static let n = 130   // 130 × 130 = 16,900 ≥ Arena.largeMinimum

    /// Inputs: a (n × n), b (n × n), w (n × n), v (n).
    static func inputs(seed: UInt64) -> [Tensor] {
        var g = SeededGenerator(seed: seed)
        return [Tensor.randomNormal([n, n], standardDeviation: 0.3, using: &g), Tensor.randomNormal([n, n], standardDeviation: 0.3, using: &g),
                Tensor.randomNormal([n, n], standardDeviation: 0.1, using: &g), Tensor.randomNormal([n], standardDeviation: 0.3, using: &g)]
    }

    /// Every op at least once, with values read by several nodes and cotangents passed through.
    static func everything(_ p: [Variable]) -> Variable {
        let (a, b, w, v) = (p[0], p[1], p[2], p[3])
        let h = (a.matmul(w) + v).tanh()                        // matmul output feeds add only: released early
        let q = (a * b).matmul(w, transposeOther: true) * 0.1   // a product read only by the matmul's VJP
        let s = h + h                                            // add(x, x): one cotangent to both operands
        let m = s * b - a / (b.squared() + 1)                    // mul, sub, div, map, addScalar
        let t = m.transposed().matmul(h, transposeOther: true)   // transposed operands
        let r = t.reshaped([n * n]).reshaped([n, n])             // views of views
        let soft = r.softmax(alongAxis: 1) * h                   // softmax reads its output
        let lse = r.logSumExp(alongAxis: 0, keepingDimension: true)   // reads its input
        let cut = Variable.concatenate([soft.rows(0..<60), soft.rows(60..<n)], alongAxis: 0)
        let padded = cut.cols(10..<100).padded(alongAxis: 1, start: 10, total: n)
        let e = (padded * 0.5).exp().sigmoid().sum(alongAxis: 0)
        return e.dot(v) + (lse * 2).mean() + s.sum() * 1e-3 + h.squared().mean() + q.tanh().mean()
    }

    /// A tanh MLP like the benchmark's: the case the release plan was made for.
    static func mlp(_ p: [Variable]) -> Variable {
        let h1 = (p[0].matmul(p[2]) + p[3]).tanh()
        let h2 = (h1.matmul(p[1]) + p[3]).tanh()
        return (h2.matmul(p[2]) - p[0]).squared().mean()
    }

    /// HVP (and its peak bytes) and gradient of graph `which` (0: everything, 1: the MLP).
    func run(_ which: Int, releasing: Bool) -> (HessianVectorProduct, (value: Double, gradients: [Tensor]), Int) {
        let f: ([Variable]) -> Variable = { which == 0 ? Self.everything($0) : Self.mlp($0) }
        let x = Self.inputs(seed: 1), dirs: [Tensor?] = Self.inputs(seed: 2)
        let tape = Tape()
        tape.releasesDeadBuffers = releasing
        tape.arena.poisonsReleasedBlocks = true   // a read after release turns into NaN
        let hvp = tape.valueGradientAndHessianVectorProduct(of: f, at: x, along: dirs)
        let peak = tape.peakBytes
        let grad = Tape().valueAndGradient(of: f, at: x)
        return (hvp, grad, peak)
    }

    @Test("results are bit-for-bit those of a sweep that releases nothing", arguments: [0, 1])
    func bitIdentical(_ which: Int) {
        let (kept, keptGrad, _) = run(which, releasing: false)
        let (freed, freedGrad, _) = run(which, releasing: true)
        #expect(kept.products.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
        #expect(freed.value == kept.value)
        #expect(freed.gradients == kept.gradients)
        #expect(freed.products == kept.products)
        #expect(freedGrad.value == keptGrad.value && freedGrad.gradients == keptGrad.gradients)
        #expect(freed.gradients.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
        // And the gradient of the HVP sweep is the plain gradient (the tangents change nothing in it).
        #expect(freed.gradients == freedGrad.gradients)
    }

    /// Every row of the op table at its `largeInputs` size, with the operands turned into intermediate values
    /// (x·1, which the sweep may release; inputs it never releases): value, gradients and products of both HVP
    /// forms are bit for bit those of a sweep that keeps every buffer, with released blocks poisoned with NaN.
    /// So a `Rules.reads` row that misses a value its VJP reads fails here, for every op, without a hand-written graph.
    @Test("every op of the table, at a size that reaches the release path, gives the results of keeping every buffer",
          arguments: opTable)
    func everyOpAtReleaseSize(_ row: OpCase) {
        let xs = row.largeInputs(seed: 41)
        var g = SeededGenerator(seed: 42)
        let vs = xs.map { Tensor.randomNormal($0.shape, using: &g) }
        let op: ([Variable]) -> Variable = { p in row.f(p.map { $0 * 1 }) }
        let out = DerivativeChecker.value(of: op, at: xs)
        let c = Tensor.randomNormal(out.shape, using: &g)
        let f: ([Variable]) -> Variable = { p in (op(p).sin() * c).sum() }
        #expect(xs.contains { $0.count >= Arena.largeMinimum } || out.count >= Arena.largeMinimum,
                "\(row.name): no value reaches Arena.largeMinimum, so nothing is released")
        func run(releasing: Bool) -> (full: HessianVectorProduct, alone: [Tensor]) {
            let tape = Tape()
            tape.releasesDeadBuffers = releasing
            tape.arena.poisonsReleasedBlocks = true   // a read after release turns into NaN
            return (tape.valueGradientAndHessianVectorProduct(of: f, at: xs, along: vs), tape.hessianVectorProduct(of: f, at: xs, along: vs))
        }
        let kept = run(releasing: false), freed = run(releasing: true)
        #expect(kept.full.products.allSatisfy(\.isFinite) && kept.full.gradients.allSatisfy(\.isFinite), "\(row.name): not finite")
        let same = freed.full.value == kept.full.value && freed.full.gradients == kept.full.gradients
            && freed.full.products == kept.full.products && freed.alone == kept.alone   // Bools: a failure prints no tensors
        #expect(same, "\(row.name): releasing buffers during the sweep changes the results")
    }

    @Test("releasing lowers the peak: the MLP's sweep stays near its forward pass")
    func peakDrops() {
        let (_, _, kept) = run(1, releasing: false)
        let (_, _, freed) = run(1, releasing: true)
        #expect(Double(freed) < 0.75 * Double(kept), "peak \(freed) bytes releasing vs \(kept) keeping")
    }

    @Test("a reused tape gives the same results call after call while releasing")
    func reuse() {
        let x = Self.inputs(seed: 3), dirs: [Tensor?] = Self.inputs(seed: 4)
        let tape = Tape()
        tape.arena.poisonsReleasedBlocks = true
        let f: ([Variable]) -> Variable = { Self.everything($0) }
        let first = tape.valueGradientAndHessianVectorProduct(of: f, at: x, along: dirs)
        for _ in 0..<3 {
            let again = tape.valueGradientAndHessianVectorProduct(of: f, at: x, along: dirs)
            #expect(again.gradients == first.gradients && again.products == first.products)
        }
        // A differently shaped call on the same tape in between does not disturb it.
        _ = tape.valueAndGradient(of: { $0[0].squared().sum() }, at: [Tensor.zeros([200, 100])])
        #expect(tape.valueGradientAndHessianVectorProduct(of: f, at: x, along: dirs).products == first.products)
    }
}
