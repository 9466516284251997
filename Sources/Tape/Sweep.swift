/// The reverse sweep: cotangents flow from the seeds back to the inputs through `Rules.vjp`.
///
/// Memory: large buffers are reference counted by the arena and returned as soon as nothing needs
/// them, so the sweep's peak stays near the forward pass's own memory. Before the sweep, each
/// value's last reader is found (`Rules.reads`, the lowest-index node whose VJP reads it); values no
/// VJP reads are returned at once (a matrix product's output feeding a bias add, say), the others
/// when the sweep passes their last reader. A node's adjoint is returned after its VJP, unless an
/// operand adopted it (the rule passed it through, as `add` does): the adoption holds a reference.
///
/// Recording a linearization (`primalLog` set), every primal some tangent formula reads (`PrimalLog.reads`)
/// must still hold, when the recording ends, what it held when it was read: such a buffer is never returned
/// and never added into in place. Buffers no tangent formula has read go back as in any sweep (none can
/// read them later: the release plan says nothing does).
extension Tape {
    /// Runs the reverse sweep from node `output` with cotangent `seed`, leaving the cotangent
    /// of every node that needs one in `adjoints` (with tangents when values carry them).
    /// `inputPrimals` false: the inputs' adjoints get their tangents only (their primal buffers are
    /// left unspecified), which spares the gradient's own products, ∂f/∂W = Hᵀ·δ for a layer's W,
    /// when only H·v is wanted. Nothing else reads an input's adjoint, so every tangent is unchanged.
    func backward(from output: Int, seed: Slot, inputPrimals: Bool = true) {
        backward(seeds: CollectionOfOne((output, seed)), inputPrimals: inputPrimals)
    }

    /// The reverse sweep seeded at several outputs (a node seeded twice gets the sum). Outputs'
    /// values and inputs' adjoints survive it; other large buffers may be returned during it.
    func backward<S: Sequence>(seeds: S, inputPrimals: Bool = true) where S.Element == (Int, Slot) {
        adjoints.removeAll(keepingCapacity: true)
        adjoints.append(contentsOf: repeatElement(nil, count: values.count))
        adjointOwned.removeAll(keepingCapacity: true)
        adjointOwned.append(contentsOf: repeatElement(false, count: values.count))
        lastRead.removeAll(keepingCapacity: true)
        lastRead.append(contentsOf: repeatElement(Int32.max, count: values.count))
        var output = -1
        for (node, seed) in seeds {
            if adjoints[node] == nil {
                adjoints[node] = Slot(p: seed.p, t: seed.t, shape: values[node].shape)   // a fresh buffer of its own
                adjointOwned[node] = true
            } else {
                accumulate(seed, into: node, cotangent: seed)
            }
            lastRead[Int(viewRoot[node])] = -1   // outputs' values are read after the sweep
            output = max(output, node)
        }
        guard output >= 0 else { return }
        let log = primalLog
        let releasing = releasesDeadBuffers && hasLargeValues
        if releasing { planReleases(through: output) }
        let alg = algebra
        var tangentAlg = alg
        tangentAlg.primal = false
        /// Whether node j is an input whose primal adjoint is not wanted.
        @inline(__always) func tangentOnly(_ j: Int) -> Bool {
            if inputPrimals { return false }
            if case .input = ops[j] { return true }
            return false
        }
        for i in stride(from: output, through: 0, by: -1) {
            defer { if releasing { releaseValues(at: i) } }
            guard needsGradient[i], let g = adjoints[i] else { continue }
            if let log { log.sweepStart[i] = log.entries.count; log.cotangent[i] = g.p }
            switch ops[i] {
            case .input, .constant:
                continue
            case .concat(let axis, let first, let count):
                var start = 0
                for k in first..<(first + count) {
                    let j = Int(extraOperands[k])
                    let n = values[j].shape.dimensions[axis]
                    if needsGradient[j] {
                        accumulate(Rules.concatVJP(g, axis: axis, start: start, count: n, alg), into: j, cotangent: g,
                                   primal: !tangentOnly(j))
                    }
                    start += n
                }
            case .slice(let axis, let start, _):
                // ā += ȳ into the block, not ȳ padded with zeros and added whole: a network's flat weight vector
                // is sliced into every layer's parameters, and padding would cost a pass over all of them per slice.
                let a = Int(operand0[i])
                if needsGradient[a] { accumulateBlock(g, into: a, axis: axis, start: start, primal: !tangentOnly(a)) }
            case let op:
                let a = Int(operand0[i]), b = Int(operand1[i])
                let need0 = needsGradient[a], need1 = b >= 0 && needsGradient[b]
                let x0 = values[a], x1 = b >= 0 ? values[b] : nil
                let only0 = need0 && tangentOnly(a), only1 = need1 && tangentOnly(b)
                let c0: Slot?, c1: Slot?
                if !need0 || !need1 || only0 == only1 {
                    (c0, c1) = Rules.vjp(op, x0, x1, values[i], g, need0, need1, only0 || only1 ? tangentAlg : alg)
                } else {   // one operand's cotangent in full, the other's tangent only: one call each
                    let r0 = Rules.vjp(op, x0, x1, values[i], g, true, false, only0 ? tangentAlg : alg)
                    let r1 = Rules.vjp(op, x0, x1, values[i], g, false, true, only1 ? tangentAlg : alg)
                    (c0, c1) = (r0.0, r1.1)
                    // A rule may return a cotangent it was not asked for (`div`'s ȳ ⊘ b, which its other
                    // half reuses, or ȳ passed through): drop the fresh ones.
                    if let extra = r0.1, extra.p != g.p { release(extra) }
                    if let extra = r1.0, extra.p != g.p { release(extra) }
                }
                if need0, let c0 { accumulate(c0, into: a, cotangent: g, primal: !only0) }
                if need1, var c1 {
                    // One fresh buffer handed to both operands: the second hand-over needs its own reference.
                    if need0, let c0, c0.p == c1.p, c1.p != g.p { c1 = copyOf(c1) }
                    accumulate(c1, into: b, cotangent: g, primal: !only1)
                }
            }
            // This node's cotangent is spent (an operand that adopted it holds its own reference).
            release(g)
            adjoints[i] = nil
        }
    }

