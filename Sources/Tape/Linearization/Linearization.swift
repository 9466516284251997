/// The gradient of a scalar function f, linearized at a point x: the map v ↦ H(x)·v, ready to apply many
/// times. Linearizing records f and its reverse sweep once; each product then runs only the tangent half
/// of forward-over-reverse, reading the recorded primal values and cotangents instead of recomputing them:
/// 6 matrix products per dense layer instead of the 8 of `Tape.hessianVectorProduct(of:at:along:wrt:)`, and
/// no elementwise primal work. Conjugate gradients, Neumann series and dense Hessians, whose point does
/// not move, are what it is for (the JAX analogue is `jax.linearize` of the gradient).
///
/// The products have the very bits of `Tape.hessianVectorProduct` at the same point and direction: the
/// replay calls the same derivative rules, and each primitive computes its tangent by the same expression
/// from the same primal values. `hessianMatrixProduct(along:)` runs k directions in one sweep, so the k
/// products share every read of the recorded values and run as matrix products k times as tall or wide
/// (still the bits of k single products).
///
/// Memory: the linearization keeps the primal values and cotangents that some tangent formula reads (a
/// dense tanh layer: its input, pre-activation, output and their cotangents) and returns the rest; a
/// product adds its tangents on top and gives them back when it returns.
///
/// A linearization lives on its tape: any other call on that tape ends it (using it afterwards traps with
/// a message), and like the tape it is not thread-safe.
public struct Linearization {
    /// f(x) at the point.
    public let value: Double
    /// Bytes the linearization holds on its tape between products: the primal values and cotangents its
    /// tangent formulas read, its copy of the point, and the small buffers of the recording.
    public let heldBytes: Int
    /// ∇f at the point for the inputs in `wrt` (the primal half of the recorded sweep, copied out before its
    /// buffers went back): what an optimizer step needs from the same call that linearizes.
    package let gradients: [Tensor]
    let tape: Tape
    let generation: UInt32
    let record: LinearizationRecord

    /// H·v for the inputs in `wrt`: Σⱼ (∂²f/∂xᵢ∂xⱼ) vⱼ for each input i in `wrt` (shapes as the inputs),
    /// with one direction per input (nil: zero). For f(w, λ) along (v, nil) this is (H_ww v, H_λw v).
    public func hessianVectorProduct(along vs: [Tensor?]) -> [Tensor] {
        var products: [Tensor] = []
        hessianVectorProduct(along: vs, into: &products)
        return products
    }

    /// `hessianVectorProduct(along:)` writing into `products`: tensors already there with the right shapes are
    /// overwritten in place, so a loop of products allocates nothing.
    package func hessianVectorProduct(along vs: [Tensor?], into products: inout [Tensor]) {
        check("hessianVectorProduct(along:)", vs)
        tape.replay(record, along: vs, into: &products)
    }

    /// H·V for k directions at once: V = [v₁ … vₖ], each vⱼ one direction per input (nil: zero); returns
    /// [H v₁, …, H vₖ], each the products for the inputs in `wrt`. The directions run together, up to 32 at a
    /// time (fewer when their tangents would pass 64 MiB), so each recorded value is read once for all of them and each matrix
    /// product is k times as tall or wide; the results have the bits of k calls of `hessianVectorProduct(along:)`.
    public func hessianMatrixProduct(along directions: [[Tensor?]]) -> [[Tensor]] {
        for vs in directions { check("hessianMatrixProduct(along:)", vs) }
        var out: [[Tensor]] = []
        var start = 0
        while start < directions.count {
            let block = Array(directions[start..<min(start + maximumBlockWidth, directions.count)])
            var flat: [Tensor] = []
            tape.replay(record, block: block, into: &flat)
            let per = record.resultNodes.count
            for j in 0..<block.count { out.append(Array(flat[j * per..<(j + 1) * per])) }
            start += block.count
        }
        return out
    }

