import Tape
import Layers

/// The inner optimizer's state carried across outer steps, and the global inner step counter
/// (which stochastic objectives use to pick minibatches).
public struct InnerState: Sendable {
    /// The inner weights and the inner optimizer's state.
    public var optimizer: OptimizerState
    /// Inner steps taken so far in the whole run (index t of the next one).
    public var step: Int
    /// An inner state with the given optimizer state and step counter (default 0).
    public init(optimizer: OptimizerState, step: Int = 0) {
        self.optimizer = optimizer
        self.step = step
    }
    /// The current inner weights w, shape (n).
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
}

/// The built-in concepts, which can train on tapes the solver reuses from one outer step to the next.
package protocol TapeReusingSolutionConcept: SolutionConcept {
    /// `updateInner` recording on the tapes of `workspace`.
    func updateInner<P: BilevelProblem>(_ problem: P, lambda: Tensor, state: inout InnerState, initialWeights w0: Tensor,
                                        workspace: BilevelWorkspace) throws
}

extension SolutionConcept {
    /// `updateInner` on the workspace's tapes when the concept can use them (the built-in ones), else as it is.
    func updateInner<P: BilevelProblem>(_ problem: P, lambda: Tensor, state: inout InnerState, initialWeights w0: Tensor,
                                        reusing workspace: BilevelWorkspace) throws {
        if let concept = self as? any TapeReusingSolutionConcept {
            try concept.updateInner(problem, lambda: lambda, state: &state, initialWeights: w0, workspace: workspace)
        } else {
            try updateInner(problem, lambda: lambda, state: &state, initialWeights: w0)
        }
    }
}

/// The closed-form inner solution from `start`, when the problem has one (`ClosedFormInnerSolution`).
func closedFormInnerSolution<P: BilevelProblem>(_ problem: P, lambda: Tensor, from start: Tensor) -> Tensor? {
    (problem as? any ClosedFormInnerSolution)?.solveInner(lambda: lambda, from: start)
}

