import Foundation
import TapeKernels

/// The machine a table was measured on: the CPU, the vector features that decide which kernels can
/// run, and the kernel path this process took (TAPE_KERNELS can force one). Every table and JSON
/// file says this, so a number is never read against the wrong machine class.
struct Machine {
    /// The vector features the kernels care about (the AVX-512 ones decide whether a peer such as XLA
    /// runs wider code than ours).
    static let featuresOfInterest = ["avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_bf16"]

    var model = "unknown CPU"
    var family: String?
    var modelNumber: String?
    var features: [String] = []
    var onlineCPUs = ProcessInfo.processInfo.activeProcessorCount
    var kernelPath: String
    /// Set when TAPE_KERNELS asked for a path that was not taken, and why.
    var requestNote: String?

    static func current() -> Machine {
        let path = tk_kernel_path() == TK_PATH_AVX2 ? "avx2" : "portable"
        var m = Machine(kernelPath: path)
        let requested = ProcessInfo.processInfo.environment["TAPE_KERNELS"] ?? ""
        switch tk_kernel_request_status() {
        case TK_REQUEST_UNKNOWN: m.requestNote = "TAPE_KERNELS=\(requested) is not one of portable, avx2, avx512; using \(path)"
        case TK_REQUEST_UNSUPPORTED: m.requestNote = "TAPE_KERNELS=\(requested): this CPU lacks it; using \(path)"
        case TK_REQUEST_NOT_BUILT: m.requestNote = "TAPE_KERNELS=\(requested): this build has no AVX-512 kernels (issue 20); using \(path)"
        case TK_REQUEST_HONOURED: m.kernelPath += " (forced by TAPE_KERNELS)"
        default: break
        }
        // /proc/cpuinfo on Linux: the first processor's lines are enough (all cores are the same class here).
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return m }
        func field(_ name: String) -> String? {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
        m.model = field("model name") ?? m.model
        m.family = field("cpu family")
        m.modelNumber = field("model")
        let flags = Set((field("flags") ?? "").split(separator: " ").map(String.init))
        m.features = featuresOfInterest.filter(flags.contains)
        return m
    }

    /// One line for the top of a table.
    var summary: String {
        var s = "machine: \(model)"
        if let family, let modelNumber { s += " (family \(family) model \(modelNumber))" }
        s += ", \(onlineCPUs) CPUs online; vector features: \(features.isEmpty ? "none of interest" : features.joined(separator: " "))"
        s += "; kernels: \(kernelPath)"
        return s
    }

    var json: [String: Any] {
        var d: [String: Any] = ["model": model, "online_cpus": onlineCPUs, "features": features, "kernel_path": kernelPath]
        if let family { d["family"] = family }
        if let modelNumber { d["model_number"] = modelNumber }
        if let requestNote { d["kernel_request_note"] = requestNote }
        return d
    }
}
