import Foundation
import TapeKernels

/// The elementwise functions a `Variable` can be mapped through.
///
/// Each one is a row of the table below: the function, its first derivative and its second
/// derivative side by side. The first derivative gives the JVP and the VJP; the second gives the
/// tangent of the VJP, which is what forward-over-reverse needs. Derivatives may use the
/// already-computed output `y = f(x)` (for tanh, 1 − y² is cheaper than recomputing).
public enum UnaryFunction: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case exp, log, tanh, relu, softplus, sigmoid, sin, cos, square, sqrt, power

    /// The function's short name ("exp", "relu", …; `power` is "pow").
    public var description: String {
        switch self {
        case .exp: "exp"; case .log: "log"; case .tanh: "tanh"; case .relu: "relu"
        case .softplus: "softplus"; case .sigmoid: "sigmoid"; case .sin: "sin"; case .cos: "cos"
        case .square: "square"; case .sqrt: "sqrt"; case .power: "pow"
        }
    }
}

/// One row of the table: f(x), f′(x) and f″(x), given x, y = f(x) and a parameter p
/// (the exponent of `power`; ignored by the others). `fill` is f over an array; rows with a
/// vectorized C routine (exp, tanh, sigmoid: Sources/TapeKernels/vmath.c) use it there and in `f`,
/// so a value's result is the same whichever path computed it.
protocol ScalarFunction {
    static func f(_ x: Double, _ p: Double) -> Double
    static func d1(_ x: Double, _ y: Double, _ p: Double) -> Double
    static func d2(_ x: Double, _ y: Double, _ p: Double) -> Double
    static func fill(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int, _ p: Double)
}

extension ScalarFunction {
    /// y[k] = f(x[k]) one value at a time.
    @inline(__always)
    static func fill(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int, _ p: Double) {
        for k in 0..<n { y[k] = f(x[k], p) }
    }
}

enum ExpFn: ScalarFunction {        // y = eˣ;  y′ = y;  y″ = y
    @inline(__always) static func f(_ x: Double, _ p: Double) -> Double { tk_exp(x) }
    @inline(__always) static func fill(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int, _ p: Double) { tk_vexp(x, y, n) }
    @inline(__always) static func d1(_ x: Double, _ y: Double, _ p: Double) -> Double { y }
    @inline(__always) static func d2(_ x: Double, _ y: Double, _ p: Double) -> Double { y }
}
enum LogFn: ScalarFunction {        // y = log x;  y′ = 1/x;  y″ = −1/x²
    @inline(__always) static func f(_ x: Double, _ p: Double) -> Double { Foundation.log(x) }
    @inline(__always) static func d1(_ x: Double, _ y: Double, _ p: Double) -> Double { 1 / x }
    @inline(__always) static func d2(_ x: Double, _ y: Double, _ p: Double) -> Double { -1 / (x * x) }
}
enum TanhFn: ScalarFunction {       // y = tanh x;  y′ = 1 − y²;  y″ = −2y(1 − y²)
    @inline(__always) static func f(_ x: Double, _ p: Double) -> Double { tk_tanh(x) }
    @inline(__always) static func fill(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int, _ p: Double) { tk_vtanh(x, y, n) }
    @inline(__always) static func d1(_ x: Double, _ y: Double, _ p: Double) -> Double { 1 - y * y }
    @inline(__always) static func d2(_ x: Double, _ y: Double, _ p: Double) -> Double { -2 * y * (1 - y * y) }
}
enum ReluFn: ScalarFunction {       // y = max(x, 0);  y′ = [x > 0];  y″ = 0
    @inline(__always) static func f(_ x: Double, _ p: Double) -> Double { x > 0 ? x : 0 }
    @inline(__always) static func d1(_ x: Double, _ y: Double, _ p: Double) -> Double { x > 0 ? 1 : 0 }
    @inline(__always) static func d2(_ x: Double, _ y: Double, _ p: Double) -> Double { 0 }
}
enum SoftplusFn: ScalarFunction {   // y = log(1 + eˣ) (stable form);  y′ = σ(x);  y″ = σ(x)(1 − σ(x))
    @inline(__always) static func f(_ x: Double, _ p: Double) -> Double { max(x, 0) + Foundation.log1p(Foundation.exp(-abs(x))) }
    @inline(__always) static func d1(_ x: Double, _ y: Double, _ p: Double) -> Double { SigmoidFn.f(x, p) }
    @inline(__always) static func d2(_ x: Double, _ y: Double, _ p: Double) -> Double { let s = SigmoidFn.f(x, p); return s * (1 - s) }
}
enum SigmoidFn: ScalarFunction {    // y = 1/(1 + e⁻ˣ) (stable form);  y′ = y(1 − y);  y″ = y(1 − y)(1 − 2y)
    @inline(__always) static func f(_ x: Double, _ p: Double) -> Double { tk_sigmoid(x) }
    @inline(__always) static func fill(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int, _ p: Double) { tk_vsigmoid(x, y, n) }
    @inline(__always) static func d1(_ x: Double, _ y: Double, _ p: Double) -> Double { y * (1 - y) }
    @inline(__always) static func d2(_ x: Double, _ y: Double, _ p: Double) -> Double { y * (1 - y) * (1 - 2 * y) }
}
enum SinFn: ScalarFunction {        // y = sin x;  y′ = cos x;  y″ = −y
    @inline(__always) static func f(_ x: Double, _ p: Double) -> Double { Foundation.sin(x) }
    @inline(__always) static func d1(_ x: Double, _ y: Double, _ p: Double) -> Double { Foundation.cos(x) }
    @inline(__always) static func d2(_ x: Double, _ y: Double, _ p: Double) -> Double { -y }
}
enum CosFn: ScalarFunction {        // y = cos x;  y′ = −sin x;  y″ = −y
    @inline(__always) static func f(_ x: Double, _ p: Double) -> Double { Foundation.cos(x) }
    @inline(__always) static func d1(_ x: Double, _ y: Double, _ p: Double) -> Double { -Foundation.sin(x) }
    @inline(__always) static func d2(_ x: Double, _ y: Double, _ p: Double) -> Double { -y }
}
enum SquareFn: ScalarFunction {     // y = x²;  y′ = 2x;  y″ = 2
    @inline(__always) static func f(_ x: Double, _ p: Double) -> Double { x * x }
    @inline(__always) static func d1(_ x: Double, _ y: Double, _ p: Double) -> Double { 2 * x }
    @inline(__always) static func d2(_ x: Double, _ y: Double, _ p: Double) -> Double { 2 }
}
enum SqrtFn: ScalarFunction {       // y = √x;  y′ = 1/(2y);  y″ = −1/(4y³)
    @inline(__always) static func f(_ x: Double, _ p: Double) -> Double { x.squareRoot() }
    @inline(__always) static func d1(_ x: Double, _ y: Double, _ p: Double) -> Double { 0.5 / y }
    @inline(__always) static func d2(_ x: Double, _ y: Double, _ p: Double) -> Double { -0.25 / (y * y * y) }
}
enum PowerFn: ScalarFunction {      // y = xᵖ;  y′ = p xᵖ⁻¹;  y″ = p(p − 1) xᵖ⁻²
    @inline(__always) static func f(_ x: Double, _ p: Double) -> Double { Foundation.pow(x, p) }
    @inline(__always) static func d1(_ x: Double, _ y: Double, _ p: Double) -> Double { p * Foundation.pow(x, p - 1) }
    @inline(__always) static func d2(_ x: Double, _ y: Double, _ p: Double) -> Double { p * (p - 1) * Foundation.pow(x, p - 2) }
}

