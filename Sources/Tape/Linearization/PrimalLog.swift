/// What a linearization keeps of the sweep it recorded: the primal result of every primitive the rules
/// called, in call order, so that each product can replay the same rules and compute tangents alone.
///
/// Recording, `Dual` appends each result's buffer here and notes which primal buffers its tangent formula
/// would read (`reads`); the sweep notes where each node's rule starts in the log and the node's final
/// cotangent. Replaying, `Dual` takes the results back in the same order (the rules call the same
/// primitives for the same operation and operands, whatever the tangents), so the replay reads the
/// recorded primals and writes only tangents.
final class PrimalLog {
    /// Primal result buffers and their sizes, in the order the primitives were called.
    @exclusivity(unchecked) var entries: [(p: UnsafeMutablePointer<Double>, count: Int)] = []
    /// Per node: the index of the first entry of its rule in the sweep (-1: the sweep did not visit it).
    @exclusivity(unchecked) var sweepStart: [Int] = []
    /// Per node: the primal of its cotangent ȳ, as its rule read it (nil: not visited).
    @exclusivity(unchecked) var cotangent: [UnsafeMutablePointer<Double>?] = []
    /// Recording: the primal buffers some tangent formula reads (every other large buffer can go back).
    @exclusivity(unchecked) var reads: Set<UnsafeMutablePointer<Double>> = []
    /// Replaying instead of recording.
    @exclusivity(unchecked) var replaying = false
    /// Replaying: the next entry to hand out.
    @exclusivity(unchecked) var cursor = 0
    /// Replaying a forward node: its value's buffer (a forward result is the node's recorded value).
    @exclusivity(unchecked) var given: UnsafeMutablePointer<Double>?

    /// Starts a recording of `nodes` nodes.
    func startRecording() {
        entries.removeAll(keepingCapacity: true)
        reads.removeAll(keepingCapacity: true)
        replaying = false
        given = nil
    }

    /// Sizes the per-node arrays for the sweep of `nodes` nodes.
    func startSweep(nodes: Int) {
        sweepStart.removeAll(keepingCapacity: true)
        sweepStart.append(contentsOf: repeatElement(-1, count: nodes))
        cotangent.removeAll(keepingCapacity: true)
        cotangent.append(contentsOf: repeatElement(nil, count: nodes))
    }

    /// A result's primal buffer of `count` doubles: recording, a fresh one (logged); replaying, the
    /// recorded one.
    @inline(__always)
    func primal(_ count: Int, _ arena: Arena) -> UnsafeMutablePointer<Double> {
        if replaying {
            if let g = given { given = nil; return g }
            let e = entries[cursor]
            require(e.count == count, "linearization: the replay asked for \(count) values where the recording made \(e.count)")
            cursor += 1
            return e.p
        }
        let p = arena.allocate(count)
        entries.append((p, count))
        return p
    }

    /// Recording: a tangent formula reads the primal at `p`.
    @inline(__always)
    func read(_ p: UnsafeMutablePointer<Double>) { if !replaying { reads.insert(p) } }
}
