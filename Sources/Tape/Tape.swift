import TapeKernels

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
    /// The node whose buffers a node's value lives in: itself, or (for views such as `reshape`) the
    /// node it views. Only a root's buffers are ever released.
    @exclusivity(unchecked) var viewRoot: [Int32] = []
    /// Copies of large constants, kept across calls (see `cachedConstant`), and the next one's index.
    @exclusivity(unchecked) var constantCache: [(tensor: Tensor, copy: UnsafeMutablePointer<Double>, capacity: Int)] = []
    @exclusivity(unchecked) var constantCursor = 0
    /// Operand lists of n-ary nodes (concatenation).
    @exclusivity(unchecked) var extraOperands: [Int32] = []
    // Reverse sweep state (Sweep.swift).
    @exclusivity(unchecked) var adjoints: [Slot?] = []
    /// Per node: the lowest-index node whose VJP reads its value (when the sweep may release it),
    /// and the chain of values released at each node (`releaseHead[i]`, then `releaseNext`).
    @exclusivity(unchecked) var lastRead: [Int32] = []
    @exclusivity(unchecked) var releaseHead: [Int32] = []
    @exclusivity(unchecked) var releaseNext: [Int32] = []
    /// Whether the sweep returns large buffers as soon as nothing needs them (off only to test that
    /// results do not depend on it).
    @exclusivity(unchecked) var releasesDeadBuffers = true
    /// Whether this recording holds a value large enough to be released (else the sweep skips planning).
    @exclusivity(unchecked) var hasLargeValues = false
    /// Whether an adjoint buffer belongs to its node alone (false when it views a cotangent it
    /// was handed, which must be copied before anything is added to it).
    @exclusivity(unchecked) var adjointOwned: [Bool] = []
    /// Bumped on every reset, so a `Variable` from an earlier recording is caught if reused.
    @exclusivity(unchecked) private(set) var generation: UInt32 = 0
    @exclusivity(unchecked) var isRecording = false
    /// The input Variables handed to the function being differentiated (reused across calls).
    @exclusivity(unchecked) var inputVariables: [Variable] = []
    @exclusivity(unchecked) var inputNodes: [Int32] = []
    /// The input nodes whose results a call returns (reused across calls).
    @exclusivity(unchecked) var resultNodes: [Int] = []
    /// Set while a linearization is recorded: the log of every primitive's primal result (Linearization.swift).
    @exclusivity(unchecked) var primalLog: PrimalLog?
    /// The bookkeeping of this tape's latest linearization, reused by the next.
    @exclusivity(unchecked) var linearizationRecord: LinearizationRecord?

    /// An empty tape. Creating one changes nothing outside it (see `tuneAllocatorForLargeTensors`).
    public init() {}

    /// Opt-in, process-wide: raises glibc's mmap threshold to 32 MiB and its trim threshold to 64 MiB
    /// (`mallopt`), so tensor-sized blocks that are freed and allocated again, call after call, are reused
    /// instead of being returned to the system and page-faulted in anew. What it buys and costs is measured
    /// in docs/tape.md ("Allocator tuning"): a loop of plain (allocating) HVP calls on a 4 × 200 MLP stops
    /// page-faulting its result tensors; up to 64 MiB of freed memory stays in the process. It changes the
    /// allocator for the whole process, so only a program's owner should call it (the Benchmarks executable
    /// does). Nothing changes when the environment sets glibc's malloc tunables (`GLIBC_TUNABLES` with
    /// malloc, `MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`) or `TAPE_KEEP_MALLOC`, or on a C library
    /// other than glibc. Returns whether the settings are in effect; calling it again does nothing more.
    @discardableResult
    public static func tuneAllocatorForLargeTensors() -> Bool { tk_tune_allocator() == 1 }

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

    var algebra: Dual { Dual(arena: arena, gemm: GemmContext(arena: arena), log: primalLog) }

    func reset() {
        ops.removeAll(keepingCapacity: true)
        operand0.removeAll(keepingCapacity: true)
        operand1.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        needsGradient.removeAll(keepingCapacity: true)
        viewRoot.removeAll(keepingCapacity: true)
        extraOperands.removeAll(keepingCapacity: true)
        constantCursor = 0
        hasLargeValues = false
        arena.reset()
        generation &+= 1
    }

    // MARK: Recording

    @inline(__always)
    private func append(_ op: Op, _ a: Int32, _ b: Int32, _ value: Slot, _ needsGrad: Bool) -> Variable {
        // A value that shares an operand's buffer (a view) belongs to that operand's root.
        let index = Int32(values.count)
        if value.count >= Arena.largeMinimum { hasLargeValues = true }
        viewRoot.append(a >= 0 && value.p == values[Int(a)].p ? viewRoot[Int(a)]
                        : b >= 0 && value.p == values[Int(b)].p ? viewRoot[Int(b)] : index)
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
}
