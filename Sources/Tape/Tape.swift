/// A recording of tensor operations, for reverse-mode, forward-mode and forward-over-reverse
/// differentiation.
///
/// A differentiated function receives `Variable`s; each operation on them is computed at once
/// and recorded as one node (one per tensor operation, never one per scalar) in flat arrays:
/// op code with its attributes, operand indices, and the buffers of the value. The reverse sweep
/// walks the nodes backwards applying `Rules.vjp`. When inputs carry tangents, every value and
/// every adjoint carries one too, and the same sweep yields H·v.
///
/// A tape is reused across calls: `reset` keeps all buffers and array capacity, so a loop of
/// thousands of gradient or HVP calls on same-shaped problems allocates nothing after the first.
/// A tape is not thread-safe; use one per thread.
public final class Tape {
    let arena = Arena()
    // The nodes, as parallel flat arrays indexed by node id. Exclusivity is checked statically
    // only: these arrays are touched on every operation, and a tape is single-threaded by contract.
    @exclusivity(unchecked) var ops: [Op] = []
    @exclusivity(unchecked) var operand0: [Int32] = []
    @exclusivity(unchecked) var operand1: [Int32] = []
    @exclusivity(unchecked) var values: [Slot] = []
    @exclusivity(unchecked) var needsGradient: [Bool] = []
    /// Copies of large constants, kept across calls (see `cachedConstant`), and the next one's index.
    @exclusivity(unchecked) var constantCache: [(tensor: Tensor, copy: UnsafeMutablePointer<Double>, capacity: Int)] = []
    @exclusivity(unchecked) var constantCursor = 0
    /// Operand lists of n-ary nodes (concatenation).
    @exclusivity(unchecked) var extraOperands: [Int32] = []
    // Reverse sweep state.
    @exclusivity(unchecked) var adjoints: [Slot?] = []
    /// Whether an adjoint buffer belongs to its node alone (false when it views a cotangent it
    /// was handed, which must be copied before anything is added to it).
    @exclusivity(unchecked) var adjointOwned: [Bool] = []
    /// Bumped on every reset, so a `Variable` from an earlier recording is caught if reused.
    @exclusivity(unchecked) private(set) var generation: UInt32 = 0
    @exclusivity(unchecked) var isRecording = false
    /// The input Variables handed to the function being differentiated (reused across calls).
    @exclusivity(unchecked) var inputVariables: [Variable] = []
    @exclusivity(unchecked) var inputNodes: [Int32] = []

    /// An empty tape.
    public init() {}

    /// Bytes currently held by this tape's buffers (kept between calls for reuse).
    public var reservedBytes: Int { arena.reserved * 8 + constantCache.reduce(0) { $0 + $1.capacity } * 8 }
    /// The most bytes of buffers any single call has used.
    public var peakBytes: Int { max(arena.highWater, arena.inUse) * 8 }

    /// Frees every buffer (they are otherwise kept for the next call).
    public func releaseMemory() {
        reset()
        arena.releaseMemory()
        for entry in constantCache { entry.copy.deallocate() }
        constantCache.removeAll()
    }

    deinit { for entry in constantCache { entry.copy.deallocate() } }

    var algebra: Dual { Dual(arena: arena, gemm: GemmContext(arena: arena)) }

    func reset() {
        ops.removeAll(keepingCapacity: true)
        operand0.removeAll(keepingCapacity: true)
        operand1.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        needsGradient.removeAll(keepingCapacity: true)
        extraOperands.removeAll(keepingCapacity: true)
        constantCursor = 0
        arena.reset()
        generation &+= 1
    }

    // MARK: Recording

    @inline(__always)
    private func append(_ op: Op, _ a: Int32, _ b: Int32, _ value: Slot, _ needsGrad: Bool) -> Variable {
        ops.append(op)
        operand0.append(a)
        operand1.append(b)
        values.append(value)
        needsGradient.append(needsGrad)
        return Variable(tape: self, index: Int32(values.count - 1), generation: generation)
    }

    /// Traps unless `v` was recorded on this tape in the current call.
    @inline(__always)
    func check(_ v: Variable, _ op: StaticString) {
        require(v.tape === self, "\(op): operands were recorded on different tapes")
        require(v.generation == generation,
                     "\(op): a Variable was used after the call that created it returned (Variables must not escape the differentiated function)")
    }

