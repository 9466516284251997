import TapeKernels
import Foundation

extension Kernels {
    /// out (+)= Σ over `axis` of the `rows × cols` matrix `a` (axis nil: the sum of everything).
    /// `out` has `cols` values for axis 0, `rows` for axis 1, one for nil.
    static func sum(_ a: UnsafePointer<Double>, rows: Int, cols: Int, axis: Int?,
                    into out: UnsafeMutablePointer<Double>, accumulate: Bool) {
        switch axis {
        case nil:
            var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
            let n = rows * cols
            var k = 0
            while k + 4 <= n { s0 += a[k]; s1 += a[k + 1]; s2 += a[k + 2]; s3 += a[k + 3]; k += 4 }
            while k < n { s0 += a[k]; k += 1 }
            let s = (s0 + s1) + (s2 + s3)
            if accumulate { out[0] += s } else { out[0] = s }
        case 0?:
            if !accumulate { out.update(repeating: 0, count: cols) }
            for i in 0..<rows { let r = a + i * cols; for j in 0..<cols { out[j] += r[j] } }
        default:
            for i in 0..<rows {
                let r = a + i * cols
                var s = 0.0
                for j in 0..<cols { s += r[j] }
                if accumulate { out[i] += s } else { out[i] = s }
            }
        }
    }

    /// out = aᵀ for a `rows × cols` matrix (out is `cols × rows`), in cache-friendly blocks.
    static func transpose(_ a: UnsafePointer<Double>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Double>) {
        let block = 32
        for i0 in stride(from: 0, to: rows, by: block) {
            for j0 in stride(from: 0, to: cols, by: block) {
                for i in i0..<min(i0 + block, rows) {
                    for j in j0..<min(j0 + block, cols) { out[j * rows + i] = a[i * cols + j] }
                }
            }
        }
    }

    /// Row-wise (axis 1) or column-wise (axis 0) numerically stable softmax and log-sum-exp of
    /// a `rows × cols` matrix: s = exp(a − m) / Σ exp(a − m), lse = m + log Σ exp(a − m), with m
    /// the maximum along the axis. Either output may be nil.
    static func softmax(_ a: UnsafePointer<Double>, rows: Int, cols: Int, axis: Int,
                        softmax s: UnsafeMutablePointer<Double>?, logSumExp lse: UnsafeMutablePointer<Double>?) {
        // Work along lines: a line has `length` entries `stride` apart; there are `lines` of them.
        let (lines, length, lineStep, stride) = axis == 1 ? (rows, cols, cols, 1) : (cols, rows, 1, cols)
        for l in 0..<lines {
            let base = a + l * lineStep
            var m = -Double.infinity
            for k in 0..<length { m = max(m, base[k * stride]) }
            if m == -.infinity { m = 0 }   // an all −∞ line: keep the result −∞ rather than NaN
            var z = 0.0
            // exp is the engine's own (tk_exp, vmath.c), so softmax agrees with `map(.exp)` to the bit.
            if let s {
                let out = s + l * lineStep
                if stride == 1 {
                    for k in 0..<length { out[k] = base[k] - m }
                    tk_vexp(out, out, length)
                    for k in 0..<length { z += out[k] }
                } else {
                    for k in 0..<length { let e = tk_exp(base[k * stride] - m); out[k * stride] = e; z += e }
                }
                let inv = 1 / z
                for k in 0..<length { out[k * stride] *= inv }
            } else {
                for k in 0..<length { z += tk_exp(base[k * stride] - m) }
            }
            lse?[l] = m + Foundation.log(z)
        }
    }

    /// Copies a block: `count` slices along `axis` starting at `start` of a `rows × cols` matrix
    /// into a dense output (slice), or the reverse (pad: writes a dense input into the block of a
    /// zero-filled output). Rank-1 tensors use axis 1 (their only axis, as columns).
    static func copyBlock(axis: Int, start: Int, count: Int, rows: Int, cols: Int,
                          full: UnsafeMutablePointer<Double>, block: UnsafeMutablePointer<Double>, toBlock: Bool) {
        if axis == 0 {
            let off = start * cols, n = count * cols
            if toBlock { block.update(from: full + off, count: n) } else { (full + off).update(from: block, count: n) }
        } else {
            for i in 0..<rows {
                let f = full + i * cols + start, b = block + i * count
                if toBlock { b.update(from: f, count: count) } else { f.update(from: b, count: count) }
            }
        }
    }

    /// Adds a dense block into `count` slices along `axis` starting at `start` of a `rows × cols` matrix
    /// (the adjoint of a slice, without materializing the zero-padded cotangent). Rank-1: axis 1.
    static func addBlock(axis: Int, start: Int, count: Int, rows: Int, cols: Int,
                         full: UnsafeMutablePointer<Double>, block: UnsafePointer<Double>) {
        if axis == 0 {
            tk_add_into(block, full + start * cols, count * cols)
        } else {
            for i in 0..<rows { tk_add_into(block + i * count, full + i * cols + start, count) }
        }
    }
}
