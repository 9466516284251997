/// A tensor inside a differentiated function: a handle to one node of a `Tape`.
///
/// Operations compute their value immediately and record themselves. A `Variable` is only valid
/// during the call that received it; using one afterwards traps with a message.
/// Shapes follow `Tensor` (rank 0–2); elementwise operations broadcast like NumPy.
public struct Variable {
    @usableFromInline unowned(unsafe) let tape: Tape
    @usableFromInline let index: Int32
    @usableFromInline let generation: UInt32

    init(tape: Tape, index: Int32, generation: UInt32) {
        self.tape = tape; self.index = index; self.generation = generation
    }

    private var slot: Slot {
        tape.check(self, "Variable")
        return tape.values[Int(index)]
    }

    /// The shape of the value.
    public var shape: Shape { slot.shape }

    /// A copy of the current value (the primal).
    public var value: Tensor {
        let s = slot
        return Tensor(shape: s.shape, scalars: Array(UnsafeBufferPointer(start: s.p, count: s.count)))
    }

    /// The value of a one-element variable.
    public var scalarValue: Double {
        let s = slot
        require(s.count == 1, "scalarValue: variable of shape \(s.shape) has \(s.count) elements, not 1")
        return s.p[0]
    }

    /// A constant on the same tape (never differentiated).
    public func constant(_ t: Tensor) -> Variable { tape.check(self, "constant"); return tape.constant(t) }

    // MARK: Arithmetic (elementwise, broadcasting)

    /// a + b with broadcasting.
    public static func + (a: Variable, b: Variable) -> Variable { a.tape.record(.add, a, b, "add") }
    /// a − b with broadcasting.
    public static func - (a: Variable, b: Variable) -> Variable { a.tape.record(.sub, a, b, "subtract") }
    /// a ⊙ b (elementwise product) with broadcasting.
    public static func * (a: Variable, b: Variable) -> Variable { a.tape.record(.mul, a, b, "multiply") }
    /// a ⊘ b (elementwise quotient) with broadcasting.
    public static func / (a: Variable, b: Variable) -> Variable { a.tape.record(.div, a, b, "divide") }
    /// −a.
    public static prefix func - (a: Variable) -> Variable { a.tape.record(.scale(-1), a, nil, "negate") }

    /// a + c.
    public static func + (a: Variable, c: Double) -> Variable { a.tape.record(.addScalar(c), a, nil, "add") }
    /// c + a.
    public static func + (c: Double, a: Variable) -> Variable { a + c }
    /// a − c.
    public static func - (a: Variable, c: Double) -> Variable { a + (-c) }
    /// c − a.
    public static func - (c: Double, a: Variable) -> Variable { (-a) + c }
    /// c · a.
    public static func * (a: Variable, c: Double) -> Variable { a.tape.record(.scale(c), a, nil, "multiply") }
    /// c · a.
    public static func * (c: Double, a: Variable) -> Variable { a * c }
    /// a / c.
    public static func / (a: Variable, c: Double) -> Variable { a * (1 / c) }
    /// c / a elementwise.
    public static func / (c: Double, a: Variable) -> Variable { a.pow(-1) * c }

    /// a + t for a constant tensor t.
    public static func + (a: Variable, t: Tensor) -> Variable { a + a.constant(t) }
    /// t + a.
    public static func + (t: Tensor, a: Variable) -> Variable { a.constant(t) + a }
    /// a − t.
    public static func - (a: Variable, t: Tensor) -> Variable { a - a.constant(t) }
    /// t − a.
    public static func - (t: Tensor, a: Variable) -> Variable { a.constant(t) - a }
    /// a ⊙ t.
    public static func * (a: Variable, t: Tensor) -> Variable { a * a.constant(t) }
    /// t ⊙ a.
    public static func * (t: Tensor, a: Variable) -> Variable { a.constant(t) * a }
    /// a ⊘ t.
    public static func / (a: Variable, t: Tensor) -> Variable { a / a.constant(t) }
    /// t ⊘ a.
    public static func / (t: Tensor, a: Variable) -> Variable { a.constant(t) / a }

    // MARK: Elementwise functions

    /// f(a) elementwise for a function of the table (`parameter` is the exponent of `.power`).
    public func map(_ f: UnaryFunction, parameter: Double = 0) -> Variable {
        tape.record(.map(f, parameter), self, nil, "map")
    }
    /// eᵃ.
    public func exp() -> Variable { map(.exp) }
    /// log a (natural).
    public func log() -> Variable { map(.log) }
    /// tanh a.
    public func tanh() -> Variable { map(.tanh) }
    /// max(a, 0).
    public func relu() -> Variable { map(.relu) }
    /// log(1 + eᵃ), computed stably.
    public func softplus() -> Variable { map(.softplus) }
    /// 1 / (1 + e⁻ᵃ), computed stably.
    public func sigmoid() -> Variable { map(.sigmoid) }
    /// sin a.
    public func sin() -> Variable { map(.sin) }
    /// cos a.
    public func cos() -> Variable { map(.cos) }
    /// a².
    public func squared() -> Variable { map(.square) }
    /// √a.
    public func sqrt() -> Variable { map(.sqrt) }
    /// aᵖ for a constant exponent p.
    public func pow(_ p: Double) -> Variable { map(.power, parameter: p) }

