/// A value in a sweep: a primal buffer, an optional tangent buffer and a shape.
/// A nil tangent is a symbolic zero: no memory, no arithmetic.
struct Slot {
    var p: UnsafeMutablePointer<Double>
    var t: UnsafeMutablePointer<Double>?
    var shape: Shape
    @inline(__always) var count: Int { shape.count }
}

/// The algebra on `Slot`s: every primitive computes its primal and, when any argument carries a
/// tangent, its tangent (the JVP) in the same call. Results are fresh arena buffers, except
/// `reshape`, which views its argument.
struct Dual: TensorAlgebra {
    unowned(unsafe) let arena: Arena
    let gemm: GemmContext
    /// False: a result's primal may be left unwritten when it has a tangent (only `matmul` uses this;
    /// the others are cheap). The sweep uses such an algebra for the cotangent of an input whose
    /// gradient nobody asked for, where only the tangent (the HVP) is read.
    var primal = true

    @inline(__always) func shape(of a: Slot) -> Shape { a.shape }

    @inline(__always) private func fresh(_ s: Shape, tangent: Bool) -> Slot {
        Slot(p: arena.allocate(s.count), t: tangent ? arena.allocate(s.count) : nil, shape: s)
    }

    @inline(__always) private func broadcastShape(_ a: Slot, _ b: Slot, _ op: StaticString) -> Shape {
        guard let s = Shape.broadcast(a.shape, b.shape) else {
            fatalError("\(op): shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        return s
    }

    // y = a ± b;  ẏ = ȧ ± ḃ
    func add(_ a: Slot, _ b: Slot) -> Slot { addOrSub(a, b, sign: 1, AddOp.self, "add") }
    func sub(_ a: Slot, _ b: Slot) -> Slot { addOrSub(a, b, sign: -1, SubOp.self, "subtract") }

    @inline(__always)
    private func addOrSub<Op: Pointwise2>(_ a: Slot, _ b: Slot, sign: Double, _ op: Op.Type, _ name: StaticString) -> Slot {
        let s = broadcastShape(a, b, name)
        let y = fresh(s, tangent: a.t != nil || b.t != nil)
        Kernels.map2(op, rows: s.rows, cols: s.cols, View(a.p, a.shape, in: s), View(b.p, b.shape, in: s),
                     into: y.p, accumulate: false)
        if let yt = y.t {
            switch (a.t, b.t) {
            case let (at?, bt?):
                Kernels.map2(op, rows: s.rows, cols: s.cols, View(at, a.shape, in: s), View(bt, b.shape, in: s),
                             into: yt, accumulate: false)
            case let (at?, nil): Kernels.scale(1, rows: s.rows, cols: s.cols, View(at, a.shape, in: s), into: yt, accumulate: false)
            case let (nil, bt?): Kernels.scale(sign, rows: s.rows, cols: s.cols, View(bt, b.shape, in: s), into: yt, accumulate: false)
            case (nil, nil): break
            }
        }
        return y
    }

    // y = a ⊙ b;  ẏ = ȧ ⊙ b + a ⊙ ḃ
    func mul(_ a: Slot, _ b: Slot) -> Slot {
        let s = broadcastShape(a, b, "multiply")
        let y = fresh(s, tangent: a.t != nil || b.t != nil)
        let va = View(a.p, a.shape, in: s), vb = View(b.p, b.shape, in: s)
        Kernels.map2(MulOp.self, rows: s.rows, cols: s.cols, va, vb, into: y.p, accumulate: false)
        if let yt = y.t {
            switch (a.t, b.t) {
            case let (at?, bt?):
                Kernels.map4(MulTangentOp.self, rows: s.rows, cols: s.cols, View(at, a.shape, in: s), vb, va,
                             View(bt, b.shape, in: s), into: yt, accumulate: false)
            case let (at?, nil): Kernels.map2(MulOp.self, rows: s.rows, cols: s.cols, View(at, a.shape, in: s), vb, into: yt, accumulate: false)
            case let (nil, bt?): Kernels.map2(MulOp.self, rows: s.rows, cols: s.cols, va, View(bt, b.shape, in: s), into: yt, accumulate: false)
            case (nil, nil): break
            }
        }
        return y
    }

    // y = a ⊘ b;  ẏ = (ȧ − y ⊙ ḃ) ⊘ b
    func div(_ a: Slot, _ b: Slot) -> Slot {
        let s = broadcastShape(a, b, "divide")
        let y = fresh(s, tangent: a.t != nil || b.t != nil)
        let vb = View(b.p, b.shape, in: s), vy = View(y.p, s, in: s)
        Kernels.map2(DivOp.self, rows: s.rows, cols: s.cols, View(a.p, a.shape, in: s), vb, into: y.p, accumulate: false)
        if let yt = y.t {
            switch (a.t, b.t) {
            case let (at?, bt?):
                Kernels.map4(DivTangentOp.self, rows: s.rows, cols: s.cols, View(at, a.shape, in: s), vy,
                             View(bt, b.shape, in: s), vb, into: yt, accumulate: false)
            case let (at?, nil): Kernels.map2(DivOp.self, rows: s.rows, cols: s.cols, View(at, a.shape, in: s), vb, into: yt, accumulate: false)
            case let (nil, bt?): Kernels.map3(DivTangentNoAOp.self, rows: s.rows, cols: s.cols, vy, View(bt, b.shape, in: s), vb, into: yt, accumulate: false)
            case (nil, nil): break
            }
        }
        return y
    }

    // y = c·a;  ẏ = c·ȧ
    func scale(_ a: Slot, _ c: Double) -> Slot {
        let y = fresh(a.shape, tangent: a.t != nil)
        let s = a.shape
        Kernels.scale(c, rows: 1, cols: s.count, View(a.p, rowStride: 0, colStride: 1), into: y.p, accumulate: false)
        if let at = a.t, let yt = y.t {
            Kernels.scale(c, rows: 1, cols: s.count, View(at, rowStride: 0, colStride: 1), into: yt, accumulate: false)
        }
        return y
    }

    // y = a + c;  ẏ = ȧ
    func addScalar(_ a: Slot, _ c: Double) -> Slot {
        let y = fresh(a.shape, tangent: a.t != nil)
        Kernels.addScalar(c, a.p, count: a.count, into: y.p)
        if let at = a.t, let yt = y.t { yt.update(from: at, count: a.count) }
        return y
    }

    // y = f(a);  ẏ = f′(a) ⊙ ȧ   (one fused pass)
    func map(_ f: UnaryFunction, _ a: Slot, _ p: Double) -> Slot {
        let y = fresh(a.shape, tangent: a.t != nil)
        var job = MapKernel(f: f, x: a.p, dx: a.t, y: y.p, dy: y.t, n: a.count, p: p)
        Kernels.parallel(a.count, &job) { raw, k, n in
            let j = raw!.assumingMemoryBound(to: MapKernel.self).pointee
            j.f.dispatch(j.stretch(k, n))
        }
        return y
    }

    // r = g ⊙ f′(a);  ṙ = ġ ⊙ f′(a) + g ⊙ f″(a) ⊙ ȧ   (one fused pass)
    func derivativeProduct(_ f: UnaryFunction, _ g: Slot, _ a: Slot, _ y: Slot, _ p: Double) -> Slot {
        require(g.shape.count == a.shape.count, "derivativeProduct: shapes \(g.shape) and \(a.shape) differ")
        let r = fresh(a.shape, tangent: g.t != nil || a.t != nil)
        var job = DerivativeProductKernel(f: f, g: g.p, dg: g.t, x: a.p, dx: a.t, y: y.p, r: r.p, dr: r.t, n: a.count, p: p)
        Kernels.parallel(a.count, &job) { raw, k, n in
            let j = raw!.assumingMemoryBound(to: DerivativeProductKernel.self).pointee
            j.f.dispatch(j.stretch(k, n))
        }
        return r
    }

    // y = op(a)·op(b);  ẏ = op(ȧ)·op(b) + op(a)·op(ḃ). Products sharing an operand run as one stacked
    // product ([y; ẏ] = [op(a); op(ȧ)]·op(b), or [y | ẏ] = op(a)·[op(b) | op(ḃ)]): the shared operand is
    // packed once and the threads balance over twice the work. Each block gets the bits it would alone,
    // so the tangent alone (`primal` false) has the same bits as the tangent of the pair.
    func matmul(_ a: Slot, _ b: Slot, _ ta: Bool, _ tb: Bool) -> Slot {
        let s = Shape.matmulResult(a.shape, b.shape, ta, tb, op: "matmul")
        let y = fresh(s, tangent: a.t != nil || b.t != nil)
        if !primal, let yt = y.t {   // ẏ only: y.p stays unwritten
            if let at = a.t { gemm.run(at, a.shape, ta, b.p, b.shape, tb, into: yt, accumulate: false) }
            if let bt = b.t { gemm.run(a.p, a.shape, ta, bt, b.shape, tb, into: yt, accumulate: a.t != nil) }
            return y
        }
        switch (a.t, b.t, y.t) {
        case let (at?, bt, yt?):
            gemm.runStackedRows(a.p, at, a.shape, ta, b.p, b.shape, tb, into: y.p, yt)
            if let bt { gemm.run(a.p, a.shape, ta, bt, b.shape, tb, into: yt, accumulate: true) }
        case let (nil, bt?, yt?):
            gemm.runStackedColumns(a.p, a.shape, ta, b.p, bt, b.shape, tb, into: y.p, yt)
        default:
            gemm.run(a.p, a.shape, ta, b.p, b.shape, tb, into: y.p, accumulate: false)
        }
        return y
    }

    // y = aᵀ;  ẏ = ȧᵀ
    func transpose(_ a: Slot) -> Slot {
        guard a.shape.rank == 2 else { return reshape(a, a.shape) }
        let y = fresh(Shape(rows: a.shape.cols, cols: a.shape.rows), tangent: a.t != nil)
        Kernels.transpose(a.p, rows: a.shape.rows, cols: a.shape.cols, into: y.p)
        if let at = a.t, let yt = y.t { Kernels.transpose(at, rows: a.shape.rows, cols: a.shape.cols, into: yt) }
        return y
    }

    // y = Σ a;  ẏ = Σ ȧ
    func sum(_ a: Slot, axis: Int?, keep: Bool) -> Slot {
        let s = a.shape
        let outShape: Shape
        var kernelAxis = axis
        if let ax = axis {
            outShape = s.reduced(alongAxis: ax, keepingDimension: keep)
            if s.rank == 1 { kernelAxis = nil }   // the only axis of a vector: a full sum
        } else {
            outShape = .scalar
        }
        let y = fresh(outShape, tangent: a.t != nil)
        Kernels.sum(a.p, rows: s.rows, cols: s.cols, axis: kernelAxis, into: y.p, accumulate: false)
        if let at = a.t, let yt = y.t { Kernels.sum(at, rows: s.rows, cols: s.cols, axis: kernelAxis, into: yt, accumulate: false) }
        return y
    }

    // A view: same buffers, another shape.
    @inline(__always) func reshape(_ a: Slot, _ s: Shape) -> Slot {
        require(s.count == a.count, "reshape: cannot reshape \(a.shape) to \(s)")
        return Slot(p: a.p, t: a.t, shape: s)
    }

    // Slices along an axis (rank-1: its only axis). Linear: the tangent is sliced the same way.
    func slice(_ a: Slot, axis: Int, start: Int, count: Int) -> Slot {
        let s = a.shape
        let (ax, rows, cols) = s.rank == 1 ? (1, 1, s.cols) : (axis, s.rows, s.cols)
        let y = fresh(s.replacing(axis: axis, with: count), tangent: a.t != nil)
        Kernels.copyBlock(axis: ax, start: start, count: count, rows: rows, cols: cols, full: a.p, block: y.p, toBlock: true)
        if let at = a.t, let yt = y.t {
            Kernels.copyBlock(axis: ax, start: start, count: count, rows: rows, cols: cols, full: at, block: yt, toBlock: true)
        }
        return y
    }

    func pad(_ a: Slot, axis: Int, start: Int, total: Int) -> Slot {
        let s = a.shape
        let outShape = s.replacing(axis: axis, with: total)
        let (ax, rows, cols) = s.rank == 1 ? (1, 1, total) : (axis, outShape.rows, outShape.cols)
        let y = Slot(p: arena.allocateZeroed(outShape.count), t: a.t != nil ? arena.allocateZeroed(outShape.count) : nil, shape: outShape)
        Kernels.copyBlock(axis: ax, start: start, count: s.dimension(axis), rows: rows, cols: cols, full: y.p, block: a.p, toBlock: false)
        if let at = a.t, let yt = y.t {
            Kernels.copyBlock(axis: ax, start: start, count: s.dimension(axis), rows: rows, cols: cols, full: yt, block: at, toBlock: false)
        }
        return y
    }

    /// Concatenation along `axis`. Linear: tangents are concatenated, zeros for parts without one.
    func concat(_ parts: UnsafeBufferPointer<Slot>, axis: Int) -> Slot {
        let first = parts[0].shape
        let outShape = first.replacing(axis: axis, with: parts.reduce(0) { $0 + $1.shape.dimension(axis) })
        let hasTangent = parts.contains { $0.t != nil }
        let y = fresh(outShape, tangent: hasTangent)
        let (ax, rows, cols) = first.rank == 1 ? (1, 1, outShape.cols) : (axis, outShape.rows, outShape.cols)
        var start = 0
        for part in parts {
            let n = part.shape.dimension(axis)
            Kernels.copyBlock(axis: ax, start: start, count: n, rows: rows, cols: cols, full: y.p, block: part.p, toBlock: false)
            if let yt = y.t {
                let src = part.t ?? arena.allocateZeroed(part.count)
                Kernels.copyBlock(axis: ax, start: start, count: n, rows: rows, cols: cols, full: yt, block: src, toBlock: false)
            }
            start += n
        }
        return y
    }

    // s = softmax(a);  ṡ = s ⊙ (ȧ − Σ s ⊙ ȧ)
    func softmax(_ a: Slot, axis: Int) -> Slot {
        let y = fresh(a.shape, tangent: a.t != nil)
        let (rows, cols, ax) = softmaxLayout(a.shape, axis)
        Kernels.softmax(a.p, rows: rows, cols: cols, axis: ax, softmax: y.p, logSumExp: nil)
        if let at = a.t, let yt = y.t {
            let n = a.count
            for k in 0..<n { yt[k] = y.p[k] * at[k] }                     // s ⊙ ȧ
            let m = arena.allocate(ax == 1 ? rows : cols)
            Kernels.sum(yt, rows: rows, cols: cols, axis: ax, into: m, accumulate: false)
            for i in 0..<rows { for j in 0..<cols {
                let k = i * cols + j
                yt[k] -= y.p[k] * m[ax == 1 ? i : j]                       // − s ⊙ Σ s ⊙ ȧ
            } }
        }
        return y
    }

    // y = log Σ exp a;  ẏ = Σ softmax(a) ⊙ ȧ
    func logSumExp(_ a: Slot, axis: Int, keep: Bool) -> Slot {
        let (rows, cols, ax) = softmaxLayout(a.shape, axis)
        let outShape = a.shape.rank == 1 ? (keep ? Shape(rank: 1, 1, 1) : .scalar) : a.shape.reduced(alongAxis: axis, keepingDimension: keep)
        let y = fresh(outShape, tangent: a.t != nil)
        if let at = a.t, let yt = y.t {
            let s = arena.allocate(a.count)
            Kernels.softmax(a.p, rows: rows, cols: cols, axis: ax, softmax: s, logSumExp: y.p)
            for k in 0..<a.count { s[k] *= at[k] }
            Kernels.sum(s, rows: rows, cols: cols, axis: ax, into: yt, accumulate: false)
        } else {
            Kernels.softmax(a.p, rows: rows, cols: cols, axis: ax, softmax: nil, logSumExp: y.p)
        }
        return y
    }

    /// Rank-1 tensors are one row: their axis 0 is the kernels' axis 1.
    private func softmaxLayout(_ s: Shape, _ axis: Int) -> (Int, Int, Int) {
        s.rank == 1 ? (1, s.cols, 1) : (s.rows, s.cols, axis)
    }

    // y = ⟨a, b⟩;  ẏ = ⟨ȧ, b⟩ + ⟨a, ḃ⟩
    func dot(_ a: Slot, _ b: Slot) -> Slot {
        require(a.count == b.count, "dot: shapes \(a.shape) and \(b.shape) differ")
        let y = fresh(.scalar, tangent: a.t != nil || b.t != nil)
        y.p[0] = Kernels.dot(a.p, b.p, count: a.count)
        if let yt = y.t {
            var s = 0.0
            if let at = a.t { s += Kernels.dot(at, b.p, count: a.count) }
            if let bt = b.t { s += Kernels.dot(a.p, bt, count: a.count) }
            yt[0] = s
        }
        return y
    }

    /// A slot holding a copy of `values` (no tangent).
    func constant(_ values: UnsafeBufferPointer<Double>, shape: Shape) -> Slot {
        let p = arena.allocate(shape.count)
        if shape.count > 0 { p.update(from: values.baseAddress!, count: shape.count) }
        return Slot(p: p, t: nil, shape: shape)
    }

    /// A scalar slot holding `x`.
    func scalar(_ x: Double) -> Slot {
        let p = arena.allocate(1)
        p[0] = x
        return Slot(p: p, t: nil, shape: .scalar)
    }
}

/// y = f(x) and, with a tangent, ẏ = f′(x, y)·ẋ, in one loop.
private struct MapKernel: UnaryKernel {
    let f: UnaryFunction
    let x: UnsafeMutablePointer<Double>, dx: UnsafeMutablePointer<Double>?
    let y: UnsafeMutablePointer<Double>, dy: UnsafeMutablePointer<Double>?
    let n: Int, p: Double

    /// The same work on values k ..< k + count.
    func stretch(_ k: Int, _ count: Int) -> MapKernel {
        MapKernel(f: f, x: x + k, dx: dx.map { $0 + k }, y: y + k, dy: dy.map { $0 + k }, n: count, p: p)
    }
    @inline(__always) func run<F: ScalarFunction>(_: F.Type) {
        F.fill(x, y, n, p)
        if let dx, let dy { for k in 0..<n { dy[k] = F.d1(x[k], y[k], p) * dx[k] } }
    }
}

/// r = g·f′(x, y) and, with tangents, ṙ = ġ·f′ + g·f″·ẋ, in one loop.
private struct DerivativeProductKernel: UnaryKernel {
    let f: UnaryFunction
    let g: UnsafeMutablePointer<Double>, dg: UnsafeMutablePointer<Double>?
    let x: UnsafeMutablePointer<Double>, dx: UnsafeMutablePointer<Double>?
    let y: UnsafeMutablePointer<Double>
    let r: UnsafeMutablePointer<Double>, dr: UnsafeMutablePointer<Double>?
    let n: Int, p: Double

    /// The same work on values k ..< k + count.
    func stretch(_ k: Int, _ count: Int) -> DerivativeProductKernel {
        DerivativeProductKernel(f: f, g: g + k, dg: dg.map { $0 + k }, x: x + k, dx: dx.map { $0 + k }, y: y + k,
                                r: r + k, dr: dr.map { $0 + k }, n: count, p: p)
    }
    @inline(__always) func run<F: ScalarFunction>(_: F.Type) {
        switch (dg, dx, dr) {
        case let (dg?, dx?, dr?):
            for k in 0..<n {
                let d1 = F.d1(x[k], y[k], p)
                r[k] = g[k] * d1
                dr[k] = dg[k] * d1 + g[k] * F.d2(x[k], y[k], p) * dx[k]
            }
        case let (nil, dx?, dr?):
            for k in 0..<n { r[k] = g[k] * F.d1(x[k], y[k], p); dr[k] = g[k] * F.d2(x[k], y[k], p) * dx[k] }
        case let (dg?, nil, dr?):
            for k in 0..<n { let d1 = F.d1(x[k], y[k], p); r[k] = g[k] * d1; dr[k] = dg[k] * d1 }
        default:
            for k in 0..<n { r[k] = g[k] * F.d1(x[k], y[k], p) }
        }
    }
}
