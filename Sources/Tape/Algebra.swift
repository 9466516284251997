/// The small tensor algebra every derivative rule is written in.
///
/// A rule (`Rules.swift`) states each operation's forward value and its vector–Jacobian product
/// using only these primitives, generically over the algebra. Run with `Dual` values (a primal
/// buffer plus an optional tangent buffer), the very same VJP code computes the gradient *and*
/// its directional derivative in one sweep: that is forward-over-reverse, with no second set of
/// rules. Broadcasting follows `Shape.broadcast`.
protocol TensorAlgebra {
    associatedtype Value
    func shape(of a: Value) -> Shape
    /// a + b, a − b, a ⊙ b, a ⊘ b with broadcasting.
    func add(_ a: Value, _ b: Value) -> Value
    func sub(_ a: Value, _ b: Value) -> Value
    func mul(_ a: Value, _ b: Value) -> Value
    func div(_ a: Value, _ b: Value) -> Value
    /// c · a and a + c for a constant c.
    func scale(_ a: Value, _ c: Double) -> Value
    func addScalar(_ a: Value, _ c: Double) -> Value
    /// f(a) elementwise, and g ⊙ f′(a) given y = f(a) (the VJP of a map, one fused pass).
    func map(_ f: UnaryFunction, _ a: Value, _ p: Double) -> Value
    func derivativeProduct(_ f: UnaryFunction, _ g: Value, _ a: Value, _ y: Value, _ p: Double) -> Value
    /// op(a) · op(b), op transposing when asked.
    func matmul(_ a: Value, _ b: Value, _ ta: Bool, _ tb: Bool) -> Value
    func transpose(_ a: Value) -> Value
    /// Σ along `axis` (nil: everything).
    func sum(_ a: Value, axis: Int?, keep: Bool) -> Value
    func reshape(_ a: Value, _ s: Shape) -> Value
    /// `count` entries from `start` along `axis`; `pad` is its adjoint (zeros elsewhere).
    func slice(_ a: Value, axis: Int, start: Int, count: Int) -> Value
    func pad(_ a: Value, axis: Int, start: Int, total: Int) -> Value
    func softmax(_ a: Value, axis: Int) -> Value
    func logSumExp(_ a: Value, axis: Int, keep: Bool) -> Value
    /// ⟨a, b⟩ as a scalar.
    func dot(_ a: Value, _ b: Value) -> Value
}