    /// A fresh copy of a slot's buffers.
    private func copyOf(_ c: Slot) -> Slot {
        let p = arena.allocate(c.count)
        p.update(from: c.p, count: c.count)
        var copy = Slot(p: p, t: nil, shape: c.shape)
        if let t = c.t { copy.t = arena.allocate(c.count); copy.t!.update(from: t, count: c.count) }
        return copy
    }

    /// Finds each large value's last reader in the sweep through `output`, returns the values nobody
    /// reads, and chains the others to their last reader (`releaseHead`, `releaseNext`).
    private func planReleases(through output: Int) {
        let n = values.count
        releaseHead.removeAll(keepingCapacity: true)
        releaseHead.append(contentsOf: repeatElement(-1, count: n))
        releaseNext.removeAll(keepingCapacity: true)
        releaseNext.append(contentsOf: repeatElement(-1, count: n))
        @inline(__always) func read(_ v: Int, by i: Int) {
            let r = Int(viewRoot[v])
            if lastRead[r] >= 0 && Int32(i) < lastRead[r] { lastRead[r] = Int32(i) }
        }
        for i in 0...output where needsGradient[i] {
            switch ops[i] {
            case .input, .constant, .concat: continue
            case let op:
                let a = Int(operand0[i]), b = Int(operand1[i])
                let need0 = needsGradient[a], need1 = b >= 0 && needsGradient[b]
                let r = Rules.reads(op, need0, need1)
                if r.x0 { read(a, by: i) }
                if r.x1, b >= 0 { read(b, by: i) }
                if r.y { read(i, by: i) }
            }
        }
        for v in 0...output where viewRoot[v] == Int32(v) && values[v].count >= Arena.largeMinimum && lastRead[v] >= 0 {
            switch ops[v] { case .input, .constant: continue; default: break }
            if lastRead[v] == Int32.max {
                releaseValue(v)
            } else {
                let i = Int(lastRead[v])
                releaseNext[v] = releaseHead[i]
                releaseHead[i] = Int32(v)
            }
        }
    }

    /// Returns the values whose last reader is node i.
    @inline(__always)
    private func releaseValues(at i: Int) {
        var v = releaseHead[i]
        while v >= 0 { releaseValue(Int(v)); v = releaseNext[Int(v)] }
    }

    @inline(__always)
    private func releaseValue(_ v: Int) { release(values[v]) }

    /// Drops a reference to a slot's buffers (and its tangent's); recording a linearization, keeps them.
    @inline(__always)
    private func release(_ s: Slot) {
        drop(s.p, s.count)
        if let t = s.t { drop(t, s.count) }
    }

    /// Drops a reference to a buffer, unless a linearization being recorded keeps it (a tangent formula read it).
    @inline(__always)
    private func drop(_ p: UnsafeMutablePointer<Double>, _ count: Int) {
        if let log = primalLog, log.reads.contains(p) { return }
        arena.release(p, count: count)
    }

