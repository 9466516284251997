import Foundation
import AllocationCounter
import Tape
import TapeKernels

// The benchmark executable: gradient and Hessian-vector-product throughput on fixed workloads,
// Float64, median of repeated runs after warm-up. Prints a table; `--json PATH` writes the results.

let usage = """
usage: Benchmarks [--workloads NAME,...] [--min-time SECONDS] [--json PATH] [--peak GFLOPS] [--help]

  --workloads   comma-separated subset of the HVP workloads \(Workload.order.joined(separator: ", "))
                and the hypergradient workloads \(HypergradientWorkload.order.joined(separator: ", "))
                (default: the HVP workloads)
  --min-time    seconds of measurement per timing, at least 0.05 (default 1)
  --json PATH   also write the results as JSON to PATH (written atomically)
  --peak G      the machine's measured float64 peak in GFLOP/s (the FMA peak of both cores from
                Benchmarks/GemmAB/ab.sh --fma-peak, or a matmul peak from ../shared/peers/peak_flops.py),
                to report fractions of peak and each hypergradient workload's physical limit (FLOPs ÷ peak)
  --matmul-only time only the 1024 × 1024 × 1024 matrix product
  --no-matmul   skip the 1024 × 1024 × 1024 matrix product
  --profile W:hvp|hvp-only|hvp-new|gradient [SECONDS | COUNTx]
                only run workload W's HVP with its gradient (into kept tensors: hvp, or new ones each
                call: hvp-new), its HVP alone (hvp-only) or its gradient, in a loop for SECONDS
                (default 10) or COUNT calls, for a profiler; W:run for a hypergradient workload W
  --hvp-memory [W]
                the resident memory one HVP on workload W (default large-mlp) adds to a fresh process
  --linearization-memory [W]
                what a linearized gradient of workload W (default paper-mlp) holds, its peak with one
                product and with a block of 16, beside one fresh HVP's tape
  --export-hypergradients DIR
                write the data and our result of the hypergradient workloads (those in --workloads, or all)
                to DIR/W.json and DIR/W.bin, for Benchmarks/peers/hypergradient_bench.py
  --unroll-memory [K]
                differentiate K (default 10000) SGD steps of the 4 × 200 MLP with checkpoints; print memory
  --report DIR  print the side-by-side table of the rounds Benchmarks/compare.sh saved in DIR
  --machine     print the CPU, its vector features and the kernel path, and exit (TAPE_KERNELS=portable|avx2
                forces a path the CPU has; avx512 is not built yet and falls back, saying so)
  --allocator-effect [W [ROUNDS]]
                what Tape.tuneAllocatorForLargeTensors() buys plain (allocating) HVP calls on workload W
                (default paper-mlp; also many-results: 16 results of 320 kB per call): page faults and µs
                per call with glibc's defaults and tuned, in alternating child processes (ROUNDS pairs, default 5)
This process opts in to Tape.tuneAllocatorForLargeTensors() (docs/tape.md, "Allocator tuning") before it
measures anything else. Build it in release mode: swift run -c release Benchmarks
"""

struct Options {
    var workloads = Workload.order
    var minTime = 1.0
    var jsonPath: String?
    var peak: Double?
    var matmulOnly = false
    var skipMatmul = false
}

func format(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n\n\(usage)\n".utf8))
    exit(2)
}

func parseOptions(_ args: [String]) -> Options {
    var o = Options()
    var i = 0
    func value(_ flag: String) -> String {
        i += 1
        guard i < args.count else { fail("\(flag) needs a value") }
        return args[i]
    }
    while i < args.count {
        switch args[i] {
        case "--help", "-h": print(usage); exit(0)
        case "--workloads":
            let names = value("--workloads").split(separator: ",").map(String.init)
            for n in names where Workload.all[n] == nil && !HypergradientWorkload.order.contains(n) { fail("unknown workload '\(n)'") }
            o.workloads = names
        case "--min-time":
            guard let t = Double(value("--min-time")), t >= 0.05, t <= 600 else { fail("--min-time must be a number of seconds in [0.05, 600]") }
            o.minTime = t
        case "--json": o.jsonPath = value("--json")
        case "--peak":
            guard let p = Double(value("--peak")), p > 0 else { fail("--peak must be a positive number of GFLOP/s") }
            o.peak = p
        case "--matmul-only": o.matmulOnly = true
        case "--no-matmul": o.skipMatmul = true
        default: fail("unknown option '\(args[i])'")
        }
        i += 1
    }
    return o
}

