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
///
/// A linearization (Linearization.swift) records a sweep once and replays its tangents many times: with a
/// `log`, recording keeps every result's primal buffer and notes which primals each tangent formula reads;
/// replaying takes each result's primal from the log and computes the tangent alone, for `width` directions
/// at once (`width` tangents of a value lie back to back, block j at `t + j·count`). Each tangent is
/// computed by the same expression in both, so a replayed product has the bits of a fresh HVP's.
struct Dual: TensorAlgebra {
    unowned(unsafe) let arena: Arena
    let gemm: GemmContext
    /// False: a result's primal may be left unwritten when it has a tangent (only `matmul` uses this;
    /// the others are cheap). The sweep uses such an algebra for the cotangent of an input whose
    /// gradient nobody asked for, where only the tangent (the HVP) is read.
    var primal = true
    /// Recording or replaying a linearization's sweep (nil: neither).
    unowned(unsafe) var log: PrimalLog? = nil
    /// Tangents per value (k directions of a block product; 1 otherwise).
    var width = 1

    @inline(__always) func shape(of a: Slot) -> Shape { a.shape }

    /// Whether primals are computed (false while replaying: they were recorded).
    @inline(__always) private var computesPrimal: Bool { log.map { !$0.replaying } ?? true }

    /// A result slot: a fresh primal buffer (or, replaying, the recorded one) and `width` fresh tangents.
    @inline(__always) private func fresh(_ s: Shape, tangent: Bool) -> Slot {
        let p = log.map { $0.primal(s.count, arena) } ?? arena.allocate(s.count)
        return Slot(p: p, t: tangent ? arena.allocate(s.count &* width) : nil, shape: s)
    }

    /// Tangent j of `a` (nil: a symbolic zero).
    @inline(__always) private func block(_ a: Slot, _ j: Int) -> UnsafeMutablePointer<Double>? {
        a.t.map { $0 + j &* a.count }
    }