/// Runs the inner optimizer for at most `steps` steps, stopping early when ‖∂J_in/∂w‖ ≤ tolerance.
func trainInner<P: BilevelProblem, O: Optimizer>(_ problem: P, _ optimizer: O, lambda: Tensor, state: inout InnerState,
                                                 steps: Int, tolerance: Double?, tapes: UnrollingTapes) throws {
    for _ in 0..<steps {
        let t = state.step
        let (value, grads) = tapes.gradient.valueAndGradient(of: { v in problem.innerObjective(lambda: v[0], weights: v[1], step: t) },
                                                      at: [lambda, state.optimizer.weights], wrt: [1])
        guard value.isFinite, grads[0].isFinite else {
            throw BilevelError("inner optimization: the inner loss became \(value) at inner step \(t); it diverged — " +
                               "lower the inner learning rate (now \(optimizer.learningRate))")
        }
        if let tolerance, grads[0].norm <= tolerance { return }
        optimizer.update(&state.optimizer, gradient: grads[0], tape: tapes.step)
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
public struct ColdStart<O: Optimizer>: TapeReusingSolutionConcept {
    /// The inner optimizer.
    public var optimizer: O
    /// At most this many inner steps per outer step (unused when the exact solve applies).
    public var steps: Int
    /// Stop the inner run early when ‖∂J_in/∂w‖ ≤ this (nil: always run `steps`).
    public var gradientTolerance: Double?
    /// Use the problem's closed-form inner solution from w₀ when it has one (`ClosedFormInnerSolution`).
    public var useExactSolve: Bool
    /// Cold start with `steps` ≥ 0 inner steps per outer step.
    public init(optimizer: O, steps: Int, gradientTolerance: Double? = nil, useExactSolve: Bool = true) {
        require(steps >= 0, "ColdStart: steps must be ≥ 0, got \(steps)")
        self.optimizer = optimizer
        self.steps = steps
        self.gradientTolerance = gradientTolerance
        self.useExactSolve = useExactSolve
    }
    /// The concept name, "cold".
    public var name: String { "cold" }

    /// Fresh optimizer state at w₀, inner step 0.
    public func initialInnerState(weights w0: Tensor) -> InnerState { InnerState(optimizer: optimizer.initialState(weights: w0)) }

    /// Resets to w₀ with fresh optimizer state, then the exact solve or up to `steps` optimizer steps.
    public func updateInner<P: BilevelProblem>(_ problem: P, lambda: Tensor, state: inout InnerState, initialWeights w0: Tensor) throws {
        try updateInner(problem, lambda: lambda, state: &state, initialWeights: w0, workspace: BilevelWorkspace())
    }

    /// The same, with the inner-training tapes of `workspace` (reused across outer steps).
    package func updateInner<P: BilevelProblem>(_ problem: P, lambda: Tensor, state: inout InnerState, initialWeights w0: Tensor,
                                                workspace: BilevelWorkspace) throws {
        if useExactSolve, let w = closedFormInnerSolution(problem, lambda: lambda, from: w0) {
            state = InnerState(optimizer: optimizer.initialState(weights: w))
            return
        }
        state = InnerState(optimizer: optimizer.initialState(weights: w0))
        try trainInner(problem, optimizer, lambda: lambda, state: &state, steps: steps, tolerance: gradientTolerance,
                       tapes: workspace.unrolling)
    }
}

/// Warm start: each outer step continues the inner optimizer from the previous w (and optimizer state).
/// Partial warm start runs `stepsPerOuterStep` = T steps (T = 1 is the usual case); full warm start runs to
/// convergence: `stepsPerOuterStep` as a cap with a `gradientTolerance`, or the problem's exact inner solve
/// started from the *current* w (`useExactSolve`), which is the projection of w onto the solution set.
public struct WarmStart<O: Optimizer>: TapeReusingSolutionConcept {
    /// The inner optimizer.
    public var optimizer: O
    /// T, the inner steps per outer step (the cap for full warm start).
    public var stepsPerOuterStep: Int
    /// Stop the inner steps early when ‖∂J_in/∂w‖ ≤ this (nil: always run T).
    public var gradientTolerance: Double?
    /// Use the problem's closed-form inner solution from the current w when it has one (`ClosedFormInnerSolution`).
    public var useExactSolve: Bool
    /// Warm start with T = `stepsPerOuterStep` ≥ 0 (default 1: partial warm start).
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
    /// The concept name: "warm(full)" with an exact solve or a tolerance, else "warm(T=…)".
    public var name: String { useExactSolve || gradientTolerance != nil ? "warm(full)" : "warm(T=\(stepsPerOuterStep))" }

    /// Fresh optimizer state at w₀, inner step 0.
    public func initialInnerState(weights w0: Tensor) -> InnerState { InnerState(optimizer: optimizer.initialState(weights: w0)) }

    /// Continues from the current w and optimizer state: the exact solve, or up to T optimizer steps.
    public func updateInner<P: BilevelProblem>(_ problem: P, lambda: Tensor, state: inout InnerState, initialWeights w0: Tensor) throws {
        try updateInner(problem, lambda: lambda, state: &state, initialWeights: w0, workspace: BilevelWorkspace())
    }

    /// The same, with the inner-training tapes of `workspace` (reused across outer steps).
    package func updateInner<P: BilevelProblem>(_ problem: P, lambda: Tensor, state: inout InnerState, initialWeights w0: Tensor,
                                                workspace: BilevelWorkspace) throws {
        if useExactSolve, let w = closedFormInnerSolution(problem, lambda: lambda, from: state.optimizer.weights) {
            state.optimizer.weights = w
            return
        }
        try trainInner(problem, optimizer, lambda: lambda, state: &state, steps: stepsPerOuterStep,
                       tolerance: gradientTolerance, tapes: workspace.unrolling)
    }
}
