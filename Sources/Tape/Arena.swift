import TapeKernels
/// A bump allocator for tape buffers, in chunks that never move.
///
/// Why: a tape records thousands of sweeps in an inner loop; each sweep asks for the same
/// sequence of buffers. Chunks are kept across `reset()`, so after the first sweep no heap
/// allocation happens at all, and pointers stay valid for the whole sweep (no reallocation).
/// The same request sequence after a reset returns the same addresses, which is what lets a
/// sweep be replayed for a new tangent with its primal values still in place.
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

    /// Total doubles held in chunks.
    var reserved: Int { chunks.reduce(0) { $0 + $1.capacity } }

    /// Uninitialized storage for `count` doubles, 64-byte aligned.
    @inline(__always)
    func allocate(_ count: Int) -> UnsafeMutablePointer<Double> {
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

    /// Forgets every allocation but keeps the chunks for reuse.
    func reset() {
        highWater = max(highWater, inUse)
        chunkIndex = 0
        offset = 0
        inUse = 0
    }

    /// Returns every chunk to the system.
    func releaseMemory() {
        for c in chunks { UnsafeMutableRawPointer(c.base).deallocate() }
        chunks.removeAll()
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
        if let w = gemmBuffer { UnsafeMutableRawPointer(w).deallocate() }
    }
}