    /// Recording: the tangent formula reads the primal of `a` (a buffer a replay must keep).
    @inline(__always) private func reads(_ a: Slot) { log?.read(a.p) }

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
        if computesPrimal {
            Kernels.map2(op, rows: s.rows, cols: s.cols, View(a.p, a.shape, in: s), View(b.p, b.shape, in: s),
                         into: y.p, accumulate: false)
        }
        guard y.t != nil else { return y }
        for j in 0..<width {
            let yt = block(y, j)!
            switch (block(a, j), block(b, j)) {
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
        if computesPrimal { Kernels.map2(MulOp.self, rows: s.rows, cols: s.cols, va, vb, into: y.p, accumulate: false) }
        reads(a); reads(b)
        guard y.t != nil else { return y }
        for j in 0..<width {
            let yt = block(y, j)!
            switch (block(a, j), block(b, j)) {
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
        if computesPrimal {
            Kernels.map2(DivOp.self, rows: s.rows, cols: s.cols, View(a.p, a.shape, in: s), vb, into: y.p, accumulate: false)
        }
        reads(b); reads(y)
        guard y.t != nil else { return y }
        for j in 0..<width {
            let yt = block(y, j)!
            switch (block(a, j), block(b, j)) {
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

    // y = c·a;  ẏ = c·ȧ (all tangents in one pass: they lie back to back)
    func scale(_ a: Slot, _ c: Double) -> Slot {
        let y = fresh(a.shape, tangent: a.t != nil)
        let n = a.count
        if computesPrimal { Kernels.scale(c, rows: 1, cols: n, View(a.p, rowStride: 0, colStride: 1), into: y.p, accumulate: false) }
        if let at = a.t, let yt = y.t {
            Kernels.scale(c, rows: 1, cols: n &* width, View(at, rowStride: 0, colStride: 1), into: yt, accumulate: false)
        }
        return y
    }

    // y = a + c;  ẏ = ȧ
    func addScalar(_ a: Slot, _ c: Double) -> Slot {
        let y = fresh(a.shape, tangent: a.t != nil)
        if computesPrimal { Kernels.addScalar(c, a.p, count: a.count, into: y.p) }
        if let at = a.t, let yt = y.t { yt.update(from: at, count: a.count &* width) }
        return y
    }

    // y = f(a);  ẏ = f′(a) ⊙ ȧ   (one fused pass)
    func map(_ f: UnaryFunction, _ a: Slot, _ p: Double) -> Slot {
        let y = fresh(a.shape, tangent: a.t != nil)
        let read = f.derivativesRead
        if read.x { reads(a) }
        if read.y { reads(y) }
        for j in 0..<(y.t == nil ? 1 : width) {
            let fills = j == 0 && computesPrimal
            if !fills && y.t == nil { break }
            var job = MapKernel(f: f, x: a.p, dx: block(a, j), y: y.p, dy: block(y, j), n: a.count, p: p, fillsPrimal: fills)
            Kernels.parallel(a.count, &job) { raw, k, n in
                let j = raw!.assumingMemoryBound(to: MapKernel.self).pointee
                j.f.dispatch(j.stretch(k, n))
            }
        }
        return y
    }

    // r = g ⊙ f′(a);  ṙ = ġ ⊙ f′(a) + g ⊙ f″(a) ⊙ ȧ   (one fused pass)
    func derivativeProduct(_ f: UnaryFunction, _ g: Slot, _ a: Slot, _ y: Slot, _ p: Double) -> Slot {
        require(g.shape.count == a.shape.count, "derivativeProduct: shapes \(g.shape) and \(a.shape) differ")
        let r = fresh(a.shape, tangent: g.t != nil || a.t != nil)
        let read = f.derivativesRead
        reads(g)
        if read.x { reads(a) }
        if read.y { reads(y) }
        for j in 0..<(r.t == nil ? 1 : width) {
            let fills = j == 0 && computesPrimal
            if !fills && r.t == nil { break }
            var job = DerivativeProductKernel(f: f, g: g.p, dg: block(g, j), x: a.p, dx: block(a, j), y: y.p, r: r.p,
                                              dr: block(r, j), n: a.count, p: p, fillsPrimal: fills)
            Kernels.parallel(a.count, &job) { raw, k, n in
                let j = raw!.assumingMemoryBound(to: DerivativeProductKernel.self).pointee
                j.f.dispatch(j.stretch(k, n))
            }
        }
        return r
    }

    // y = op(a)·op(b);  ẏ = op(ȧ)·op(b) + op(a)·op(ḃ). Products sharing an operand run as one stacked
    // product ([y; ẏ] = [op(a); op(ȧ)]·op(b), or [y | ẏ] = op(a)·[op(b) | op(ḃ)]): the shared operand is
    // packed once and the threads balance over twice the work. Each block gets the bits it would alone,
    // so the tangent alone (`primal` false, or a replay) has the same bits as the tangent of the pair, and
    // k tangents stacked ([ẏ₁; …; ẏₖ] = [op(ȧ₁); …]·op(b)) the bits of k single products.
    func matmul(_ a: Slot, _ b: Slot, _ ta: Bool, _ tb: Bool) -> Slot {
        let s = Shape.matmulResult(a.shape, b.shape, ta, tb, op: "matmul")
        let y = fresh(s, tangent: a.t != nil || b.t != nil)
        reads(a); reads(b)
        let wantsPrimal = computesPrimal && (primal || y.t == nil)
        if wantsPrimal && width == 1, let yt = y.t {   // y and ẏ
            if let at = a.t {
                gemm.runStackedRows(a.p, at, a.shape, ta, b.p, b.shape, tb, into: y.p, yt)
                if let bt = b.t { gemm.run(a.p, a.shape, ta, bt, b.shape, tb, into: yt, accumulate: true) }
            } else {
                gemm.runStackedColumns(a.p, a.shape, ta, b.p, b.t!, b.shape, tb, into: y.p, yt)
            }
            return y
        }
        if wantsPrimal { gemm.run(a.p, a.shape, ta, b.p, b.shape, tb, into: y.p, accumulate: false) }
        guard let yt = y.t else { return y }
        // ẏ alone (its primal recorded, or not wanted), for each of the `width` tangents.
        if let at = a.t {
            gemm.runTangents(width, at, a.shape, ta, b.p, b.shape, tb, tangentOfA: true, into: yt, accumulate: false)
        }
        if let bt = b.t {
            gemm.runTangents(width, a.p, a.shape, ta, bt, b.shape, tb, tangentOfA: false, into: yt, accumulate: a.t != nil)
        }
        return y
    }

    // y = aᵀ;  ẏ = ȧᵀ
    func transpose(_ a: Slot) -> Slot {
        guard a.shape.rank == 2 else { return reshape(a, a.shape) }
        let y = fresh(Shape(rows: a.shape.cols, cols: a.shape.rows), tangent: a.t != nil)
        if computesPrimal { Kernels.transpose(a.p, rows: a.shape.rows, cols: a.shape.cols, into: y.p) }
        guard y.t != nil else { return y }
        for j in 0..<width { Kernels.transpose(block(a, j)!, rows: a.shape.rows, cols: a.shape.cols, into: block(y, j)!) }
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
        if computesPrimal { Kernels.sum(a.p, rows: s.rows, cols: s.cols, axis: kernelAxis, into: y.p, accumulate: false) }
        guard y.t != nil else { return y }
        for j in 0..<width {
            Kernels.sum(block(a, j)!, rows: s.rows, cols: s.cols, axis: kernelAxis, into: block(y, j)!, accumulate: false)
        }
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
        if computesPrimal {
            Kernels.copyBlock(axis: ax, start: start, count: count, rows: rows, cols: cols, full: a.p, block: y.p, toBlock: true)
        }
        guard y.t != nil else { return y }
        for j in 0..<width {
            Kernels.copyBlock(axis: ax, start: start, count: count, rows: rows, cols: cols, full: block(a, j)!, block: block(y, j)!,
                              toBlock: true)
        }
        return y
    }

    func pad(_ a: Slot, axis: Int, start: Int, total: Int) -> Slot {
        let s = a.shape
        let outShape = s.replacing(axis: axis, with: total)
        let (ax, rows, cols) = s.rank == 1 ? (1, 1, total) : (axis, outShape.rows, outShape.cols)
        let y = fresh(outShape, tangent: a.t != nil)
        if computesPrimal {
            y.p.initialize(repeating: 0, count: outShape.count)
            Kernels.copyBlock(axis: ax, start: start, count: s.dimension(axis), rows: rows, cols: cols, full: y.p, block: a.p, toBlock: false)
        }
        guard let yt = y.t else { return y }
        yt.initialize(repeating: 0, count: outShape.count &* width)
        for j in 0..<width {
            Kernels.copyBlock(axis: ax, start: start, count: s.dimension(axis), rows: rows, cols: cols, full: block(y, j)!,
                              block: block(a, j)!, toBlock: false)
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
            if computesPrimal {
                Kernels.copyBlock(axis: ax, start: start, count: n, rows: rows, cols: cols, full: y.p, block: part.p, toBlock: false)
            }
            if y.t != nil {
                let zeros = part.t == nil ? arena.allocateZeroed(part.count) : nil
                for j in 0..<width {
                    Kernels.copyBlock(axis: ax, start: start, count: n, rows: rows, cols: cols, full: block(y, j)!,
                                      block: block(part, j) ?? zeros!, toBlock: false)
                }
            }
            start += n
        }
        return y
    }

    // s = softmax(a);  ṡ = s ⊙ (ȧ − Σ s ⊙ ȧ)
    func softmax(_ a: Slot, axis: Int) -> Slot {
        let y = fresh(a.shape, tangent: a.t != nil)
        let (rows, cols, ax) = softmaxLayout(a.shape, axis)
        if computesPrimal { Kernels.softmax(a.p, rows: rows, cols: cols, axis: ax, softmax: y.p, logSumExp: nil) }
        reads(y)
        guard y.t != nil else { return y }
        let n = a.count
        let m = arena.allocate(ax == 1 ? rows : cols)
        for j in 0..<width {
            let at = block(a, j)!, yt = block(y, j)!
            for k in 0..<n { yt[k] = y.p[k] * at[k] }                     // s ⊙ ȧ
            Kernels.sum(yt, rows: rows, cols: cols, axis: ax, into: m, accumulate: false)
            for i in 0..<rows { for c in 0..<cols {
                let k = i * cols + c
                yt[k] -= y.p[k] * m[ax == 1 ? i : c]                       // − s ⊙ Σ s ⊙ ȧ
            } }
        }
        return y
    }

    // y = log Σ exp a;  ẏ = Σ softmax(a) ⊙ ȧ
    func logSumExp(_ a: Slot, axis: Int, keep: Bool) -> Slot {
        let (rows, cols, ax) = softmaxLayout(a.shape, axis)
        let outShape = a.shape.rank == 1 ? (keep ? Shape(rank: 1, 1, 1) : .scalar) : a.shape.reduced(alongAxis: axis, keepingDimension: keep)
        let y = fresh(outShape, tangent: a.t != nil)
        reads(a)
        guard y.t != nil else {
            if computesPrimal { Kernels.softmax(a.p, rows: rows, cols: cols, axis: ax, softmax: nil, logSumExp: y.p) }
            return y
        }
        let s = arena.allocate(a.count), st = arena.allocate(a.count)
        Kernels.softmax(a.p, rows: rows, cols: cols, axis: ax, softmax: s, logSumExp: computesPrimal ? y.p : nil)
        for j in 0..<width {
            let at = block(a, j)!
            for k in 0..<a.count { st[k] = s[k] * at[k] }
            Kernels.sum(st, rows: rows, cols: cols, axis: ax, into: block(y, j)!, accumulate: false)
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
        if computesPrimal { y.p[0] = Kernels.dot(a.p, b.p, count: a.count) }
        reads(a); reads(b)
        guard y.t != nil else { return y }
        for j in 0..<width {
            var s = 0.0
            if let at = block(a, j) { s += Kernels.dot(at, b.p, count: a.count) }
            if let bt = block(b, j) { s += Kernels.dot(a.p, bt, count: a.count) }
            block(y, j)![0] = s
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

/// y = f(x) (unless `fillsPrimal` is false: y is given) and, with a tangent, ẏ = f′(x, y)·ẋ, in one loop.
private struct MapKernel: UnaryKernel {
    let f: UnaryFunction
    let x: UnsafeMutablePointer<Double>, dx: UnsafeMutablePointer<Double>?
    let y: UnsafeMutablePointer<Double>, dy: UnsafeMutablePointer<Double>?
    let n: Int, p: Double
    let fillsPrimal: Bool

    /// The same work on values k ..< k + count.
    func stretch(_ k: Int, _ count: Int) -> MapKernel {
        MapKernel(f: f, x: x + k, dx: dx.map { $0 + k }, y: y + k, dy: dy.map { $0 + k }, n: count, p: p, fillsPrimal: fillsPrimal)
    }
    @inline(__always) func run<F: ScalarFunction>(_: F.Type) {
        if fillsPrimal { F.fill(x, y, n, p) }
        if let dx, let dy { for k in 0..<n { dy[k] = F.d1(x[k], y[k], p) * dx[k] } }
    }
}

/// r = g·f′(x, y) (unless `fillsPrimal` is false: r is given) and, with tangents, ṙ = ġ·f′ + g·f″·ẋ, in one
/// loop. The tangent alone is the same expression, so it has the same bits.
private struct DerivativeProductKernel: UnaryKernel {
    let f: UnaryFunction
    let g: UnsafeMutablePointer<Double>, dg: UnsafeMutablePointer<Double>?
    let x: UnsafeMutablePointer<Double>, dx: UnsafeMutablePointer<Double>?
    let y: UnsafeMutablePointer<Double>
    let r: UnsafeMutablePointer<Double>, dr: UnsafeMutablePointer<Double>?
    let n: Int, p: Double
    let fillsPrimal: Bool

    /// The same work on values k ..< k + count.
    func stretch(_ k: Int, _ count: Int) -> DerivativeProductKernel {
        DerivativeProductKernel(f: f, g: g + k, dg: dg.map { $0 + k }, x: x + k, dx: dx.map { $0 + k }, y: y + k,
                                r: r + k, dr: dr.map { $0 + k }, n: count, p: p, fillsPrimal: fillsPrimal)
    }
    @inline(__always) func run<F: ScalarFunction>(_: F.Type) {
        if !fillsPrimal {
            switch (dg, dx, dr) {
            case let (dg?, dx?, dr?):
                for k in 0..<n { dr[k] = dg[k] * F.d1(x[k], y[k], p) + g[k] * F.d2(x[k], y[k], p) * dx[k] }
            case let (nil, dx?, dr?):
                for k in 0..<n { dr[k] = g[k] * F.d2(x[k], y[k], p) * dx[k] }
            case let (dg?, nil, dr?):
                for k in 0..<n { dr[k] = dg[k] * F.d1(x[k], y[k], p) }
            default: break
            }
            return
        }
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