let machine = Machine.current()
if CommandLine.arguments.contains("--machine") {
    print(machine.summary)
    if let note = machine.requestNote { print("note: \(note)") }
    exit(0)
}
if let note = machine.requestNote { FileHandle.standardError.write(Data("warning: \(note)\n".utf8)) }

// The allocator's effect, measured in child processes before this one changes any setting.
if let i = CommandLine.arguments.firstIndex(of: "--allocator-effect") {
    let args = CommandLine.arguments
    let rounds = i + 2 < args.count ? Int(args[i + 2]) : 5
    guard let rounds, rounds >= 1 else { fail("--allocator-effect: ROUNDS must be a positive integer") }
    AllocatorEffect.run(workload: i + 1 < args.count ? args[i + 1] : "paper-mlp", rounds: rounds)
    exit(0)
}
if let i = CommandLine.arguments.firstIndex(of: "--allocator-round") {
    let args = CommandLine.arguments
    guard i + 2 < args.count else { fail("--allocator-round W default|tuned") }
    AllocatorEffect.round(workload: args[i + 1], mode: args[i + 2])
    exit(0)
}

// The benchmarks time the engine, not glibc handing result tensors back to the system and faulting them in
// again: opt in to the allocator settings for tensor-sized blocks (the library itself changes nothing).
Tape.tuneAllocatorForLargeTensors()

// Report mode: print the side-by-side table of the rounds compare.sh saved, measure nothing.
if let i = CommandLine.arguments.firstIndex(of: "--report") {
    let args = CommandLine.arguments
    guard i + 1 < args.count else { fail("--report needs the directory compare.sh wrote") }
    do { print(try PeerReport.run(directory: args[i + 1])) } catch { fail("\(error)") }
    exit(0)
}

// Profiling loop: --profile W:hvp|hvp-only|hvp-new|gradient [SECONDS | COUNTx] runs one operation and measures nothing else.
if let i = CommandLine.arguments.firstIndex(of: "--profile") {
    let args = CommandLine.arguments
    guard i + 1 < args.count else { fail("--profile needs W:hvp, W:hvp-only, W:hvp-new or W:gradient") }
    let parts = args[i + 1].split(separator: ":").map(String.init)
    let hypergradient = parts.count == 2 && HypergradientWorkload.order.contains(parts[0]) && parts[1] == "run"
    guard hypergradient || parts.count == 2 && Workload.all[parts[0]] != nil && ["hvp", "hvp-only", "hvp-new", "gradient"].contains(parts[1]) else {
        fail("--profile: expected W:hvp, W:hvp-only, W:hvp-new or W:gradient with W one of \(Workload.order.joined(separator: ", ")), "
             + "or W:run with W one of \(HypergradientWorkload.order.joined(separator: ", "))")
    }
    // SECONDS, or a fixed number of calls written as COUNTx (for instruction counters such as callgrind).
    let amount = i + 2 < args.count ? args[i + 2] : "10"
    let fixedCalls = amount.hasSuffix("x") ? Int(amount.dropLast()) : nil
    let seconds = fixedCalls == nil ? Double(amount) ?? 10 : .infinity
    var distill: HypergradientWorkload.Distill?
    let run = hypergradient ? HypergradientWorkload.make(parts[0], distill: &distill).run : nil
    let w = hypergradient ? Workload.all["tiny-mlp"]!() : Workload.all[parts[0]]!(), tape = Tape()
    var product = HessianVectorProduct(), gradients: [Tensor] = [], products: [Tensor] = []
    let start = now()
    var calls = 0
    while now() - start < seconds && calls < (fixedCalls ?? .max) {
        switch parts[1] {
        case "run": run!()
        case "hvp": tape.valueGradientAndHessianVectorProduct(of: w.loss, at: w.parameters, along: w.direction, into: &product)
        case "hvp-only": tape.hessianVectorProduct(of: w.loss, at: w.parameters, along: w.direction, into: &products)
        case "hvp-new": _ = tape.valueGradientAndHessianVectorProduct(of: w.loss, at: w.parameters, along: w.direction)
        default: _ = tape.valueAndGradient(of: w.loss, at: w.parameters, into: &gradients)
        }
        calls += 1
    }
    print("\(args[i + 1]): \(calls) calls, \(format((now() - start) / Double(calls) * 1e6, 2)) µs each")
    exit(0)
}

// Memory of one HVP in a fresh process: --hvp-memory [W] (default large-mlp).
if let i = CommandLine.arguments.firstIndex(of: "--hvp-memory") {
    let args = CommandLine.arguments
    HVPMemory.run(workload: i + 1 < args.count ? args[i + 1] : "large-mlp")
    exit(0)
}

