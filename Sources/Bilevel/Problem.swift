import Tape
import Layers

/// A bilevel problem:  λ* ∈ argmin_λ J_out(λ, w*(λ))  with  w*(λ) ∈ argmin_w J_in(λ, w).
///
/// λ (m) and w (n) are flat vectors (use a `ParameterLayout` to give them structure: synthetic images
/// plus soft labels, an MLP's weights, …). Both objectives are written with tape operations; every
/// hypergradient method, solution concept and diagnostic is generic over this protocol.
public protocol BilevelProblem {
    /// The initial outer variable λ₀, shape (m).
    var initialLambda: Tensor { get }
    /// The initial inner weights w₀, shape (n) (may come from a seeded initializer).
    func initialWeights(using generator: inout SeededGenerator) -> Tensor
    /// J_in(λ, w) at inner step t (a stochastic objective draws minibatch t from a seeded generator;
    /// the same t must give the same batch). Scalar.
    func innerObjective(lambda: Variable, weights: Variable, step: Int) -> Variable
    /// J_out(λ, w). Scalar.
    func outerObjective(lambda: Variable, weights: Variable) -> Variable
    /// An exact inner solve from w₀, when the problem has one (e.g. least squares:
    /// w* = w₀ + Φ⁺(t − Φw₀), the point gradient descent from w₀ converges to); nil otherwise,
    /// and the drivers run the inner optimizer. Default: nil.
    func solveInner(lambda: Tensor, from w0: Tensor) -> Tensor?
    /// Extra numbers to report for (λ, w), e.g. accuracy on the original data. Default: none.
    func metrics(lambda: Tensor, weights: Tensor) -> [String: Double]
}

extension BilevelProblem {
    /// Default: no exact inner solve (nil).
    public func solveInner(lambda: Tensor, from w0: Tensor) -> Tensor? { nil }
    /// Default: no extra metrics.
    public func metrics(lambda: Tensor, weights: Tensor) -> [String: Double] { [:] }

    /// J_in(λ, w) at step t, evaluated.
    public func innerLoss(lambda: Tensor, weights: Tensor, step: Int = 0, tape: Tape = Tape()) -> Double {
        tape.evaluate({ v in innerObjective(lambda: v[0], weights: v[1], step: step) }, at: [lambda, weights]).scalar
    }

    /// J_out(λ, w), evaluated.
    public func outerLoss(lambda: Tensor, weights: Tensor, tape: Tape = Tape()) -> Double {
        tape.evaluate({ v in outerObjective(lambda: v[0], weights: v[1]) }, at: [lambda, weights]).scalar
    }
}

/// A bilevel problem given as closures (for quick experiments and tests).
public struct ClosureProblem: BilevelProblem {
    /// λ₀, shape (m).
    public var initialLambda: Tensor
    /// w₀, shape (n), returned by `initialWeights(using:)` whatever the generator.
    public var initialWeightsValue: Tensor
    /// J_in(λ, w, t).
    public var inner: (Variable, Variable, Int) -> Variable
    /// J_out(λ, w).
    public var outer: (Variable, Variable) -> Variable
    /// The exact inner solve (λ, w₀) ↦ w*, if any.
    public var exactInnerSolve: ((Tensor, Tensor) -> Tensor)?

    /// - Parameters: inner J_in(λ, w, t), outer J_out(λ, w), optional exact inner solve (λ, w₀) ↦ w*.
    public init(initialLambda: Tensor, initialWeights: Tensor,
                inner: @escaping (_ lambda: Variable, _ weights: Variable, _ step: Int) -> Variable,
                outer: @escaping (_ lambda: Variable, _ weights: Variable) -> Variable,
                solveInner: ((_ lambda: Tensor, _ w0: Tensor) -> Tensor)? = nil) {
        self.initialLambda = initialLambda
        self.initialWeightsValue = initialWeights
        self.inner = inner
        self.outer = outer
        self.exactInnerSolve = solveInner
    }

    /// The stored w₀; the generator is not used.
    public func initialWeights(using generator: inout SeededGenerator) -> Tensor { initialWeightsValue }
    /// Calls the `inner` closure.
    public func innerObjective(lambda: Variable, weights: Variable, step: Int) -> Variable { inner(lambda, weights, step) }
    /// Calls the `outer` closure.
    public func outerObjective(lambda: Variable, weights: Variable) -> Variable { outer(lambda, weights) }
    /// Calls `exactInnerSolve`, or nil when there is none.
    public func solveInner(lambda: Tensor, from w0: Tensor) -> Tensor? { exactInnerSolve?(lambda, w0) }
}

/// A failure of a bilevel computation: the message names the method and what to change.
public struct BilevelError: Error, CustomStringConvertible {
    /// The message: the method and what to change.
    public var description: String
    /// An error with the given message.
    public init(_ description: String) { self.description = description }
}
