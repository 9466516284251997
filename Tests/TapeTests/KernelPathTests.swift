import Foundation
import Testing
import TapeKernels

/// The kernel path the dispatchers take (Sources/TapeKernels/cpu.c): the best the CPU has, or the one
/// TAPE_KERNELS forces, with a request that cannot be honoured reported, never silently obeyed or ignored.
/// The forced paths are checked in child processes (`Benchmarks --machine`), since the choice is made once
/// per process.
@Suite("Kernel path selection")
struct KernelPathTests {
    static var cpuHasAVX2FMA: Bool {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let set = Set(flags.split(separator: " ").map(String.init))
        return set.contains("avx2") && set.contains("fma")
    }

    @Test func defaultIsTheBestPathTheCPUHas() throws {
        try #require(ProcessInfo.processInfo.environment["TAPE_KERNELS"] == nil, "run the suite without TAPE_KERNELS set")
        #expect(tk_kernel_request_status() == TK_REQUEST_NONE)
        #expect(tk_kernel_path() == (Self.cpuHasAVX2FMA ? TK_PATH_AVX2 : TK_PATH_PORTABLE))
        #expect((tk_cpu_has_avx2_fma() != 0) == Self.cpuHasAVX2FMA)
    }

    /// `Benchmarks` next to the test bundle (`swift test` builds every product into one folder).
    static let benchmarks: URL? = {
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("Benchmarks")]
        for b in Bundle.allBundles { candidates.append(b.bundleURL.deletingLastPathComponent().appendingPathComponent("Benchmarks")) }
        candidates.append(URL(fileURLWithPath: ".build/release/Benchmarks"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    static func machineLine(kernels: String) throws -> String {
        let exe = try #require(benchmarks, "the Benchmarks executable was not found next to the test bundle")
        let p = Process()
        p.executableURL = exe
        p.arguments = ["--machine"]
        var env = ProcessInfo.processInfo.environment
        env["TAPE_KERNELS"] = kernels
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }

    @Test(arguments: [
        // (TAPE_KERNELS, what the line must say on a CPU with AVX2 + FMA, and on one without)
        ("portable", "kernels: portable (forced by TAPE_KERNELS)", "kernels: portable (forced by TAPE_KERNELS)"),
        ("avx2", "kernels: avx2 (forced by TAPE_KERNELS)", "this CPU lacks it; using portable"),
        ("avx512", "this build has no AVX-512 kernels (issue 20); using avx2", "this build has no AVX-512 kernels (issue 20); using portable"),
        ("sse9", "is not one of portable, avx2, avx512; using avx2", "is not one of portable, avx2, avx512; using portable"),
    ])
    func forcedPathIsTakenOrExplained(kernels: String, withAVX2: String, without: String) throws {
        let out = try Self.machineLine(kernels: kernels)
        let expected = Self.cpuHasAVX2FMA ? withAVX2 : without
        #expect(out.contains(expected), "TAPE_KERNELS=\(kernels): \(out)")
        #expect(out.hasPrefix("machine: "))
    }
}