/// A loop over one table row; `UnaryFunction.dispatch` picks the row with one switch per kernel
/// call, so the loop itself is specialized to the concrete function (no per-element dispatch).
protocol UnaryKernel { func run<F: ScalarFunction>(_ f: F.Type) }

extension UnaryFunction {
    @inline(__always)
    func dispatch<K: UnaryKernel>(_ kernel: K) {
        switch self {
        case .exp: kernel.run(ExpFn.self); case .log: kernel.run(LogFn.self); case .tanh: kernel.run(TanhFn.self)
        case .relu: kernel.run(ReluFn.self); case .softplus: kernel.run(SoftplusFn.self)
        case .sigmoid: kernel.run(SigmoidFn.self); case .sin: kernel.run(SinFn.self); case .cos: kernel.run(CosFn.self)
        case .square: kernel.run(SquareFn.self); case .sqrt: kernel.run(SqrtFn.self); case .power: kernel.run(PowerFn.self)
        }
    }

    /// Which of x and y = f(x) the row's f′ and f″ read (a linearization keeps only those primals).
    var derivativesRead: (x: Bool, y: Bool) {
        switch self {
        case .exp, .tanh, .sigmoid, .sqrt: (false, true)
        case .sin, .cos: (true, true)
        case .log, .relu, .softplus, .square, .power: (true, false)
        }
    }

    /// The scalar function itself, f(x) (p is the exponent of `power`).
    public func callAsFunction(_ x: Double, parameter p: Double = 0) -> Double {
        switch self {
        case .exp: ExpFn.f(x, p); case .log: LogFn.f(x, p); case .tanh: TanhFn.f(x, p); case .relu: ReluFn.f(x, p)
        case .softplus: SoftplusFn.f(x, p); case .sigmoid: SigmoidFn.f(x, p); case .sin: SinFn.f(x, p)
        case .cos: CosFn.f(x, p); case .square: SquareFn.f(x, p); case .sqrt: SqrtFn.f(x, p); case .power: PowerFn.f(x, p)
        }
    }
}
