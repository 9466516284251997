import Foundation
import Tape

/// `Benchmarks --allocator-effect [W] [ROUNDS]`: what `Tape.tuneAllocatorForLargeTensors()` buys a loop of
/// plain (allocating) calls, `valueGradientAndHessianVectorProduct` returning new result tensors every
/// call, on workload W (default paper-mlp; or many-results: 8 inputs of 40,000 elements, Σ tanh, so 16
/// result tensors of 320 kB per call, the case TapeReuseTests spot-checks). The setting is process-wide and cannot be undone, so each
/// measurement runs in a child process (`--allocator-round W default|tuned`), alternating default and tuned
/// for ROUNDS (default 5) pairs: minor page faults per call (getrusage, whole process; a count, so it holds
/// on a busy machine) and the median µs per call, with the paired time ratios default ÷ tuned.
enum AllocatorEffect {
    static let calls = 200

    static func run(workload: String, rounds: Int) {
        guard make(workload) != nil else { fail("--allocator-effect: unknown workload '\(workload)'") }
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            print("allocator effect: /proc/self/exe is not available here"); return
        }
        var rows: [(default: [Double], tuned: [Double])] = []
        for _ in 0..<rounds {
            guard let d = child(exe, workload, "default"), let t = child(exe, workload, "tuned") else { return }
            rows.append((d, t))
        }
        func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
        print("| allocator | page faults / call | µs / call (median of \(rounds) rounds of \(calls) calls) |")
        print("|---|---|---|")
        print("| glibc defaults | \(format(median(rows.map { $0.default[0] }), 1)) | \(format(median(rows.map { $0.default[1] }), 0)) |")
        let applied = rows.allSatisfy { $0.tuned[2] == 1 }
        print("| tuned\(applied ? "" : " (NOT applied: the environment sets malloc options)") | \(format(median(rows.map { $0.tuned[0] }), 1)) | \(format(median(rows.map { $0.tuned[1] }), 0)) |")
        let ratios = rows.map { $0.default[1] / $0.tuned[1] }
        print("\(workload), plain full HVP: time default ÷ tuned, round by round: \(ratios.map { format($0, 2) }.joined(separator: ", ")); median \(format(median(ratios), 2))")
    }

    /// Runs one child measurement; returns [faults per call, median µs per call, 1 if tuned].
    private static func child(_ exe: String, _ workload: String, _ mode: String) -> [Double]? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["--allocator-round", workload, mode]
        let pipe = Pipe()
        p.standardOutput = pipe
        do { try p.run() } catch { print("allocator effect: cannot start \(exe): \(error)"); return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let numbers = String(decoding: data, as: UTF8.self).split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard p.terminationStatus == 0, numbers.count == 3 else { print("allocator effect: child \(mode) failed"); return nil }
        return numbers
    }

    /// The child: opt in (tuned) or not, warm up, then `calls` plain calls; prints "faults µs tuned".
    static func round(workload name: String, mode: String) {
        guard let w = make(name), mode == "default" || mode == "tuned" else { fail("--allocator-round W default|tuned") }
        let tuned = mode == "tuned" && Tape.tuneAllocatorForLargeTensors()
        let tape = Tape()
        for _ in 0..<5 { _ = tape.valueGradientAndHessianVectorProduct(of: w.loss, at: w.parameters, along: w.direction) }
        var times: [Double] = []
        let before = faults()
        for _ in 0..<calls {
            let start = now()
            _ = tape.valueGradientAndHessianVectorProduct(of: w.loss, at: w.parameters, along: w.direction)
            times.append(now() - start)
        }
        let perCall = Double(faults() - before) / Double(calls)
        times.sort()
        print(perCall, times[times.count / 2] * 1e6, tuned ? 1 : 0)
    }

    /// A named workload, or many-results (several large results per call, which glibc's adaptive mmap threshold
    /// does not absorb).
    static func make(_ name: String) -> Workload? {
        if let w = Workload.all[name] { return w() }
        guard name == "many-results" else { return nil }
        var g = SeededGenerator(seed: 3)
        let xs = (0..<8).map { _ in Tensor.randomNormal([40_000], using: &g) }
        let vs = (0..<8).map { _ in Tensor.randomNormal([40_000], using: &g) }
        return Workload(name: name, parameters: xs, direction: vs,
                        loss: { x in x.dropFirst().reduce(x[0].tanh()) { $0 + $1.tanh() }.squared().sum() }, constants: [],
                        gradientFlops: 0, hvpFlops: 0, parameterAndActivationDoubles: 16 * 40_000)
    }

    /// Minor page faults of the whole process so far.
    private static func faults() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(0), &usage)   // RUSAGE_SELF
        return usage.ru_minflt
    }
}
