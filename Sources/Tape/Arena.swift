import TapeKernels
/// The allocator of tape buffers: a bump allocator in chunks that never move, and reference-counted
/// blocks for large buffers.
///
/// Why: a tape records thousands of sweeps in an inner loop; each sweep asks for the same
/// sequence of buffers. Chunks and blocks are kept across `reset()`, so after the first sweep no
/// heap allocation happens at all, and pointers stay valid for the whole sweep (no reallocation).
/// Large buffers (at least `largeMinimum` doubles) can also be handed back *during* a sweep
/// (`release`): the reverse sweep returns activations and adjoints as soon as nothing needs them,
/// which keeps the peak near the forward pass's own memory instead of forward plus backward.
final class Arena {
    @exclusivity(unchecked) private var chunks: [(base: UnsafeMutablePointer<Double>, capacity: Int)] = []
    @exclusivity(unchecked) private var chunkIndex = 0
    @exclusivity(unchecked) private var offset = 0
    /// Doubles handed out since the last reset (including alignment padding).
    @exclusivity(unchecked) private(set) var inUse = 0
    /// The largest `inUse` seen since creation.
    @exclusivity(unchecked) private(set) var highWater = 0
    /// Chunks are at least this many doubles (512 KiB).
    private let minimumChunk = 1 << 16

    /// Total doubles held in chunks and blocks.
    var reserved: Int { chunks.reduce(0) { $0 + $1.capacity } + blocks.reduce(0) { $0 + $1.1 } }

    /// Uninitialized storage for `count` doubles, 64-byte aligned. Large requests get a block with
    /// one reference (see `retain`/`release`).
    @inline(__always)
    func allocate(_ count: Int) -> UnsafeMutablePointer<Double> {
        if count >= Arena.largeMinimum { return allocateLarge(count) }
        let n = (max(count, 1) + 7) & ~7
        if chunkIndex < chunks.count, offset + n <= chunks[chunkIndex].capacity {
            let p = chunks[chunkIndex].base + offset
            offset += n
            inUse += n
            return p
        }
        return allocateSlow(n)
    }