// Memory of a linearized gradient: --linearization-memory [W] (default paper-mlp).
if let i = CommandLine.arguments.firstIndex(of: "--linearization-memory") {
    let args = CommandLine.arguments
    LinearizationMemory.run(workload: i + 1 < args.count ? args[i + 1] : "paper-mlp")
    exit(0)
}

// Data for the peer harness: --export-hypergradients DIR [--workloads ...].
if let i = CommandLine.arguments.firstIndex(of: "--export-hypergradients") {
    let args = CommandLine.arguments
    guard i + 1 < args.count else { fail("--export-hypergradients needs a directory") }
    var rest = args.dropFirst()
    rest.removeAll { $0 == "--export-hypergradients" || $0 == args[i + 1] }
    let names = parseOptions(Array(rest)).workloads.filter { HypergradientWorkload.order.contains($0) }
    var distill: HypergradientWorkload.Distill?
    for name in names.isEmpty ? HypergradientWorkload.order : names {
        do { try HypergradientWorkload.make(name, distill: &distill).export(to: args[i + 1]) } catch { fail("could not write \(name): \(error)") }
        print("wrote \(args[i + 1])/\(name).json and .bin")
    }
    exit(0)
}

// Memory check of long unrolls: --unroll-memory [K] (default 10,000).
if let i = CommandLine.arguments.firstIndex(of: "--unroll-memory") {
    let args = CommandLine.arguments
    UnrollMemory.run(steps: i + 1 < args.count ? Int(args[i + 1]) ?? 10_000 : 10_000)
    exit(0)
}

let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
var results: [[String: Any]] = []

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }

print(machine.summary + "\n")
let hvpWorkloads = options.workloads.filter { Workload.all[$0] != nil }
let hypergradientWorkloads = options.workloads.filter { HypergradientWorkload.order.contains($0) }
if !options.matmulOnly && !hvpWorkloads.isEmpty {
    print("| workload | parameters | µs / gradient | µs / HVP [p25–p75] | µs / HVP + gradient | µs / HVP + gradient, new tensors | HVP ÷ gradient | HVP/s | HVP GFLOP/s | first call µs | tape MB | tape ÷ (params + activations) | allocations / HVP (alone, + gradient) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in hvpWorkloads {
        let w = Workload.all[name]!()
        // Steady state, as an inner loop runs: results written into the previous call's tensors.
        let tape = Tape()
        var gradients: [Tensor] = []
        let grad = Timing.measure(minSeconds: options.minTime) {
            _ = tape.valueAndGradient(of: w.loss, at: w.parameters, into: &gradients)
        }
        // The HVP alone (what the peers return, and what conjugate gradients and Neumann series call),
        // then with the gradient too.
        let hvpTape = Tape()
        var products: [Tensor] = []
        let hvp = Timing.measure(minSeconds: options.minTime) {
            hvpTape.hessianVectorProduct(of: w.loss, at: w.parameters, along: w.direction, into: &products)
        }
        var product = HessianVectorProduct()
        let hvpFull = Timing.measure(minSeconds: options.minTime) {
            hvpTape.valueGradientAndHessianVectorProduct(of: w.loss, at: w.parameters, along: w.direction, into: &product)
        }
        // The same with fresh result tensors on every call (the plain API).
        let hvpFresh = Timing.measure(minSeconds: options.minTime / 2) {
            _ = hvpTape.valueGradientAndHessianVectorProduct(of: w.loss, at: w.parameters, along: w.direction)
        }
        let hvpUs = hvp.medianSeconds * 1e6, gradUs = grad.medianSeconds * 1e6, fullUs = hvpFull.medianSeconds * 1e6
        let gflops = w.hvpFlops / hvp.medianSeconds / 1e9
        let tapeMB = Double(hvpTape.peakBytes) / 1e6
        let memoryRatio = Double(hvpTape.peakBytes) / Double(w.parameterAndActivationDoubles * 8)
        // Steady-state heap allocations of one HVP (the call allocates nothing once its buffers exist,
        // except the result tensors it returns).
        let calls = name == "large-mlp" ? 3 : 200
        func allocationsPerCall(_ body: () -> Void) -> Double {
            let before = allocation_count()
            for _ in 0..<calls { body() }
            return Double(allocation_count() - before) / Double(calls)
        }
        let allocations = allocationsPerCall {
            hvpTape.hessianVectorProduct(of: w.loss, at: w.parameters, along: w.direction, into: &products)
        }
        let fullAllocations = allocationsPerCall {
            hvpTape.valueGradientAndHessianVectorProduct(of: w.loss, at: w.parameters, along: w.direction, into: &product)
        }
        print("| \(name) | \(w.parameterCount) | \(format(gradUs, 2)) | \(format(hvpUs, 2)) [\(format(hvp.p25Seconds * 1e6, 2))–\(format(hvp.p75Seconds * 1e6, 2))] | \(format(fullUs, 2)) | \(format(hvpFresh.medianSeconds * 1e6, 2)) | \(format(hvpUs / gradUs, 2)) | \(format(1 / hvp.medianSeconds, 0)) | \(format(gflops, 2)) | \(format(hvp.firstCallSeconds * 1e6, 0)) | \(format(tapeMB, 1)) | \(format(memoryRatio, 2)) | \(format(allocations, 1)), \(format(fullAllocations, 1)) |")
        var entry: [String: Any] = [
            "name": name, "parameters": w.parameterCount,
            "grad_us": gradUs, "hvp_us": hvpUs, "hvp_per_second": 1 / hvp.medianSeconds, "hvp_gflops": gflops,
            "grad_gflops": w.gradientFlops / grad.medianSeconds / 1e9,
            "hvp_p25_us": hvp.p25Seconds * 1e6, "hvp_p75_us": hvp.p75Seconds * 1e6,
            "hvp_over_grad": hvpUs / gradUs, "first_call_hvp_us": hvp.firstCallSeconds * 1e6,
            "hvp_tape_peak_bytes": hvpTape.peakBytes, "tape_over_parameters_and_activations": memoryRatio,
            "allocations_per_hvp": allocations, "allocations_per_hvp_with_gradient": fullAllocations,
            "hvp_with_gradient_us": fullUs, "hvp_with_gradient_fresh_tensors_us": hvpFresh.medianSeconds * 1e6,
            "parameter_and_activation_bytes": w.parameterAndActivationDoubles * 8,
        ]
        if let peak = options.peak { entry["hvp_fraction_of_peak"] = gflops / peak }
        results.append(entry)
    }
}

