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
    /// Extra numbers to report for (λ, w), e.g. accuracy on the original data. Default: none.
    func metrics(lambda: Tensor, weights: Tensor) -> [String: Double]
}

/// A bilevel problem whose inner problem has a closed-form solution from any start, e.g. least squares,
/// where gradient descent from w₀ converges to w* = w₀ + Φ⁺(t − Φw₀). `ColdStart` (from w₀) and full
/// `WarmStart` (from the current w) use it instead of running the inner optimizer (`useExactSolve`).
///
/// Opting in is a conformance, so the compiler checks the signature: a `solveInner` that does not match
/// the requirement is an error, not a method that is silently never called.
public protocol ClosedFormInnerSolution: BilevelProblem {
    /// The inner solution the inner optimizer would converge to from w₀, shape (n).
    func solveInner(lambda: Tensor, from w0: Tensor) -> Tensor
}

extension BilevelProblem {
    /// This problem with the closed-form inner solution `solve(λ, w₀)` (see `ClosedFormInnerSolution`).
    public func withClosedFormInnerSolution(
        _ solve: @escaping (_ lambda: Tensor, _ w0: Tensor) -> Tensor) -> ProblemWithClosedFormInnerSolution<Self> {
        ProblemWithClosedFormInnerSolution(problem: self, solution: solve)
    }

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

    /// - Parameters: λ₀ (m), w₀ (n), inner J_in(λ, w, t), outer J_out(λ, w). Add a closed-form inner
    ///   solution with `withClosedFormInnerSolution(_:)`.
    public init(initialLambda: Tensor, initialWeights: Tensor,
                inner: @escaping (_ lambda: Variable, _ weights: Variable, _ step: Int) -> Variable,
                outer: @escaping (_ lambda: Variable, _ weights: Variable) -> Variable) {
        self.initialLambda = initialLambda
        self.initialWeightsValue = initialWeights
        self.inner = inner
        self.outer = outer
    }

    /// The stored w₀; the generator is not used.
    public func initialWeights(using generator: inout SeededGenerator) -> Tensor { initialWeightsValue }
    /// Calls the `inner` closure.
    public func innerObjective(lambda: Variable, weights: Variable, step: Int) -> Variable { inner(lambda, weights, step) }
    /// Calls the `outer` closure.
    public func outerObjective(lambda: Variable, weights: Variable) -> Variable { outer(lambda, weights) }
}

/// A problem with a closed-form inner solution given as a closure (`withClosedFormInnerSolution(_:)`):
/// the objectives, λ₀, w₀ and metrics are the wrapped problem's.
public struct ProblemWithClosedFormInnerSolution<Problem: BilevelProblem>: ClosedFormInnerSolution {
    /// The wrapped problem.
    public var problem: Problem
    /// (λ, w₀) ↦ w*.
    public var solution: (_ lambda: Tensor, _ w0: Tensor) -> Tensor

    /// λ₀ of the wrapped problem.
    public var initialLambda: Tensor { problem.initialLambda }
    /// w₀ of the wrapped problem.
    public func initialWeights(using generator: inout SeededGenerator) -> Tensor { problem.initialWeights(using: &generator) }
    /// J_in of the wrapped problem.
    public func innerObjective(lambda: Variable, weights: Variable, step: Int) -> Variable {
        problem.innerObjective(lambda: lambda, weights: weights, step: step)
    }
    /// J_out of the wrapped problem.
    public func outerObjective(lambda: Variable, weights: Variable) -> Variable { problem.outerObjective(lambda: lambda, weights: weights) }
    /// The metrics of the wrapped problem.
    public func metrics(lambda: Tensor, weights: Tensor) -> [String: Double] { problem.metrics(lambda: lambda, weights: weights) }
    /// Calls `solution`.
    public func solveInner(lambda: Tensor, from w0: Tensor) -> Tensor { solution(lambda, w0) }
}

/// A failure of a bilevel computation: the message names the method and what to change.
public struct BilevelError: Error, CustomStringConvertible {
    /// The message: the method and what to change.
    public var description: String
    /// An error with the given message.
    public init(_ description: String) { self.description = description }
}
