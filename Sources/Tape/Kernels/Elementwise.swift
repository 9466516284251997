import TapeKernels
/// Raw loops over contiguous row-major buffers. Nothing here knows about tapes or derivatives:
/// these are the few memory patterns every rule is built from. Operands are `View`s into a
/// 2-D iteration space `rows × cols`; a broadcast dimension has stride 0.
enum Kernels {}

extension Kernels {
    /// Loops over at least this many values are split over the worker pool. The workers spin between
    /// tasks, so a handover costs about a microsecond: 8,192 values already pay for it (paper-mlp's
    /// 100 × 200 activations ran on the caller alone at the earlier 32,768, the second core idle).
    static let parallelMinimum = Int(TK_PARALLEL_MIN_VALUES)

    /// Runs `chunk(context, start, count)` on contiguous stretches covering 0..<n — all of it at once
    /// when n is below `minimum`, else one stretch per thread of the worker pool
    /// (Sources/TapeKernels/pool.c), each starting at a multiple of 8. `chunk` must only touch its own
    /// stretch: the results are then those of one call over everything. The work is described by the
    /// struct `context` points to (a C function pointer cannot capture, and a closure would be boxed on
    /// the heap on every call).
    @inline(__always)
    static func parallel<Context>(_ n: Int, minimum: Int = parallelMinimum, _ context: inout Context,
                                  _ chunk: @convention(c) (UnsafeMutableRawPointer?, Int, Int) -> Void) {
        withUnsafeMutablePointer(to: &context) { tk_parallel_for(n, 8, minimum, chunk, $0) }
    }
}

/// A read-only strided view of a buffer inside a 2-D iteration space.
struct View {
    var p: UnsafePointer<Double>
    var rowStride: Int
    var colStride: Int

    @inline(__always) init(_ p: UnsafePointer<Double>, rowStride: Int, colStride: Int) {
        self.p = p; self.rowStride = rowStride; self.colStride = colStride
    }
    /// `p`, of shape `shape`, seen inside the iteration space of `target` (broadcasting).
    @inline(__always) init(_ p: UnsafeMutablePointer<Double>, _ shape: Shape, in target: Shape) {
        let s = shape.strides(in: target)
        self.init(UnsafePointer(p), rowStride: s.row, colStride: s.col)
    }
    @inline(__always) subscript(i: Int, j: Int) -> Double { p[i &* rowStride &+ j &* colStride] }
    /// Whether the view walks a contiguous buffer of the full iteration space.
    @inline(__always) func isDense(cols: Int) -> Bool { colStride == 1 && rowStride == cols }
}

/// Elementwise functions of several arguments, specialized at compile time. The two-argument ones run
/// in C (`tk_binary`, Sources/TapeKernels/elementwise.c) under their `code`; `apply` states the math
/// (and is what the C loop computes, one rounding per element).
protocol Pointwise2 { static func apply(_ a: Double, _ b: Double) -> Double; static var code: Int32 { get } }
protocol Pointwise3 { static func apply(_ a: Double, _ b: Double, _ c: Double) -> Double }
protocol Pointwise4 { static func apply(_ a: Double, _ b: Double, _ c: Double, _ d: Double) -> Double }

enum AddOp: Pointwise2 { @inline(__always) static func apply(_ a: Double, _ b: Double) -> Double { a + b }; static var code: Int32 { Int32(TK_ADD) } }
enum SubOp: Pointwise2 { @inline(__always) static func apply(_ a: Double, _ b: Double) -> Double { a - b }; static var code: Int32 { Int32(TK_SUB) } }
enum MulOp: Pointwise2 { @inline(__always) static func apply(_ a: Double, _ b: Double) -> Double { a * b }; static var code: Int32 { Int32(TK_MUL) } }
enum DivOp: Pointwise2 { @inline(__always) static func apply(_ a: Double, _ b: Double) -> Double { a / b }; static var code: Int32 { Int32(TK_DIV) } }
/// ȧ·b + a·ḃ, the tangent of a product.
enum MulTangentOp: Pointwise4 {
    @inline(__always) static func apply(_ da: Double, _ b: Double, _ a: Double, _ db: Double) -> Double { da * b + a * db }
}
/// (ȧ − y·ḃ)/b, the tangent of a quotient y = a/b.
enum DivTangentOp: Pointwise4 {
    @inline(__always) static func apply(_ da: Double, _ y: Double, _ db: Double, _ b: Double) -> Double { (da - y * db) / b }
}
/// −y·ḃ/b, the tangent of a quotient when a has none.
enum DivTangentNoAOp: Pointwise3 {
    @inline(__always) static func apply(_ y: Double, _ db: Double, _ b: Double) -> Double { -y * db / b }
}

extension Kernels {
    /// out[i,j] (+)= Op(a[i,j], b[i,j]) over `rows × cols`; `out` is dense.
    @inline(__always)
    static func map2<Op: Pointwise2>(_: Op.Type, rows: Int, cols: Int, _ a: View, _ b: View,
                                     into out: UnsafeMutablePointer<Double>, accumulate: Bool) {
        tk_binary(Op.code, rows, cols, a.p, a.rowStride, a.colStride, b.p, b.rowStride, b.colStride, out, accumulate ? 1 : 0)
    }