// Whole hypergradients (and a block of HVPs), each timed as one call.
var hypergradientResults: [[String: Any]] = []
if !options.matmulOnly && !hypergradientWorkloads.isEmpty {
    hypergradientResults = HypergradientTable.run(hypergradientWorkloads, minTime: options.minTime, peak: options.peak)
}

// The matrix product alone: 1024 × 1024 × 1024, the C kernel with a workspace kept across calls (as a
// tape keeps its own), on the worker pool's threads.
var matmulEntry: [String: Any] = [:]
if !options.skipMatmul && (options.matmulOnly || !hvpWorkloads.isEmpty) {
    var g = SeededGenerator(seed: 1)
    let a = Tensor.randomNormal([1024, 1024], using: &g), b = Tensor.randomNormal([1024, 1024], using: &g)
    var c = [Double](repeating: 0, count: 1024 * 1024)
    let threads = Int32(tk_pool_threads())
    let work = UnsafeMutablePointer<Double>.allocate(capacity: tk_dgemm_workspace_doubles(threads))
    defer { work.deallocate() }
    let mm = Timing.measure(minSeconds: options.minTime, minBatches: 3) {
        tk_dgemm(0, 0, 1024, 1024, 1024, 1, a.scalars, 1024, b.scalars, 1024, 0, &c, 1024, work, threads)
    }
    let mmGflops = 2 * 1024 * 1024 * 1024 / mm.medianSeconds / 1e9
    matmulEntry = ["m": 1024, "n": 1024, "k": 1024, "ms": mm.medianSeconds * 1e3, "gflops": mmGflops, "threads": Int(threads)]
    var line = "\nmatmul 1024³ (\(threads) threads): \(format(mm.medianSeconds * 1e3, 2)) ms, \(format(mmGflops, 2)) GFLOP/s"
    if let peak = options.peak { matmulEntry["fraction_of_peak"] = mmGflops / peak; line += " (\(format(100 * mmGflops / peak, 1)) % of \(peak) GFLOP/s peak)" }
    print(line)
}
if let rss = peakResidentBytes() { print("peak resident memory of this process: \(format(Double(rss) / 1e6, 1)) MB") }

if let path = options.jsonPath {
    let doc: [String: Any] = ["workloads": results, "hypergradients": hypergradientResults, "matmul": matmulEntry, "dtype": "float64",
                              "machine": machine.json,
                              "peak_resident_bytes": peakResidentBytes() ?? -1]
    do {
        let data = try JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        print("wrote \(path)")
    } catch {
        FileHandle.standardError.write(Data("error: could not write \(path): \(error.localizedDescription)\n".utf8))
        exit(1)
    }
}
