/// One recorded operation: its code and immediate attributes (plain values, no references).
enum Op {
    case input, constant
    case add, sub, mul, div
    case scale(Double), addScalar(Double)
    case map(UnaryFunction, Double)
    case matmul(Bool, Bool)
    case transpose
    case sum(axis: Int?, keep: Bool)
    case reshape(Shape)
    case slice(axis: Int, start: Int, count: Int)
    case pad(axis: Int, start: Int, total: Int)
    case concat(axis: Int, first: Int, count: Int)   // operands in Tape.extraOperands[first..<first+count]
    case softmax(axis: Int)
    case logSumExp(axis: Int, keep: Bool)
    case dot
}

/// The derivative rules: for every operation, its forward value and its vector–Jacobian product,
/// written once in the `TensorAlgebra` primitives. With `Dual` values the same VJP gives the
/// gradient and its tangent (the HVP) in one sweep.
///
/// Conventions: `x0`, `x1` are the operands, `y` the output, `g` the cotangent ȳ. A rule returns
/// the cotangent of each operand it was asked for (`need0`, `need1`), at the *output's* shape
/// or at the operand's: the sweep unbroadcasts (or broadcasts) it into the operand's adjoint, so
/// rules never reduce over broadcast dimensions themselves.
enum Rules {
    /// y = op(x0, x1).
    @inline(__always)
    static func forward<A: TensorAlgebra>(_ op: Op, _ x0: A.Value, _ x1: A.Value?, _ alg: A) -> A.Value {
        switch op {
        case .input, .constant, .concat: fatalError("forward: \(op) is not computed by a rule")
        case .add: alg.add(x0, x1!)
        case .sub: alg.sub(x0, x1!)
        case .mul: alg.mul(x0, x1!)
        case .div: alg.div(x0, x1!)
        case .scale(let c): alg.scale(x0, c)
        case .addScalar(let c): alg.addScalar(x0, c)
        case .map(let f, let p): alg.map(f, x0, p)
        case .matmul(let ta, let tb): alg.matmul(x0, x1!, ta, tb)
        case .transpose: alg.transpose(x0)
        case .sum(let axis, let keep): alg.sum(x0, axis: axis, keep: keep)
        case .reshape(let s): alg.reshape(x0, s)
        case .slice(let axis, let start, let count): alg.slice(x0, axis: axis, start: start, count: count)
        case .pad(let axis, let start, let total): alg.pad(x0, axis: axis, start: start, total: total)
        case .softmax(let axis): alg.softmax(x0, axis: axis)
        case .logSumExp(let axis, let keep): alg.logSumExp(x0, axis: axis, keep: keep)
        case .dot: alg.dot(x0, x1!)
        }
    }