    /// An input leaf viewing `x` (and its tangent, nil being a zero direction): the buffers must stay
    /// valid and unchanged for the whole call (the caller pins them), and are only read.
    func leaf(_ x: UnsafeBufferPointer<Double>, _ shape: Shape, tangent: UnsafeBufferPointer<Double>?,
              requiresGradient: Bool) -> Variable {
        // An empty tensor has no base address; any valid pointer does, since nothing is read.
        let p = x.baseAddress.map { UnsafeMutablePointer(mutating: $0) } ?? arena.allocate(1)
        let t = tangent.map { $0.baseAddress.map { UnsafeMutablePointer(mutating: $0) } ?? arena.allocate(1) }
        return append(.input, -1, -1, Slot(p: p, t: t, shape: shape), requiresGradient)
    }

    /// A constant: no tangent, never differentiated. Large ones go through `constantCache`.
    func constant(_ x: Tensor) -> Variable {
        if x.count >= Tape.cachedConstantMinimum { return append(.constant, -1, -1, cachedConstant(x), false) }
        let slot = x.scalars.withUnsafeBufferPointer { algebra.constant($0, shape: x.shape) }
        return append(.constant, -1, -1, slot, false)
    }

    /// Constants of at least this many elements are cached across calls.
    static let cachedConstantMinimum = 2048

    /// The copy of a large constant, made once: the k-th large constant of a call reuses the copy of the
    /// previous call's k-th when it is the same array storage. Sound because the tape still holds that
    /// array: while it does, nobody can change the storage in place (a mutation elsewhere copies it
    /// first), so the same base address means the same values. A training batch recorded step after
    /// step is thus copied once, not every step (1.6 MB per HVP on the MNIST-sized network).
    private func cachedConstant(_ x: Tensor) -> Slot {
        let k = constantCursor
        constantCursor += 1
        let base = x.scalars.withUnsafeBufferPointer { $0.baseAddress }
        if k < constantCache.count {
            let entry = constantCache[k]
            if entry.tensor.count == x.count, entry.tensor.scalars.withUnsafeBufferPointer({ $0.baseAddress }) == base {
                return Slot(p: entry.copy, t: nil, shape: x.shape)
            }
        }
        var copy: UnsafeMutablePointer<Double>, capacity = x.count
        if k < constantCache.count, constantCache[k].capacity >= x.count {
            (copy, capacity) = (constantCache[k].copy, constantCache[k].capacity)
        } else {
            if k < constantCache.count { constantCache[k].copy.deallocate() }
            copy = .allocate(capacity: x.count)
        }
        x.scalars.withUnsafeBufferPointer { copy.update(from: $0.baseAddress!, count: x.count) }
        let entry = (tensor: x, copy: copy, capacity: capacity)
        if k < constantCache.count { constantCache[k] = entry } else { constantCache.append(entry) }
        return Slot(p: copy, t: nil, shape: x.shape)
    }

    /// A scalar constant.
    func constant(_ x: Double) -> Variable { append(.constant, -1, -1, algebra.scalar(x), false) }

    /// Computes `op` on the operands now and records it.
    @inline(__always)
    func record(_ op: Op, _ a: Variable, _ b: Variable? = nil, _ name: StaticString) -> Variable {
        check(a, name)
        if let b { check(b, name) }
        let ia = Int(a.index), ib = b.map { Int($0.index) } ?? -1
        let y = Rules.forward(op, values[ia], ib >= 0 ? values[ib] : nil, algebra)
        let needs = needsGradient[ia] || (ib >= 0 && needsGradient[ib])
        return append(op, a.index, Int32(ib), y, needs)
    }

    /// Records the concatenation of `parts` along `axis`.
    func recordConcat(_ parts: [Variable], axis: Int) -> Variable {
        require(!parts.isEmpty, "concatenate: no tensors given")
        let first = parts[0]
        for p in parts { check(p, "concatenate") }
        let s0 = values[Int(first.index)].shape
        let ax = s0.normalizedAxis(axis, op: "concatenate")
        for p in parts {
            let s = values[Int(p.index)].shape
            var d0 = s0.dimensions, d = s.dimensions
            if d0.count == d.count { d0[ax] = 0; d[ax] = 0 }
            require(d0 == d, "concatenate: shapes \(s0) and \(s) differ outside axis \(ax)")
        }
        let start = extraOperands.count
        extraOperands.append(contentsOf: parts.map(\.index))
        let slots = parts.map { values[Int($0.index)] }
        let y = slots.withUnsafeBufferPointer { algebra.concat($0, axis: ax) }
        let needs = parts.contains { needsGradient[Int($0.index)] }
        return append(.concat(axis: ax, first: start, count: parts.count), -1, -1, y, needs)
    }

