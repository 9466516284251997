import Tape
import Layers

/// The inner optimizer's state carried across outer steps, and the global inner step counter
/// (which stochastic objectives use to pick minibatches).
public struct InnerState: Sendable {
    public var optimizer: OptimizerState
    public var step: Int
    public init(optimizer: OptimizerState, step: Int = 0) {
        self.optimizer = optimizer
        self.step = step
    }
    public var weights: Tensor { optimizer.weights }
}

/// A solution concept: how the inner weights are updated in each outer step.
public protocol SolutionConcept: Sendable {
    /// A short name, e.g. "cold" or "warm(T=1)".
    var name: String { get }
    /// The inner state to start a run with, at w₀.
    func initialInnerState(weights w0: Tensor) -> InnerState
    /// Updates the inner weights for outer value λ (w₀ is the run's initial weights).
    func updateInner<P: BilevelProblem>(_ problem: P, lambda: Tensor, state: inout InnerState, initialWeights w0: Tensor) throws
    /// The same, reusing the tapes of `workspace` (what `BilevelSolver` calls). Default: ignores the workspace.
    func updateInner<P: BilevelProblem>(_ problem: P, lambda: Tensor, state: inout InnerState, initialWeights w0: Tensor,
                                        workspace: BilevelWorkspace) throws
}

extension SolutionConcept {
    public func updateInner<P: BilevelProblem>(_ problem: P, lambda: Tensor, state: inout InnerState, initialWeights w0: Tensor,
                                               workspace: BilevelWorkspace) throws {
        try updateInner(problem, lambda: lambda, state: &state, initialWeights: w0)
    }
}

/// Runs the inner optimizer for at most `steps` steps, stopping early when ‖∂J_in/∂w‖ ≤ tolerance.
func trainInner<P: BilevelProblem, O: Optimizer>(_ problem: P, _ optimizer: O, lambda: Tensor, state: inout InnerState,
                                                 steps: Int, tolerance: Double?, tapes: (Tape, Tape)) throws {
    for _ in 0..<steps {
        let t = state.step
        let (value, grads) = tapes.0.valueAndGradient(of: { v in problem.innerObjective(lambda: v[0], weights: v[1], step: t) },
                                                      at: [lambda, state.optimizer.weights], wrt: [1])
        guard value.isFinite, grads[0].isFinite else {
            throw BilevelError("inner optimization: the inner loss became \(value) at inner step \(t); it diverged — " +
                               "lower the inner learning rate (now \(optimizer.hyperparameters.scalars[0]))")
        }
        if let tolerance, grads[0].norm <= tolerance { return }
        optimizer.update(&state.optimizer, gradient: grads[0], tape: tapes.1)
        state.step += 1
    }
}

/// Cold start: every outer step re-initializes w ← w₀ (and the optimizer state) and solves the inner
/// problem again — with the problem's exact inner solve when it has one (and `useExactSolve`), otherwise
/// `steps` optimizer steps (or until ‖∂J_in/∂w‖ ≤ `gradientTolerance`).
///
/// The inner step counter restarts at 0 too **(ours)**: a stochastic objective sees the same minibatches
/// t = 0, 1, … in every cold start, so the trained w(λ) is a deterministic function of λ — exactly the
/// function `FullUnrolling` differentiates (it replays steps 0 … K−1 from w₀).
public struct ColdStart<O: Optimizer>: SolutionConcept {
    public var optimizer: O
    public var steps: Int
    public var gradientTolerance: Double?
    public var useExactSolve: Bool
    public init(optimizer: O, steps: Int, gradientTolerance: Double? = nil, useExactSolve: Bool = true) {
        require(steps >= 0, "ColdStart: steps must be ≥ 0, got \(steps)")
        self.optimizer = optimizer
        self.steps = steps
        self.gradientTolerance = gradientTolerance
        self.useExactSolve = useExactSolve
    }
    public var name: String { "cold" }

    public func initialInnerState(weights w0: Tensor) -> InnerState { InnerState(optimizer: optimizer.initialState(weights: w0)) }

    public func updateInner<P: BilevelProblem>(_ problem: P, lambda: Tensor, state: inout InnerState, initialWeights w0: Tensor) throws {
        try updateInner(problem, lambda: lambda, state: &state, initialWeights: w0, workspace: BilevelWorkspace())
    }

    public func updateInner<P: BilevelProblem>(_ problem: P, lambda: Tensor, state: inout InnerState, initialWeights w0: Tensor,
                                               workspace: BilevelWorkspace) throws {
        if useExactSolve, let w = problem.solveInner(lambda: lambda, from: w0) {
            state = InnerState(optimizer: optimizer.initialState(weights: w))
            return
        }
        state = InnerState(optimizer: optimizer.initialState(weights: w0))
        try trainInner(problem, optimizer, lambda: lambda, state: &state, steps: steps, tolerance: gradientTolerance,
                       tapes: (workspace.innerGradient, workspace.innerStep))
    }
}

/// Warm start: each outer step continues the inner optimizer from the previous w (and optimizer state).
/// Partial warm start runs `stepsPerOuterStep` = T steps (T = 1 is the usual case); full warm start runs to
/// convergence: `stepsPerOuterStep` as a cap with a `gradientTolerance`, or the problem's exact inner solve
/// started from the *current* w (`useExactSolve`), which is the projection of w onto the solution set.
public struct WarmStart<O: Optimizer>: SolutionConcept {
    public var optimizer: O
    public var stepsPerOuterStep: Int
    public var gradientTolerance: Double?
    public var useExactSolve: Bool
    public init(optimizer: O, stepsPerOuterStep: Int = 1, gradientTolerance: Double? = nil, useExactSolve: Bool = false) {
        require(stepsPerOuterStep >= 0, "WarmStart: stepsPerOuterStep must be ≥ 0, got \(stepsPerOuterStep)")
        self.optimizer = optimizer
        self.stepsPerOuterStep = stepsPerOuterStep
        self.gradientTolerance = gradientTolerance
        self.useExactSolve = useExactSolve
    }
    /// Full warm start: to convergence (exact solve from the current w when the problem has one).
    public static func full(optimizer: O, maxSteps: Int = 10_000, gradientTolerance: Double = 1e-10) -> WarmStart {
        WarmStart(optimizer: optimizer, stepsPerOuterStep: maxSteps, gradientTolerance: gradientTolerance, useExactSolve: true)
    }
    public var name: String { useExactSolve || gradientTolerance != nil ? "warm(full)" : "warm(T=\(stepsPerOuterStep))" }

    public func initialInnerState(weights w0: Tensor) -> InnerState { InnerState(optimizer: optimizer.initialState(weights: w0)) }

    public func updateInner<P: BilevelProblem>(_ problem: P, lambda: Tensor, state: inout InnerState, initialWeights w0: Tensor) throws {
        try updateInner(problem, lambda: lambda, state: &state, initialWeights: w0, workspace: BilevelWorkspace())
    }

    public func updateInner<P: BilevelProblem>(_ problem: P, lambda: Tensor, state: inout InnerState, initialWeights w0: Tensor,
                                               workspace: BilevelWorkspace) throws {
        if useExactSolve, let w = problem.solveInner(lambda: lambda, from: state.optimizer.weights) {
            state.optimizer.weights = w
            return
        }
        try trainInner(problem, optimizer, lambda: lambda, state: &state, steps: stepsPerOuterStep,
                       tolerance: gradientTolerance, tapes: (workspace.innerGradient, workspace.innerStep))
    }
}