    private func allocateSlow(_ n: Int) -> UnsafeMutablePointer<Double> {
        // Move to the next chunk that can hold n; create one if none can.
        var i = chunks.isEmpty ? 0 : chunkIndex + 1
        while i < chunks.count, chunks[i].capacity < n { i += 1 }
        if i == chunks.count {
            let capacity = max(n, minimumChunk)
            let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * 8, alignment: 64)
            chunks.append((raw.bindMemory(to: Double.self, capacity: capacity), capacity))
        }
        chunkIndex = i
        offset = n
        inUse += n
        highWater = max(highWater, inUse)
        return chunks[i].base
    }

    /// Zero-filled storage for `count` doubles.
    @inline(__always)
    func allocateZeroed(_ count: Int) -> UnsafeMutablePointer<Double> {
        let p = allocate(count)
        p.initialize(repeating: 0, count: count)
        return p
    }

    /// Forgets every allocation but keeps the chunks and blocks for reuse.
    func reset() {
        highWater = max(highWater, inUse)
        chunkIndex = 0
        offset = 0
        inUse = 0
        for k in freeLists.indices { freeLists[k].blocks.removeAll(keepingCapacity: true) }
        for (p, capacity) in blocks { Arena.header(p).pointee = (capacity, 0, false); freeLists[freeList(capacity)].blocks.append(p) }
    }

    // MARK: Marks (a linearization's products)

    /// The allocation state at one moment, to return to with `rewind(to:)`.
    struct Mark { fileprivate let chunkIndex: Int, offset: Int, inUse: Int }

    /// The current allocation state.
    func mark() -> Mark { Mark(chunkIndex: chunkIndex, offset: offset, inUse: inUse) }

    /// Forgets every small allocation made since `m` and returns every large block that is still held and
    /// not pinned: what one product of a linearization allocated on top of the recorded state. Buffers
    /// allocated before `m` stay valid (small ones live in chunks the bump pointer only returns to).
    func rewind(to m: Mark) {
        highWater = max(highWater, inUse)
        for (p, _) in blocks {
            let h = Arena.header(p)
            if h.pointee.1 > 0 && !h.pointee.2 { putBack(p, h) }
        }
        chunkIndex = m.chunkIndex
        offset = m.offset
        inUse = m.inUse
    }

    /// Pins every large block now held: `rewind` leaves them alone until the next `reset`.
    func pinHeldBlocks() {
        for (p, _) in blocks where Arena.header(p).pointee.1 > 0 { Arena.header(p).pointee.2 = true }
    }

    /// Returns every large block now held whose address is not in `keep`, whatever its references (the
    /// recorded buffers of a linearization that no product reads).
    func releaseHeldBlocks(except keep: Set<UnsafeMutablePointer<Double>>) {
        for (p, _) in blocks {
            let h = Arena.header(p)
            if h.pointee.1 > 0 && !keep.contains(p) { putBack(p, h) }
        }
    }

    /// Puts a held block back on its free list.
    @inline(__always)
    private func putBack(_ p: UnsafeMutablePointer<Double>, _ h: UnsafeMutablePointer<(Int, Int, Bool)>) {
        h.pointee.1 = 0
        if poisonsReleasedBlocks { p.update(repeating: .nan, count: h.pointee.0) }
        inUse -= h.pointee.0
        freeLists[freeList(h.pointee.0)].blocks.append(p)
    }

    // MARK: Large blocks

    /// Fill released blocks with NaN (tests: a read after release then shows in the results).
    @exclusivity(unchecked) var poisonsReleasedBlocks = false

    /// Requests of at least this many doubles (128 KiB) get reference-counted blocks.
    static let largeMinimum = 1 << 14

    /// Free blocks by capacity (a short list: a network has a handful of distinct large shapes), and
    /// every block made (for `reset` and `releaseMemory`).
    @exclusivity(unchecked) private var freeLists: [(capacity: Int, blocks: [UnsafeMutablePointer<Double>])] = []
    @exclusivity(unchecked) private var blocks: [(UnsafeMutablePointer<Double>, Int)] = []

    /// The index of the free list for `capacity` (made if new).
    @inline(__always)
    private func freeList(_ capacity: Int) -> Int {
        for k in freeLists.indices where freeLists[k].capacity == capacity { return k }
        freeLists.append((capacity, []))
        return freeLists.count - 1
    }

    /// A block's header, just before its 64-byte-aligned payload: (capacity, references, pinned).
    @inline(__always)
    private static func header(_ p: UnsafeMutablePointer<Double>) -> UnsafeMutablePointer<(Int, Int, Bool)> {
        (UnsafeMutableRawPointer(p) - 64).assumingMemoryBound(to: (Int, Int, Bool).self)
    }

    private func allocateLarge(_ count: Int) -> UnsafeMutablePointer<Double> {
        let capacity = (count + 7) & ~7
        let p: UnsafeMutablePointer<Double>
        let k = freeList(capacity)
        if let q = freeLists[k].blocks.popLast() {
            p = q
        } else {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * 8 + 64, alignment: 64)
            p = (raw + 64).bindMemory(to: Double.self, capacity: capacity)
            blocks.append((p, capacity))
        }
        Arena.header(p).pointee = (capacity, 1, false)
        inUse += capacity
        highWater = max(highWater, inUse)
        return p
    }

    /// Adds a reference to the buffer of `count` doubles at `p` (nothing for small buffers).
    @inline(__always)
    func retain(_ p: UnsafeMutablePointer<Double>, count: Int) {
        if count >= Arena.largeMinimum { Arena.header(p).pointee.1 += 1 }
    }

    /// Drops a reference; the last one returns a large block for reuse in this sweep (small buffers
    /// live until `reset`).
    @inline(__always)
    func release(_ p: UnsafeMutablePointer<Double>, count: Int) {
        guard count >= Arena.largeMinimum else { return }
        let h = Arena.header(p)
        require(h.pointee.1 > 0, "Arena: a buffer was released more often than it was retained")
        h.pointee.1 -= 1
        if h.pointee.1 == 0 { putBack(p, h) }
    }

    /// Whether the buffer at `p` has exactly one reference (always false for small buffers, whose
    /// sharing is not tracked).
    @inline(__always)
    func isUnique(_ p: UnsafeMutablePointer<Double>, count: Int) -> Bool {
        count >= Arena.largeMinimum && Arena.header(p).pointee.1 == 1
    }

    /// Returns every chunk and block to the system.
    func releaseMemory() {
        for c in chunks { UnsafeMutableRawPointer(c.base).deallocate() }
        chunks.removeAll()
        for (p, _) in blocks { (UnsafeMutableRawPointer(p) - 64).deallocate() }
        blocks.removeAll()
        freeLists.removeAll()
        if let w = gemmBuffer { UnsafeMutableRawPointer(w).deallocate() }
        gemmBuffer = nil
        reset()
    }

    /// Threads of the kernels' worker pool (TAPE_THREADS, else the online CPUs, at most 8).
    static let threads = Int(tk_pool_threads())

    /// The packing buffer of the matrix-multiply kernel, for up to `threads` threads, kept for the
    /// arena's lifetime (4.6 MB on two threads, so it is made only when a product is large enough to use it).
    @exclusivity(unchecked) private var gemmBuffer: UnsafeMutablePointer<Double>?

    /// The packing buffer (made on first use).
    @inline(__always)
    func gemmWorkspace() -> UnsafeMutablePointer<Double> {
        if let w = gemmBuffer { return w }
        let n = tk_dgemm_workspace_doubles(Int32(Arena.threads))
        let raw = UnsafeMutableRawPointer.allocate(byteCount: n * 8, alignment: 64)
        let w = raw.bindMemory(to: Double.self, capacity: n)
        gemmBuffer = w
        return w
    }

    /// Bytes held by the packing buffer.
    var gemmWorkspaceBytes: Int { gemmBuffer == nil ? 0 : tk_dgemm_workspace_doubles(Int32(Arena.threads)) * 8 }

    deinit {
        for c in chunks { UnsafeMutableRawPointer(c.base).deallocate() }
        for (p, _) in blocks { (UnsafeMutableRawPointer(p) - 64).deallocate() }
        if let w = gemmBuffer { UnsafeMutableRawPointer(w).deallocate() }
    }
}