    /// The dense Hessian block ∂²f/∂xᵢ² of input i (which must be among `wrt`): an (n, n) matrix over the
    /// input's n elements in row-major order whose column j is H·eⱼ, from n products in blocks of up to 32
    /// directions per sweep.
    public func hessian(ofInput i: Int) -> Tensor {
        checkCurrent("hessian(ofInput:)")
        require(i >= 0 && i < record.inputShapes.count, "hessian(ofInput:): input \(i) out of range for \(record.inputShapes.count) inputs")
        guard let position = record.resultNodes.firstIndex(of: record.inputNodes[i]) else {
            fatalError("hessian(ofInput:): input \(i) is not among the inputs the linearization differentiates (wrt)")
        }
        let n = record.inputShapes[i].count, per = record.resultNodes.count
        var h = [Double](repeating: 0, count: n * n)
        var start = 0
        while start < n {
            let columns = start..<min(start + maximumBlockWidth, n)
            setUnitDirections(columns, input: i)
            // The sweep's products go straight into H's columns. The unit directions and the products are the
            // record's, reused by the next sweep and the next linearization on this tape: on a problem this
            // size making them, and regrouping the products by direction, cost nearly as much as the sweep.
            tape.replay(record, block: record.unitDirections, into: &record.blockProducts)
            h.withUnsafeMutableBufferPointer { h in
                for (b, j) in columns.enumerated() {
                    record.blockProducts[b * per + position].scalars.withUnsafeBufferPointer { column in
                        for r in 0..<n { h[r * n + j] = column[r] }
                    }
                }
            }
            start = columns.upperBound
        }
        return Tensor(shape: [n, n], scalars: h)
    }

    /// Sets `record.unitDirections` to e_j along input i (nil for the other inputs), one per j in `columns`,
    /// overwriting the tensors already there when their shapes fit.
    private func setUnitDirections(_ columns: Range<Int>, input i: Int) {
        let shape = record.inputShapes[i], inputs = record.inputShapes.count
        if record.unitDirections.count > columns.count { record.unitDirections.removeLast(record.unitDirections.count - columns.count) }
        for (b, j) in columns.enumerated() {
            if b < record.unitDirections.count, record.unitDirections[b].count == inputs, record.unitDirections[b][i]?.shape == shape {
                for m in 0..<inputs where m != i { record.unitDirections[b][m] = nil }
                record.unitDirections[b][i]!.scalars.withUnsafeMutableBufferPointer { e in e.update(repeating: 0); e[j] = 1 }
            } else {
                var e = Tensor.zeros(shape)
                e.scalars[j] = 1
                let unit = (0..<inputs).map { $0 == i ? e : nil }
                if b < record.unitDirections.count { record.unitDirections[b] = unit } else { record.unitDirections.append(unit) }
            }
        }
    }

    /// The most directions one sweep of `hessianMatrixProduct(along:)` carries: 32, or fewer when their
    /// tangents would take more than 64 MiB.
    package var maximumBlockWidth: Int {
        checkCurrent("maximumBlockWidth")
        return max(1, min(32, (64 << 20) / 8 / max(record.tangentDoublesPerDirection, 1)))
    }

    /// Traps unless the tape still holds this linearization.
    private func checkCurrent(_ name: StaticString) {
        require(tape.generation == generation && !tape.isRecording,
                "\(name): the tape of this linearization was used for another call since; linearize again")
    }

    /// Traps unless the tape still holds this linearization and the directions fit its inputs.
    private func check(_ name: StaticString, _ vs: [Tensor?]) {
        checkCurrent(name)
        require(vs.count == record.inputShapes.count, "\(name): \(vs.count) directions for \(record.inputShapes.count) inputs")
        for (v, s) in zip(vs, record.inputShapes) {
            if let v { require(v.shape == s, "\(name): direction of shape \(v.shape) does not match input of shape \(s)") }
        }
    }
}

