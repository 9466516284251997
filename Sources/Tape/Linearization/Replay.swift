/// A linearization's product: the recorded forward pass and reverse sweep replayed on tangents alone.
///
/// Forward, every node whose operands carry tangents gets ẏ from the same primitive as in a fresh HVP, its
/// primal being the recorded value (`PrimalLog.given`). The sweep visits the nodes the recorded sweep
/// visited; each rule runs on ȳ = (recorded cotangent, its tangent) and its primitives hand back the
/// recorded primals (`PrimalLog.cursor` set to the rule's first entry), so only the cotangents' tangents
/// are formed and summed. A rule whose cotangent and values all lack tangents is skipped: everything it
/// would add is a symbolic zero. Tangent buffers go back after their last reader (planned once, when
/// linearizing), and whatever a product allocated goes back when it returns (`Arena.rewind`).
extension Tape {
    /// Plans, once per linearization, when each value's tangent goes back during a product: after the
    /// sweep's last reader (`Rules.reads`, as for a fresh sweep) or, when the sweep reads none, after its
    /// last consumer in the forward pass.
    func planTangentReleases(_ r: LinearizationRecord) {
        let n = values.count, log = r.log
        func none(_ chain: inout [Int32]) {
            chain.removeAll(keepingCapacity: true)
            chain.append(contentsOf: repeatElement(-1, count: n))
        }
        none(&r.forwardRelease)
        none(&r.sweepRelease)
        none(&r.releaseNext)
        r.lastForward.removeAll(keepingCapacity: true)
        r.lastForward.append(contentsOf: 0..<n)
        r.lastSweep.removeAll(keepingCapacity: true)
        r.lastSweep.append(contentsOf: repeatElement(Int.max, count: n))
        @inline(__always) func consumed(_ v: Int, by i: Int) {
            let root = Int(viewRoot[v])
            r.lastForward[root] = max(r.lastForward[root], i)
        }
        @inline(__always) func read(_ v: Int, by i: Int) {
            let root = Int(viewRoot[v])
            r.lastSweep[root] = min(r.lastSweep[root], i)
        }
        for i in 0..<n {
            switch ops[i] {
            case .input, .constant: continue
            case .concat(_, let first, let count):
                for k in first..<(first + count) { consumed(Int(extraOperands[k]), by: i) }
            case let op:
                let a = Int(operand0[i]), b = Int(operand1[i])
                consumed(a, by: i)
                if b >= 0 { consumed(b, by: i) }
                guard log.sweepStart[i] >= 0 else { continue }
                let reads = Rules.reads(op, needsGradient[a], b >= 0 && needsGradient[b])
                if reads.x0 { read(a, by: i) }
                if reads.x1 && b >= 0 { read(b, by: i) }
                if reads.y { read(i, by: i) }
            }
        }
        var perDirection = 0
        for v in 0..<n where viewRoot[v] == Int32(v) {
            switch ops[v] { case .input, .constant: continue; default: break }
            perDirection += values[v].count
            let sweep = r.lastSweep[v] != Int.max
            let at = sweep ? r.lastSweep[v] : r.lastForward[v]
            r.releaseNext[v] = sweep ? r.sweepRelease[at] : r.forwardRelease[at]
            if sweep { r.sweepRelease[at] = Int32(v) } else { r.forwardRelease[at] = Int32(v) }
        }
        r.tangentDoublesPerDirection = perDirection
    }

    /// One product along `vs` (one direction per input, nil: zero); writes the products for `wrt` into `out`,
    /// reusing its tensors when their shapes match.
    func replay(_ r: LinearizationRecord, along vs: [Tensor?], into out: inout [Tensor]) {
        let mark = arena.mark()
        defer { endProduct(mark) }
        // The inputs' tangents: the directions' own storage, pinned while the product runs.
        pinDirections(r, vs, from: 0) { sweepTangents(r, width: 1, into: &out) }
    }

    /// One sweep of k = `directions.count` products; writes the k · |wrt| products into `out` in the order
    /// (direction, input), reusing its tensors when their shapes match.
    func replay(_ r: LinearizationRecord, block directions: [[Tensor?]], into out: inout [Tensor]) {
        let k = directions.count
        let mark = arena.mark()
        defer { endProduct(mark) }
        // The inputs' tangents: k blocks side by side.
        for (m, node) in r.inputNodes.enumerated() {
            guard directions.contains(where: { $0[m] != nil }) else { continue }
            let count = values[node].count
            let t = arena.allocate(count * k)
            for (j, vs) in directions.enumerated() {
                if let v = vs[m] {
                    v.scalars.withUnsafeBufferPointer { t.advanced(by: j * count).update(from: $0.baseAddress!, count: count) }
                } else {
                    t.advanced(by: j * count).initialize(repeating: 0, count: count)
                }
            }
            values[node].t = t
        }
        sweepTangents(r, width: k, into: &out)
    }

