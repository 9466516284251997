import Testing
import Foundation
import Tape

@Suite("Tape reuse")
struct TapeReuseTests {
    @Test("a reused tape stops growing after the first call and gives identical results")
    func noGrowth() {
        var g = SeededGenerator(seed: 2)
        let w = Tensor.randomNormal([10, 10], using: &g), x = Tensor.randomNormal([13, 10], using: &g)
        let v = Tensor.randomNormal([10, 10], using: &g)
        let tape = Tape()
        let loss: (Variable) -> Variable = { w in w.constant(x).matmul(w).tanh().squared().mean() }
        let first = tape.valueGradientAndHessianVectorProduct(of: loss, at: w, along: v)
        let reserved = tape.reservedBytes
        #expect(reserved > 0)
        for _ in 0..<50 {
            let again = tape.valueGradientAndHessianVectorProduct(of: loss, at: w, along: v)
            #expect(again.product == first.product && again.gradient == first.gradient)
        }
        #expect(tape.reservedBytes == reserved)
    }

    /// Page faults taken by the calling thread so far (Linux counts them per thread).
    static func minorFaults() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(1), &usage)   // RUSAGE_THREAD (1), which Glibc does not export to Swift
        return usage.ru_minflt
    }

    /// Page faults per plain (allocating) HVP call once warm: eight inputs of 40,000 elements, so 16 result
    /// tensors of 320 kB (1,250 pages) are returned and dropped every call. (glibc's own adaptive threshold copes
    /// with one large block freed and taken again, not with many at once.)
    static func faultsPerPlainCall() -> Double {
        var g = SeededGenerator(seed: 3)
        let xs = (0..<8).map { _ in Tensor.randomNormal([40_000], using: &g) }
        let vs = (0..<8).map { _ in Tensor.randomNormal([40_000], using: &g) }
        let tape = Tape()
        let f: ([Variable]) -> Variable = { x in x.dropFirst().reduce(x[0].tanh()) { $0 + $1.tanh() }.squared().sum() }
        for _ in 0..<3 { _ = tape.valueGradientAndHessianVectorProduct(of: f, at: xs, along: vs) }
        let before = minorFaults()
        for _ in 0..<10 { _ = tape.valueGradientAndHessianVectorProduct(of: f, at: xs, along: vs) }
        return Double(minorFaults() - before) / 10
    }

    /// Whether the environment leaves the allocator's settings to the opt-in (allocator.c).
    static let allocatorLeftToUs: Bool = {
        let env = ProcessInfo.processInfo.environment
        return env["TAPE_KEEP_MALLOC"] == nil && !(env["GLIBC_TUNABLES"] ?? "").contains("malloc")
            && env["MALLOC_MMAP_THRESHOLD_"] == nil && env["MALLOC_TRIM_THRESHOLD_"] == nil
    }()

    #if os(Linux)
    static let isLinux = true
    #else
    static let isLinux = false
    #endif

    /// In a fresh process (an exit test, since the setting is process-wide and cannot be undone): creating tapes and
    /// calling them leaves glibc's defaults alone, and plain calls page-fault their results in again every call;
    /// after `Tape.tuneAllocatorForLargeTensors()` they do not.
    @Test("the library leaves the allocator alone; opting in stops plain calls from faulting their results in again",
          .enabled(if: isLinux && allocatorLeftToUs, "per-thread fault counts and mallopt are Linux/glibc; a malloc setting in the environment wins"))
    func allocatorTuningIsOptIn() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            let untuned = TapeReuseTests.faultsPerPlainCall()
            let applied = Tape.tuneAllocatorForLargeTensors()
            let tuned = TapeReuseTests.faultsPerPlainCall()
            FileHandle.standardError.write(Data("faults \(untuned) \(tuned) \(applied ? 1 : 0)\n".utf8))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        let numbers = stderr.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
        guard numbers.count == 3 else { Issue.record("no measurement in the child's stderr: \(stderr)"); return }
        let (untuned, tuned, applied) = (numbers[0], numbers[1], numbers[2] == 1)
        #expect(applied, "the opt-in did not apply the settings")
        #expect(untuned > 300, "\(untuned) faults per call with glibc's defaults: if the library had tuned the allocator by itself there would be few")
        #expect(tuned < 60, "\(tuned) faults per call after opting in, for 1,250 pages of results")
    }
}

@Suite("Results written into existing tensors")
struct IntoResultTests {
    let x: Tensor, w1: Tensor, w2: Tensor, v1: Tensor, v2: Tensor
    let loss: ([Variable]) -> Variable

    init() {
        var g = SeededGenerator(seed: 5)
        let x = Tensor.randomNormal([7, 3], using: &g)
        self.x = x
        w1 = .randomNormal([3, 4], using: &g); w2 = .randomNormal([4, 1], using: &g)
        v1 = .randomNormal([3, 4], using: &g); v2 = .randomNormal([4, 1], using: &g)
        loss = { p in p[0].constant(x).matmul(p[0]).tanh().matmul(p[1]).squared().mean() }
    }

    @Test("the into forms equal the plain ones bit for bit, and reuse the tensors' storage")
    func intoMatchesPlainAndReusesStorage() {
        let tape = Tape()
        let plain = tape.valueGradientAndHessianVectorProduct(of: loss, at: [w1, w2], along: [v1, v2])
        var into = HessianVectorProduct()
        tape.valueGradientAndHessianVectorProduct(of: loss, at: [w1, w2], along: [v1, v2], into: &into)
        #expect(into.value == plain.value && into.gradients == plain.gradients && into.products == plain.products)
        let before = into.gradients[0].scalars.withUnsafeBufferPointer { $0.baseAddress }
        tape.valueGradientAndHessianVectorProduct(of: loss, at: [w1, w2], along: [v1, v2], into: &into)
        #expect(into.gradients[0].scalars.withUnsafeBufferPointer { $0.baseAddress } == before)
        #expect(into.gradients == plain.gradients && into.products == plain.products)

        var grads: [Tensor] = []
        let value = tape.valueAndGradient(of: loss, at: [w1, w2], into: &grads)
        let (plainValue, plainGrads) = tape.valueAndGradient(of: loss, at: [w1, w2])
        #expect(value == plainValue && grads == plainGrads)
        // Gradients for a subset: the extra tensor is dropped, the wrong-shaped one replaced.
        grads = [Tensor.zeros([1]), Tensor.zeros([9])]
        _ = tape.valueAndGradient(of: loss, at: [w1, w2], wrt: [1], into: &grads)
        #expect(grads.count == 1 && grads[0] == plainGrads[1])
    }

    @Test("differentiating never changes the inputs or the directions (the tape only reads them)")
    func inputsAreOnlyRead() {
        let tape = Tape()
        let copies = [w1, w2, v1, v2].map { $0.scalars }
        _ = tape.valueGradientAndHessianVectorProduct(of: loss, at: [w1, w2], along: [v1, v2])
        _ = tape.jvp(of: { [loss($0)] }, at: [w1, w2], along: [v1, nil])
        _ = tape.vjp(of: { [loss($0)] }, at: [w1, w2], cotangents: [Tensor(2.0)])
        #expect([w1, w2, v1, v2].map { $0.scalars } == copies)
        // An empty input and a reshape of an input returned as the output itself.
        let r = tape.evaluate({ p in [p[0].reshaped([12]), p[1]] }, at: [w1, Tensor.zeros([0])])
        #expect(r[0].scalars == w1.scalars && r[1].count == 0)
    }
}