/// What a linearization holds on its tape besides the recorded nodes: the primal log, where each product's
/// tangent buffers go back, and the inputs.
final class LinearizationRecord {
    let log = PrimalLog()
    /// The output node, the input nodes (one per input) and those whose products are returned (`wrt`).
    var output = 0
    var inputNodes: [Int] = []
    var resultNodes: [Int] = []
    var inputShapes: [Shape] = []
    /// The values whose tangents go back after forward node i (`forwardRelease[i]`) or after sweep node i
    /// (`sweepRelease[i]`), chained through `releaseNext`; planned from each value's last forward consumer
    /// and last sweep reader.
    var forwardRelease: [Int32] = [], sweepRelease: [Int32] = [], releaseNext: [Int32] = []
    var lastForward: [Int] = [], lastSweep: [Int] = []
    /// Doubles of tangent one direction can hold at once (an upper bound: every value's).
    var tangentDoublesPerDirection = 0
    /// The cotangents' tangents during a product, and whether each belongs to its node alone.
    var adjointTangent: [UnsafeMutablePointer<Double>?] = []
    var adjointTangentOwned: [Bool] = []
    /// `Linearization.hessian(ofInput:)`'s unit directions and one sweep's products, kept for its next sweep
    /// (at most 32 directions: 32 · (n + the other results' sizes) doubles).
    var unitDirections: [[Tensor?]] = []
    var blockProducts: [Tensor] = []
}

extension Tape {
    /// Linearizes the gradient of scalar-valued f at xs: records f and its reverse sweep once, keeping the
    /// primal values and cotangents that Hessian-vector products read; products are then for the inputs in
    /// `wrt` (default all). The point is copied, so xs may change afterwards. The tape holds the
    /// linearization until its next call.
    public func linearizedGradient(of f: ([Variable]) -> Variable, at xs: [Tensor], wrt: [Int]? = nil) -> Linearization {
        require(!isRecording, "linearizedGradient: called on a tape that is recording; use a separate Tape for a nested differentiation")
        if let wrt {
            require(wrt.allSatisfy { $0 >= 0 && $0 < xs.count }, "linearizedGradient: wrt indices \(wrt) out of range for \(xs.count) inputs")
        }
        reset()
        // The record of this tape's previous linearization is reused (that one has ended: its checks now trap).
        let record = linearizationRecord ?? LinearizationRecord()
        linearizationRecord = record
        let log = record.log
        primalLog = log
        defer { primalLog = nil }
        log.startRecording()
        // The point is copied into the tape: products read it long after this call returns.
        inputVariables.removeAll(keepingCapacity: true)
        inputNodes.removeAll(keepingCapacity: true)
        var copies: Set<UnsafeMutablePointer<Double>> = []
        for (k, x) in xs.enumerated() {
            let slot = x.scalars.withUnsafeBufferPointer { algebra.constant($0, shape: x.shape) }
            copies.insert(slot.p)
            let v = leaf(UnsafeBufferPointer(start: slot.p, count: x.count), x.shape, tangent: nil,
                         requiresGradient: wrt.map { $0.contains(k) } ?? true)
            inputVariables.append(v)
            inputNodes.append(v.index)
        }
        let out = call(f, "linearizedGradient")
        requireScalar(out, "linearizedGradient")
        log.startSweep(nodes: values.count)
        backward(from: out, seed: seedOne())
        chosenNodes(wrt, xs.count)
        record.output = out
        record.inputNodes = inputNodes.map(Int.init)
        record.resultNodes = resultNodes
        record.inputShapes = xs.map(\.shape)
        var gradients: [Tensor] = []
        store(resultNodes, tangents: false, into: &gradients)
        // Keep what a product reads (and the point itself); return every other large buffer.
        arena.releaseHeldBlocks(except: log.reads.union(copies))
        arena.pinHeldBlocks()
        planTangentReleases(record)
        return Linearization(value: values[out].p[0], heldBytes: arena.inUse * 8, gradients: gradients, tape: self,
                             generation: generation, record: record)
    }
}
