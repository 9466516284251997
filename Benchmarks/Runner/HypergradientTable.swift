import Foundation
import Tape

/// The hypergradient table: each workload timed as one call (median of batches after warm-up, as the HVP
/// table), with its matrix-product FLOPs and, given the machine's peak, its physical limit FLOPs ÷ peak.
enum HypergradientTable {
    static func run(_ names: [String], minTime: Double, peak: Double?) -> [[String: Any]] {
        print("\n| workload | µs [p25–p75] | first call µs | GFLOP (least work) | GFLOP/s | limit µs (FLOPs ÷ peak) | limit ÷ ours | notes |")
        print("|---|---|---|---|---|---|---|---|")
        var distill: HypergradientWorkload.Distill?
        var results: [[String: Any]] = []
        for name in names {
            let w = HypergradientWorkload.make(name, distill: &distill)
            let t = Timing.measure(minSeconds: minTime, minBatches: 5, batchSeconds: 0.05) { w.run() }
            let us = t.medianSeconds * 1e6
            var entry: [String: Any] = ["name": name, "us": us, "p25_us": t.p25Seconds * 1e6, "p75_us": t.p75Seconds * 1e6,
                                        "first_call_us": t.firstCallSeconds * 1e6, "flops": w.flops, "gflops": w.flops / t.medianSeconds / 1e9]
            var limit = "—", fraction = "—"
            if let peak {
                let limitUs = w.flops / (peak * 1e9) * 1e6
                entry["limit_us"] = limitUs
                entry["peak_gflops"] = peak
                limit = format(limitUs, 1)
                fraction = format(limitUs / us, 2)
            }
            var notes = ""
            let extra = w.extra()
            for (key, value) in extra { entry[key] = value }
            if let single = extra["single_hvp_us"] {
                notes = "per direction \(format(us / 16, 1)) µs; single HVP \(format(single, 1)) µs (\(format(us / 16 / single, 2))×)"
                if let one = extra["linearized_hvp_us"] { notes += "; one linearized product \(format(one, 1)) µs" }
                if let once = extra["linearize_us"] { notes += "; linearizing \(format(once, 1)) µs" }
            }
            if let new = extra["dense_hessian_us"], let old = extra["dense_hessian_columns_us"] {
                notes = "dense Hessian \(format(new, 1)) µs; column by column with fresh HVPs \(format(old, 1)) µs (\(format(old / new, 2))× faster)"
            }
            print("| \(name) | \(format(us, 1)) [\(format(t.p25Seconds * 1e6, 1))–\(format(t.p75Seconds * 1e6, 1))] | \(format(t.firstCallSeconds * 1e6, 0)) | \(format(w.flops / 1e9, 3)) | \(format(w.flops / t.medianSeconds / 1e9, 1)) | \(limit) | \(fraction) | \(notes) |")
            results.append(entry)
        }
        return results
    }
}

/// `Benchmarks --linearization-memory [W]`: what a linearized gradient holds between products (the primal
/// values and cotangents its tangent formulas read, and its copy of the point), its peak with one product and
/// with a block of 16, beside the tape peak of one fresh HVP (the products-only form) at the same point.
enum LinearizationMemory {
    static func run(workload name: String) {
        guard let make = Workload.all[name] else { fail("--linearization-memory: unknown workload '\(name)'") }
        let w = make()
        let hvp = Tape()
        var products: [Tensor] = []
        hvp.hessianVectorProduct(of: w.loss, at: w.parameters, along: w.direction, into: &products)
        let tape = Tape()
        let l = tape.linearizedGradient(of: w.loss, at: w.parameters)
        let held = l.heldBytes, recordPeak = tape.peakBytes
        _ = l.hessianVectorProduct(along: w.direction)
        let onePeak = tape.peakBytes
        let block = Array(repeating: w.direction.map { Optional($0) }, count: min(16, l.maximumBlockWidth))
        _ = l.hessianMatrixProduct(along: block)
        func mb(_ b: Int) -> String { format(Double(b) / 1e6, 2) }
        let params = w.parameters.reduce(0) { $0 + $1.count } * 8
        print("\(name): one fresh HVP's tape peak \(mb(hvp.peakBytes)) MB; the linearization holds \(mb(held)) MB "
              + "(\(format(Double(held) / Double(hvp.peakBytes), 2))× one HVP; of which its copy of the point \(mb(params)) MB), "
              + "peaks at \(mb(recordPeak)) MB while recording, \(mb(onePeak)) MB with one product "
              + "(\(format(Double(onePeak) / Double(hvp.peakBytes), 2))×) and \(mb(tape.peakBytes)) MB with a block of \(block.count)")
    }
}