    /// out[i,j] (+)= Op(a, b, c) elementwise, with broadcasting views.
    @inline(__always)
    static func map3<Op: Pointwise3>(_: Op.Type, rows: Int, cols: Int, _ a: View, _ b: View, _ c: View,
                                     into out: UnsafeMutablePointer<Double>, accumulate: Bool) {
        if a.isDense(cols: cols) && b.isDense(cols: cols) && c.isDense(cols: cols) {
            let n = rows * cols
            if accumulate { for k in 0..<n { out[k] += Op.apply(a.p[k], b.p[k], c.p[k]) } }
            else { for k in 0..<n { out[k] = Op.apply(a.p[k], b.p[k], c.p[k]) } }
            return
        }
        for i in 0..<rows {
            for j in 0..<cols {
                let v = Op.apply(a[i, j], b[i, j], c[i, j])
                if accumulate { out[i * cols + j] += v } else { out[i * cols + j] = v }
            }
        }
    }

    /// out[i,j] (+)= Op(a, b, c, d) elementwise, with broadcasting views.
    @inline(__always)
    static func map4<Op: Pointwise4>(_: Op.Type, rows: Int, cols: Int, _ a: View, _ b: View, _ c: View, _ d: View,
                                     into out: UnsafeMutablePointer<Double>, accumulate: Bool) {
        if a.isDense(cols: cols) && b.isDense(cols: cols) && c.isDense(cols: cols) && d.isDense(cols: cols) {
            let n = rows * cols
            if accumulate { for k in 0..<n { out[k] += Op.apply(a.p[k], b.p[k], c.p[k], d.p[k]) } }
            else { for k in 0..<n { out[k] = Op.apply(a.p[k], b.p[k], c.p[k], d.p[k]) } }
            return
        }
        for i in 0..<rows {
            for j in 0..<cols {
                let v = Op.apply(a[i, j], b[i, j], c[i, j], d[i, j])
                if accumulate { out[i * cols + j] += v } else { out[i * cols + j] = v }
            }
        }
    }

    /// out[i,j] (+)= s·a[i,j] with a broadcasting view (a copy when s = 1).
    @inline(__always)
    static func scale(_ s: Double, rows: Int, cols: Int, _ a: View,
                      into out: UnsafeMutablePointer<Double>, accumulate: Bool) {
        if a.isDense(cols: cols) {
            let n = rows * cols
            switch (accumulate, s == 1) {
            case (false, true): out.update(from: a.p, count: n)
            case (false, false): for k in 0..<n { out[k] = s * a.p[k] }
            case (true, true): for k in 0..<n { out[k] += a.p[k] }
            case (true, false): for k in 0..<n { out[k] += s * a.p[k] }
            }
            return
        }
        for i in 0..<rows {
            let o = out + i * cols, pa = a.p + i * a.rowStride
            if a.colStride == 1 {
                if accumulate { for j in 0..<cols { o[j] += s * pa[j] } } else { for j in 0..<cols { o[j] = s * pa[j] } }
            } else {
                let v = s * pa[0]
                if accumulate { for j in 0..<cols { o[j] += v } } else { for j in 0..<cols { o[j] = v } }
            }
        }
    }

    /// out (+)= a + c elementwise over n contiguous values.
    @inline(__always)
    static func addScalar(_ c: Double, _ a: UnsafePointer<Double>, count n: Int, into out: UnsafeMutablePointer<Double>) {
        for k in 0..<n { out[k] = a[k] + c }
    }

    /// Adds `source` (shape `from`) into `target` (shape `to`), summing over dimensions that
    /// `to` broadcasts along, or broadcasting `source` when `from` broadcasts to `to`.
    /// This is the one place where reverse-mode "unbroadcasting" happens.
    static func accumulate(_ source: UnsafePointer<Double>, shape from: Shape,
                           into target: UnsafeMutablePointer<Double>, shape to: Shape) {
        if from.count == to.count {          // same data, maybe another rank (e.g. (n) vs (1, n))
            require(from.isSqueezeEquivalent(to: to), "accumulate: shape \(from) does not match \(to)")
            tk_add_into(source, target, to.count)
        } else if to.broadcasts(to: from) {  // reduce: target is the smaller one
            let rows = from.rows, cols = from.cols
            let t = to.strides(in: from)
            if t.row == 0 && t.col == 0 {
                var s = 0.0
                for k in 0..<from.count { s += source[k] }
                target[0] += s
            } else if t.row == 0 {           // a row vector: sum over the rows (a bias's gradient)
                tk_reduce_rows(source, rows, cols, target)
            } else {                         // a column: sum along each row
                for i in 0..<rows {
                    let src = source + i * cols
                    var s = 0.0
                    for j in 0..<cols { s += src[j] }
                    target[i * t.row] += s
                }
            }
        } else {                              // expand: source is the smaller one
            require(from.broadcasts(to: to), "accumulate: shape \(from) neither reduces nor broadcasts to \(to)")
            scale(1, rows: to.rows, cols: to.cols, View(UnsafeMutablePointer(mutating: source), from, in: to),
                  into: target, accumulate: true)
        }
    }

    /// ⟨a, b⟩ over n contiguous values.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, count n: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var k = 0
        while k + 4 <= n {
            s0 += a[k] * b[k]; s1 += a[k + 1] * b[k + 1]; s2 += a[k + 2] * b[k + 2]; s3 += a[k + 3] * b[k + 3]
            k += 4
        }
        while k < n { s0 += a[k] * b[k]; k += 1 }
        return (s0 + s1) + (s2 + s3)
    }
}