    /// Clears the tangents and gives back everything the product allocated.
    private func endProduct(_ mark: Arena.Mark) {
        for i in values.indices { values[i].t = nil }
        arena.rewind(to: mark)
    }

    /// Sets input m's tangent to the storage of its direction, pinned while the rest runs.
    private func pinDirections(_ r: LinearizationRecord, _ vs: [Tensor?], from m: Int, _ body: () -> Void) {
        guard m < vs.count else { return body() }
        guard let v = vs[m], v.count > 0 else { return pinDirections(r, vs, from: m + 1, body) }
        v.scalars.withUnsafeBufferPointer { p in
            values[r.inputNodes[m]].t = UnsafeMutablePointer(mutating: p.baseAddress!)
            pinDirections(r, vs, from: m + 1, body)
        }
    }

    /// The forward tangents, then the sweep's, with the inputs' tangents set; copies the products out.
    private func sweepTangents(_ r: LinearizationRecord, width k: Int, into out: inout [Tensor]) {
        let log = r.log
        log.replaying = true
        defer { log.replaying = false; log.given = nil }
        var alg = algebra
        alg.log = log
        alg.width = k
        @inline(__always) func releaseChain(_ head: Int32) {
            var v = head
            while v >= 0 {
                if let t = values[Int(v)].t { arena.release(t, count: values[Int(v)].count * k) }
                v = r.releaseNext[Int(v)]
            }
        }
        // Forward: ẏ for every node with a tangent among its operands.
        for i in 0..<(r.output + 1) {
            defer { releaseChain(r.forwardRelease[i]) }
            switch ops[i] {
            case .input, .constant:
                continue
            case .concat(let axis, let first, let count):
                let parts = (first..<(first + count)).map { values[Int(extraOperands[$0])] }
                guard parts.contains(where: { $0.t != nil }) else { continue }
                log.given = values[i].p
                values[i].t = parts.withUnsafeBufferPointer { alg.concat($0, axis: axis) }.t
            case let op:
                let a = Int(operand0[i]), b = Int(operand1[i])
                guard values[a].t != nil || (b >= 0 && values[b].t != nil) else { continue }
                log.given = values[i].p
                let y = Rules.forward(op, values[a], b >= 0 ? values[b] : nil, alg)
                values[i].t = y.t
            }
            log.given = nil
        }
        // Sweep: the cotangents' tangents, from the output's (zero: its cotangent is the constant 1).
        let n = values.count
        r.adjointTangent.removeAll(keepingCapacity: true)
        r.adjointTangent.append(contentsOf: repeatElement(nil, count: n))
        r.adjointTangentOwned.removeAll(keepingCapacity: true)
        r.adjointTangentOwned.append(contentsOf: repeatElement(false, count: n))
        for i in stride(from: r.output, through: 0, by: -1) {
            defer { releaseChain(r.sweepRelease[i]) }
            guard log.sweepStart[i] >= 0, let gp = log.cotangent[i] else { continue }
            let g = Slot(p: gp, t: r.adjointTangent[i], shape: values[i].shape)
            switch ops[i] {
            case .input, .constant:
                continue
            case .concat(let axis, let first, let count):
                guard g.t != nil else { continue }
                log.cursor = log.sweepStart[i]
                var start = 0
                for e in first..<(first + count) {
                    let j = Int(extraOperands[e])
                    let width = values[j].shape.dimensions[axis]
                    if needsGradient[j] {
                        addTangent(Rules.concatVJP(g, axis: axis, start: start, count: width, alg), into: j, cotangent: g, r, k)
                    }
                    start += width
                }
            case .slice(let axis, let start, _):   // as the sweep: added into the block, no zero padding
                let a = Int(operand0[i])
                if needsGradient[a], let gt = g.t {
                    addTangentBlock(gt, count: g.shape.dimension(axis), blockCount: g.count, into: a, axis: axis, start: start, r, k)
                }
            case let op:
                let a = Int(operand0[i]), b = Int(operand1[i])
                let x0 = values[a], x1 = b >= 0 ? values[b] : nil, y = values[i]
                guard g.t != nil || x0.t != nil || x1?.t != nil || y.t != nil else { continue }
                let need0 = needsGradient[a], need1 = b >= 0 && needsGradient[b]
                log.cursor = log.sweepStart[i]
                let (c0, c1) = Rules.vjp(op, x0, x1, y, g, need0, need1, alg)
                if need0, let c0 { addTangent(c0, into: a, cotangent: g, r, k) }
                if need1, var c1 {
                    // One fresh tangent handed to both operands: the second hand-over needs its own reference.
                    if need0, let t0 = c0?.t, let t1 = c1.t, t0 == t1, t1 != g.t { c1.t = copy(t1, c1.count * k) }
                    addTangent(c1, into: b, cotangent: g, r, k)
                }
            }
            // This node's cotangent tangent is spent (an operand that adopted it holds its own reference).
            if let t = g.t { arena.release(t, count: g.count * k) }
            r.adjointTangent[i] = nil
        }
        // The products, direction by direction.
        let per = r.resultNodes.count
        if out.count > k * per { out.removeLast(out.count - k * per) }
        for j in 0..<k {
            for (m, node) in r.resultNodes.enumerated() {
                let shape = values[node].shape, index = j * per + m
                let p = r.adjointTangent[node].map { UnsafeMutablePointer($0 + j * shape.count) }
                if index < out.count, out[index].shape == shape {
                    out[index].overwrite(from: p)
                } else {
                    let t = p.map { Tensor(shape: shape, scalars: Array(UnsafeBufferPointer(start: $0, count: shape.count))) } ?? .zeros(shape)
                    if index < out.count { out[index] = t } else { out.append(t) }
                }
            }
        }
    }

