import Foundation

/// Seconds on the monotonic clock.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Timing of one operation: the median over batches of (batch time / calls per batch), after a
/// first call (timed alone) and warm-up; batches last at least `batchSeconds`, and at least
/// `minBatches` batches and `minSeconds` seconds are measured (the peer harness's method).
struct Timing {
    var firstCallSeconds: Double
    var medianSeconds: Double
    var p25Seconds: Double
    var p75Seconds: Double
    var batches: Int

    static func measure(minSeconds: Double, minBatches: Int = 5, batchSeconds: Double = 0.05,
                        maxBatches: Int = 400, _ body: () -> Void) -> Timing {
        var t0 = now(); body(); let first = now() - t0
        body(); body()
        t0 = now()
        for _ in 0..<3 { body() }
        let estimate = (now() - t0) / 3
        let inner = max(1, Int(batchSeconds / max(estimate, 1e-9)))
        var samples: [Double] = []
        let start = now()
        while (samples.count < minBatches || now() - start < minSeconds) && samples.count < maxBatches {
            let t = now()
            for _ in 0..<inner { body() }
            samples.append((now() - t) / Double(inner))
        }
        samples.sort()
        func q(_ f: Double) -> Double { samples[min(samples.count - 1, Int(f * Double(samples.count - 1) + 0.5))] }
        return Timing(firstCallSeconds: first, medianSeconds: q(0.5), p25Seconds: q(0.25), p75Seconds: q(0.75), batches: samples.count)
    }
}

/// Peak resident set size of this process so far, in bytes (VmHWM from /proc/self/status).
func peakResidentBytes() -> Int? { statusField("VmHWM:") }