    /// Adds a rule's contribution `c` to the adjoint of node `j`. The one place where
    /// broadcasting is undone: `Kernels.accumulate` sums (or broadcasts) `c` to `j`'s shape.
    /// `c` is either a fresh buffer (its reference passes to the adjoint or is dropped once added) or
    /// the cotangent `g` itself, passed through (adopting it takes a new reference).
    /// `primal` false: only the tangent is summed (`c.p` may be unwritten; the adjoint's primal is then
    /// unspecified).
    @inline(__always)
    func accumulate(_ c: Slot, into j: Int, cotangent g: Slot, primal: Bool = true) {
        let target = values[j].shape
        let n = target.count
        let borrowsP = c.p == g.p, borrowsT = c.t != nil && c.t == g.t
        guard var adj = adjoints[j] else {
            if c.shape.isSqueezeEquivalent(to: target) {
                // Adopt the contribution's buffers: no copy in the common single-consumer case.
                adjoints[j] = Slot(p: c.p, t: c.t, shape: target)
                adjointOwned[j] = !borrowsP && primalLog == nil   // recording: added into only if nobody read it
                if borrowsP { arena.retain(c.p, count: n) }
                if borrowsT { arena.retain(c.t!, count: n) }
            } else {
                var fresh = Slot(p: primal ? arena.allocateZeroed(n) : arena.allocate(n), t: nil, shape: target)
                if primal { Kernels.accumulate(c.p, shape: c.shape, into: fresh.p, shape: target) }
                if let ct = c.t {
                    fresh.t = arena.allocateZeroed(n)
                    Kernels.accumulate(ct, shape: c.shape, into: fresh.t!, shape: target)
                }
                adjoints[j] = fresh
                adjointOwned[j] = true
                consume(c, borrowsP, borrowsT)
            }
            return
        }
        if !adjointOwned[j] { adj = owned(adj, of: j) }
        if primal { Kernels.accumulate(c.p, shape: c.shape, into: adj.p, shape: target) }
        if let ct = c.t {
            if adj.t == nil { adj.t = arena.allocateZeroed(n) }
            Kernels.accumulate(ct, shape: c.shape, into: adj.t!, shape: target)
        }
        adjoints[j] = adj
        consume(c, borrowsP, borrowsT)
    }

    /// Node j's borrowed adjoint `adj`, made its own before something is added into it: kept when the lender
    /// is done with it (and no tangent formula of a linearization being recorded read it), else copied.
    private func owned(_ adj: Slot, of j: Int) -> Slot {
        adjointOwned[j] = true
        let n = adj.count
        if arena.isUnique(adj.p, count: n) && (adj.t == nil || arena.isUnique(adj.t!, count: n))
            && !(primalLog?.reads.contains(adj.p) ?? false) {
            return adj   // the lender is done with it: add in place
        }
        let copy = copyOf(adj)   // copy a borrowed buffer before adding into it
        release(adj)
        return copy
    }

    /// Adds cotangent `g` of a slice into the block it was sliced from of node j's adjoint (`Rules.vjp`'s
    /// ȳ padded with zeros, added the same way: the same sums in the same order, without the zeros).
    private func accumulateBlock(_ g: Slot, into j: Int, axis: Int, start: Int, primal: Bool) {
        let target = values[j].shape, n = target.count
        let (ax, rows, cols) = target.rank == 1 ? (1, 1, n) : (axis, target.rows, target.cols)
        let count = g.shape.dimension(axis)
        guard var adj = adjoints[j] else {
            var fresh = Slot(p: primal ? arena.allocateZeroed(n) : arena.allocate(n), t: nil, shape: target)
            if primal { Kernels.copyBlock(axis: ax, start: start, count: count, rows: rows, cols: cols, full: fresh.p, block: g.p, toBlock: false) }
            if let gt = g.t {
                fresh.t = arena.allocateZeroed(n)
                Kernels.copyBlock(axis: ax, start: start, count: count, rows: rows, cols: cols, full: fresh.t!, block: gt, toBlock: false)
            }
            adjoints[j] = fresh
            adjointOwned[j] = true
            return
        }
        if !adjointOwned[j] { adj = owned(adj, of: j) }
        if primal { Kernels.addBlock(axis: ax, start: start, count: count, rows: rows, cols: cols, full: adj.p, block: g.p) }
        if let gt = g.t {
            if adj.t == nil { adj.t = arena.allocateZeroed(n) }
            Kernels.addBlock(axis: ax, start: start, count: count, rows: rows, cols: cols, full: adj.t!, block: gt)
        }
        adjoints[j] = adj
    }

    /// Drops a contribution once added: its own buffers go back, a borrowed cotangent is not ours.
    @inline(__always)
    private func consume(_ c: Slot, _ borrowsP: Bool, _ borrowsT: Bool) {
        if !borrowsP { drop(c.p, c.count) }
        if let t = c.t, !borrowsT { drop(t, c.count) }
    }
}