    /// A fresh copy of `count` doubles.
    private func copy(_ t: UnsafeMutablePointer<Double>, _ count: Int) -> UnsafeMutablePointer<Double> {
        let c = arena.allocate(count)
        c.update(from: t, count: count)
        return c
    }

    /// Adds a slice's cotangent tangent `gt` (k directions) into the block of node j's cotangent tangent it
    /// was sliced from: the sweep's `accumulateBlock` for tangents alone.
    private func addTangentBlock(_ gt: UnsafeMutablePointer<Double>, count: Int, blockCount: Int, into j: Int, axis: Int,
                                 start: Int, _ r: LinearizationRecord, _ k: Int) {
        let target = values[j].shape, n = target.count
        let (ax, rows, cols) = target.rank == 1 ? (1, 1, n) : (axis, target.rows, target.cols)
        guard var adj = r.adjointTangent[j] else {
            let fresh = arena.allocateZeroed(n * k)
            for b in 0..<k {
                Kernels.copyBlock(axis: ax, start: start, count: count, rows: rows, cols: cols, full: fresh + b * n,
                                  block: gt + b * blockCount, toBlock: false)
            }
            r.adjointTangent[j] = fresh
            r.adjointTangentOwned[j] = true
            return
        }
        if !r.adjointTangentOwned[j] { adj = ownedTangent(adj, of: j, n * k, r) }
        for b in 0..<k {
            Kernels.addBlock(axis: ax, start: start, count: count, rows: rows, cols: cols, full: adj + b * n, block: gt + b * blockCount)
        }
    }

    /// Node j's borrowed cotangent tangent `adj` (`count` doubles: k directions), made its own before something is
    /// added into it: kept when the lender is done with it, else copied.
    private func ownedTangent(_ adj: UnsafeMutablePointer<Double>, of j: Int, _ count: Int,
                              _ r: LinearizationRecord) -> UnsafeMutablePointer<Double> {
        var owned = adj
        if !arena.isUnique(adj, count: count) {   // copy a borrowed buffer before adding into it
            owned = copy(adj, count)
            arena.release(adj, count: count)
        }
        r.adjointTangentOwned[j] = true
        r.adjointTangent[j] = owned
        return owned
    }

    /// Adds the tangents of a rule's contribution `c` (k blocks) into node j's cotangent tangent: the sweep's
    /// `accumulate` for tangents alone. The contribution is fresh (its reference passes on, or goes once added)
    /// or the cotangent's own tangent passed through (adopting it takes a new reference).
    private func addTangent(_ c: Slot, into j: Int, cotangent g: Slot, _ r: LinearizationRecord, _ k: Int) {
        guard let ct = c.t else { return }
        let target = values[j].shape, n = target.count
        let borrowed = ct == g.t
        guard var adj = r.adjointTangent[j] else {
            if c.shape.isSqueezeEquivalent(to: target) {   // adopt: no copy in the common single-consumer case
                r.adjointTangent[j] = ct
                r.adjointTangentOwned[j] = !borrowed
                if borrowed { arena.retain(ct, count: n * k) }
            } else {
                let fresh = arena.allocateZeroed(n * k)
                for b in 0..<k { Kernels.accumulate(ct + b * c.count, shape: c.shape, into: fresh + b * n, shape: target) }
                r.adjointTangent[j] = fresh
                r.adjointTangentOwned[j] = true
                if !borrowed { arena.release(ct, count: c.count * k) }
            }
            return
        }
        if !r.adjointTangentOwned[j] { adj = ownedTangent(adj, of: j, n * k, r) }
        for b in 0..<k { Kernels.accumulate(ct + b * c.count, shape: c.shape, into: adj + b * n, shape: target) }
        if !borrowed { arena.release(ct, count: c.count * k) }
    }
}