    // MARK: Linear algebra

    /// op(self) · op(other) for rank-2 operands, op transposing when asked (without copying).
    public func matmul(_ other: Variable, transposeSelf: Bool = false, transposeOther: Bool = false) -> Variable {
        tape.record(.matmul(transposeSelf, transposeOther), self, other, "matmul")
    }
    /// op(self) · op(t) with a constant matrix t.
    public func matmul(_ t: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Variable {
        matmul(constant(t), transposeSelf: transposeSelf, transposeOther: transposeOther)
    }
    /// The matrix transpose (rank 2; lower ranks are returned unchanged).
    public func transposed() -> Variable { tape.record(.transpose, self, nil, "transpose") }
    /// ⟨self, other⟩ = Σᵢ selfᵢ otherᵢ, a scalar (element counts must match).
    public func dot(_ other: Variable) -> Variable { tape.record(.dot, self, other, "dot") }

    // MARK: Reductions

    /// Σ of all elements, a scalar.
    public func sum() -> Variable { tape.record(.sum(axis: nil, keep: false), self, nil, "sum") }
    /// Σ along `axis` (negative counts from the end); the axis is removed unless kept as size 1.
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Variable {
        let ax = shape.normalizedAxis(axis, op: "sum")
        return tape.record(.sum(axis: ax, keep: keepingDimension), self, nil, "sum")
    }
    /// Mean of all elements, a scalar.
    public func mean() -> Variable { sum() * (1 / Double(Swift.max(shape.count, 1))) }
    /// Mean along `axis`.
    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Variable {
        let n = shape.size(alongAxis: axis)
        return sum(alongAxis: axis, keepingDimension: keepingDimension) * (1 / Double(Swift.max(n, 1)))
    }
    /// log Σ exp along `axis`, computed stably (the maximum is subtracted first).
    public func logSumExp(alongAxis axis: Int = -1, keepingDimension: Bool = false) -> Variable {
        let ax = shape.normalizedAxis(axis, op: "logSumExp")
        return tape.record(.logSumExp(axis: ax, keep: keepingDimension), self, nil, "logSumExp")
    }
    /// exp(a) / Σ exp(a) along `axis`, computed stably.
    public func softmax(alongAxis axis: Int = -1) -> Variable {
        let ax = shape.normalizedAxis(axis, op: "softmax")
        return tape.record(.softmax(axis: ax), self, nil, "softmax")
    }
    /// a − log Σ exp(a) along `axis`, computed stably.
    public func logSoftmax(alongAxis axis: Int = -1) -> Variable {
        self - logSumExp(alongAxis: axis, keepingDimension: true)
    }

    // MARK: Shape

    /// The same elements with a new shape of equal count.
    public func reshaped(_ s: Shape) -> Variable {
        require(s.count == shape.count,
                     "reshape: cannot reshape \(shape) (\(shape.count) elements) to \(s) (\(s.count) elements)")
        return tape.record(.reshape(s), self, nil, "reshape")
    }
    /// `count` entries from `start` along `axis` (rows for axis 0 of a matrix, columns for axis 1).
    public func slice(alongAxis axis: Int, start: Int, count: Int) -> Variable {
        let ax = shape.normalizedAxis(axis, op: "slice")
        let n = shape.dimensions[ax]
        require(start >= 0 && count >= 0 && start + count <= n,
                     "slice: range \(start)..<\(start + count) is out of bounds for axis \(ax) of shape \(shape)")
        return tape.record(.slice(axis: ax, start: start, count: count), self, nil, "slice")
    }
    /// Rows `range` of a matrix (or elements of a vector).
    public func rows(_ range: Range<Int>) -> Variable { slice(alongAxis: 0, start: range.lowerBound, count: range.count) }
    /// Columns `range` of a matrix.
    public func cols(_ range: Range<Int>) -> Variable {
        require(shape.rank == 2, "cols: needs a matrix, got shape \(shape)")
        return slice(alongAxis: 1, start: range.lowerBound, count: range.count)
    }
    /// Zeros around this tensor along `axis`: it lands at `start` of a new length `total`.
    public func padded(alongAxis axis: Int, start: Int, total: Int) -> Variable {
        let ax = shape.normalizedAxis(axis, op: "pad")
        require(start >= 0 && start + shape.dimensions[ax] <= total,
                     "pad: \(shape.dimensions[ax]) entries at \(start) do not fit in \(total) along axis \(ax)")
        return tape.record(.pad(axis: ax, start: start, total: total), self, nil, "pad")
    }
    /// The concatenation of `parts` along `axis` (shapes must agree elsewhere).
    public static func concatenate(_ parts: [Variable], alongAxis axis: Int = 0) -> Variable {
        require(!parts.isEmpty, "concatenate: no tensors given")
        return parts[0].tape.recordConcat(parts, axis: axis)
    }
}
