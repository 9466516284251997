import Foundation
import Tape

/// `Benchmarks --hvp-memory [W]`: the resident memory one HVP adds to a process, measured by the
/// kernel (VmHWM after the call, having reset it, minus VmRSS before), next to the memory of the
/// parameters plus activations (B × inputs + 2 B × width per layer, the pre- and post-activation
/// values). Includes everything the call allocates: the tape's buffers, the packing workspace, the
/// returned gradient and product tensors. Run on its own so no earlier workload's memory interferes.
enum HVPMemory {
    static func run(workload name: String) {
        guard let make = Workload.all[name] else { fail("--hvp-memory: unknown workload '\(name)'") }
        let w = make()
        guard let before = residentBytes(), resetPeak() else {
            print("hvp memory: /proc/self/status or clear_refs is not available here"); return
        }
        let tape = Tape()
        let r = tape.valueGradientAndHessianVectorProduct(of: w.loss, at: w.parameters, along: w.direction)
        guard let peak = peakResidentBytes() else { return }
        let added = peak - before, reference = w.parameterAndActivationDoubles * 8
        print("\(name): one HVP adds \(format(Double(added) / 1e6, 1)) MB resident (tape peak \(format(Double(tape.peakBytes) / 1e6, 1)) MB,"
              + " results \(format(Double(r.gradients.reduce(0) { $0 + $1.count } * 16) / 1e6, 1)) MB);"
              + " parameters + activations \(format(Double(reference) / 1e6, 1)) MB: ratio \(format(Double(added) / Double(reference), 2))")
    }

    /// VmRSS of this process.
    static func residentBytes() -> Int? { statusField("VmRSS:") }

    /// Resets VmHWM to the current resident size (writing 5 to /proc/self/clear_refs).
    static func resetPeak() -> Bool {
        FileManager.default.isWritableFile(atPath: "/proc/self/clear_refs")
            && (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
    }
}

/// A "VmXXX:  1234 kB" line of /proc/self/status, in bytes.
func statusField(_ key: String) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix(key) {
        return line.split(separator: " ").compactMap { Int($0) }.first.map { $0 * 1024 }
    }
    return nil
}