    // MARK: Reverse sweep

    /// Runs the reverse sweep from node `output` with cotangent `seed`, leaving the cotangent
    /// of every node that needs one in `adjoints` (with tangents when values carry them).
    func backward(from output: Int, seed: Slot) {
        backward(seeds: CollectionOfOne((output, seed)))
    }

    /// The reverse sweep seeded at several outputs (a node seeded twice gets the sum).
    func backward<S: Sequence>(seeds: S) where S.Element == (Int, Slot) {
        adjoints.removeAll(keepingCapacity: true)
        adjoints.append(contentsOf: repeatElement(nil, count: values.count))
        adjointOwned.removeAll(keepingCapacity: true)
        adjointOwned.append(contentsOf: repeatElement(false, count: values.count))
        var output = -1
        for (node, seed) in seeds {
            accumulate(seed, into: node, cotangent: seed)
            adjointOwned[node] = true   // seeds are fresh buffers of their own
            output = max(output, node)
        }
        let alg = algebra
        guard output >= 0 else { return }
        for i in stride(from: output, through: 0, by: -1) {
            guard needsGradient[i], let g = adjoints[i] else { continue }
            switch ops[i] {
            case .input, .constant:
                continue
            case .concat(let axis, let first, let count):
                var start = 0
                for k in first..<(first + count) {
                    let j = Int(extraOperands[k])
                    let n = values[j].shape.dimensions[axis]
                    if needsGradient[j] { accumulate(Rules.concatVJP(g, axis: axis, start: start, count: n, alg), into: j, cotangent: g) }
                    start += n
                }
            case let op:
                let a = Int(operand0[i]), b = Int(operand1[i])
                let need0 = needsGradient[a], need1 = b >= 0 && needsGradient[b]
                let (c0, c1) = Rules.vjp(op, values[a], b >= 0 ? values[b] : nil, values[i], g, need0, need1, alg)
                if need0, let c0 { accumulate(c0, into: a, cotangent: g) }
                if need1, let c1 { accumulate(c1, into: b, cotangent: g) }
            }
        }
    }

    /// Adds a rule's contribution `c` to the adjoint of node `j`. The one place where
    /// broadcasting is undone: `Kernels.accumulate` sums (or broadcasts) `c` to `j`'s shape.
    @inline(__always)
    private func accumulate(_ c: Slot, into j: Int, cotangent g: Slot) {
        let target = values[j].shape
        guard var adj = adjoints[j] else {
            if c.shape.isSqueezeEquivalent(to: target) {
                // Adopt the contribution's buffers: no copy in the common single-consumer case.
                adjoints[j] = Slot(p: c.p, t: c.t, shape: target)
                adjointOwned[j] = c.p != g.p
            } else {
                var fresh = Slot(p: arena.allocateZeroed(target.count), t: nil, shape: target)
                Kernels.accumulate(c.p, shape: c.shape, into: fresh.p, shape: target)
                if let ct = c.t {
                    fresh.t = arena.allocateZeroed(target.count)
                    Kernels.accumulate(ct, shape: c.shape, into: fresh.t!, shape: target)
                }
                adjoints[j] = fresh
                adjointOwned[j] = true
            }
            return
        }
        let n = target.count
        if !adjointOwned[j] {   // copy a borrowed buffer before adding into it
            let p = arena.allocate(n); p.update(from: adj.p, count: n); adj.p = p
            if let t = adj.t { let q = arena.allocate(n); q.update(from: t, count: n); adj.t = q }
            adjointOwned[j] = true
        }
        Kernels.accumulate(c.p, shape: c.shape, into: adj.p, shape: target)
        if let ct = c.t {
            if adj.t == nil { adj.t = arena.allocateZeroed(n) }
            Kernels.accumulate(ct, shape: c.shape, into: adj.t!, shape: target)
        }
        adjoints[j] = adj
    }
}