    /// (x̄0, x̄1) given ȳ = g. Each line is the textbook VJP of the operation.
    @inline(__always)
    static func vjp<A: TensorAlgebra>(_ op: Op, _ x0: A.Value, _ x1: A.Value?, _ y: A.Value, _ g: A.Value,
                                      _ need0: Bool, _ need1: Bool, _ alg: A) -> (A.Value?, A.Value?) {
        switch op {
        case .input, .constant, .concat:
            fatalError("vjp: \(op) has no rule here (leaves have none; concat is split in the sweep)")
        case .add:                                   // ā = ȳ, b̄ = ȳ
            return (g, g)
        case .sub:                                   // ā = ȳ, b̄ = −ȳ
            return (g, need1 ? alg.scale(g, -1) : nil)
        case .mul:                                   // ā = ȳ ⊙ b, b̄ = ȳ ⊙ a
            return (need0 ? alg.mul(g, x1!) : nil, need1 ? alg.mul(g, x0) : nil)
        case .div:                                   // ā = ȳ ⊘ b, b̄ = −(ȳ ⊘ b) ⊙ y
            let q = alg.div(g, x1!)
            return (q, need1 ? alg.scale(alg.mul(q, y), -1) : nil)
        case .scale(let c):                          // ā = c ȳ
            return (alg.scale(g, c), nil)
        case .addScalar:                             // ā = ȳ
            return (g, nil)
        case .map(let f, let p):                     // ā = ȳ ⊙ f′(a)
            return (alg.derivativeProduct(f, g, x0, y, p), nil)
        case .matmul(let ta, let tb):                // d op(A) = ȳ op(B)ᵀ,  d op(B) = op(A)ᵀ ȳ
            let a = need0 ? (ta ? alg.matmul(x1!, g, tb, true) : alg.matmul(g, x1!, false, !tb)) : nil
            let b = need1 ? (tb ? alg.matmul(g, x0, true, ta) : alg.matmul(x0, g, !ta, false)) : nil
            return (a, b)
        case .transpose:                             // ā = ȳᵀ
            return (alg.transpose(g), nil)
        case .sum(let axis, _):                      // ā = ȳ broadcast back (the sweep broadcasts)
            guard let axis else { return (g, nil) }
            let s = alg.shape(of: x0)
            return (alg.reshape(g, s.rank == 1 ? .scalar : s.reduced(alongAxis: axis, keepingDimension: true)), nil)
        case .reshape:                               // ā = ȳ with the operand's shape
            return (alg.reshape(g, alg.shape(of: x0)), nil)
        case .slice(let axis, let start, _):         // ā = ȳ padded with zeros
            return (alg.pad(g, axis: axis, start: start, total: alg.shape(of: x0).dimension(axis)), nil)
        case .pad(let axis, let start, _):           // ā = the block of ȳ
            return (alg.slice(g, axis: axis, start: start, count: alg.shape(of: x0).dimension(axis)), nil)
        case .softmax(let axis):                     // ā = s ⊙ (ȳ − Σ ȳ ⊙ s)
            return (alg.mul(y, alg.sub(g, alg.sum(alg.mul(g, y), axis: axis, keep: true))), nil)
        case .logSumExp(let axis, _):                // ā = ȳ ⊙ softmax(a)
            let s = alg.shape(of: x0)
            let gk = alg.reshape(g, s.rank == 1 ? .scalar : s.reduced(alongAxis: axis, keepingDimension: true))
            return (alg.mul(gk, alg.softmax(x0, axis: axis)), nil)
        case .dot:                                   // ā = ȳ b, b̄ = ȳ a
            return (need0 ? alg.mul(g, x1!) : nil, need1 ? alg.mul(g, x0) : nil)
        }
    }

    /// Which values `vjp` reads for this op (given which operands need a cotangent), so the sweep
    /// knows when an activation is no longer needed. Must agree with `vjp` line by line; a value
    /// listed and not read only costs memory, one read and not listed would be a bug (the tests
    /// compare every op with and without releasing).
    @inline(__always)
    static func reads(_ op: Op, _ need0: Bool, _ need1: Bool) -> (x0: Bool, x1: Bool, y: Bool) {
        switch op {
        case .input, .constant, .concat, .add, .sub, .scale, .addScalar, .transpose, .sum, .reshape, .slice, .pad:
            return (false, false, false)                     // shapes only
        case .mul, .dot: return (need1, need0, false)        // ā = ȳ ⊙ b, b̄ = ȳ ⊙ a
        case .div: return (false, true, need1)              // q = ȳ ⊘ b; b̄ = −q ⊙ y
        case .map: return (true, false, true)               // f′(x, y), f″(x, y), and ẋ
        case .matmul: return (need1, need0, false)          // ā = ȳ op(B)ᵀ, b̄ = op(A)ᵀ ȳ
        case .softmax: return (false, false, true)
        case .logSumExp: return (true, false, false)        // softmax(a) is recomputed
        }
    }

    /// Concatenation's VJP: operand k gets its block of ȳ.
    @inline(__always)
    static func concatVJP<A: TensorAlgebra>(_ g: A.Value, axis: Int, start: Int, count: Int, _ alg: A) -> A.Value {
        alg.slice(g, axis: axis, start: start, count: count)
    }
}
