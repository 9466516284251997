import Tape
import Layers

/// Whether a run continues after a progress report.
public enum RunControl: Sendable { case proceed, stop }

/// A progress report, every `progressInterval` outer steps.
public struct BilevelProgress: Sendable {
    /// Outer steps completed so far.
    public var outerStep: Int
    /// The run's step cap.
    public var maxOuterSteps: Int
    /// J_out at the last outer step (before its λ update).
    public var outerLoss: Double
    /// J_in at the last outer step.
    public var innerLoss: Double
    /// ‖dJ_out/dλ‖ of the last hypergradient.
    public var hypergradientNorm: Double
}

/// The complete state of a run between outer steps: enough to checkpoint and resume bit-identically.
public struct BilevelState: Sendable {
    /// λ and the outer optimizer's state (λ is `outer.weights`).
    public var outer: OptimizerState
    /// The inner weights, optimizer state and inner step counter.
    public var inner: InnerState
    /// w₀ (cold start re-initializes to it).
    public var initialWeights: Tensor
    /// λ₀.
    public var initialLambda: Tensor
    /// Outer steps taken.
    public var outerStep: Int
    /// The current outer variable λ, shape (m).
    public var lambda: Tensor { outer.weights }
    /// The current inner weights w, shape (n).
    public var weights: Tensor { inner.weights }

    /// A state from its parts (e.g. read back from a checkpoint).
    public init(outer: OptimizerState, inner: InnerState, initialWeights: Tensor, initialLambda: Tensor, outerStep: Int) {
        self.outer = outer
        self.inner = inner
        self.initialWeights = initialWeights
        self.initialLambda = initialLambda
        self.outerStep = outerStep
    }
}

/// The result of a run.
public struct BilevelRun: Sendable {
    /// The state at the end of the run (pass it to `run(from:)` to resume).
    public var state: BilevelState
    /// What was recorded at each outer step of this run.
    public var trajectory: Trajectory
    /// True if the relative change of λ fell below the tolerance.
    public var converged: Bool
    /// True if the progress callback stopped the run.
    public var cancelled: Bool
    /// Diagnostics of the last hypergradient.
    public var lastDiagnostics: HypergradientDiagnostics?
    /// The final λ.
    public var lambda: Tensor { state.lambda }
    /// The final inner weights w.
    public var weights: Tensor { state.weights }
    /// Outer steps taken in total (including any before a resume).
    public var outerSteps: Int { state.outerStep }

    /// A result from its parts.
    public init(state: BilevelState, trajectory: Trajectory, converged: Bool, cancelled: Bool, lastDiagnostics: HypergradientDiagnostics?) {
        self.state = state
        self.trajectory = trajectory
        self.converged = converged
        self.cancelled = cancelled
        self.lastDiagnostics = lastDiagnostics
    }
}

/// Alternates inner updates (the solution concept) with outer hypergradient steps:
///   for each outer step: update w (cold: from w₀; warm: from the current w), take the hypergradient
///   with `method` at (λ, w), then λ ← outer optimizer step.
/// Stops after `maxOuterSteps`, when ‖λ_{k+1} − λ_k‖ ≤ `tolerance` · ‖λ_k‖, or when the progress
/// callback returns `.stop`.
public struct BilevelSolver<P: BilevelProblem, M: HypergradientMethod, C: SolutionConcept, O: Optimizer> {
    /// The bilevel problem being solved.
    public var problem: P
    /// How each hypergradient is computed.
    public var method: M
    /// How the inner weights are updated each outer step (cold or warm start).
    public var concept: C
    /// The optimizer that updates λ with the hypergradient.
    public var outerOptimizer: O
    /// The run stops after this many outer steps in total.
    public var maxOuterSteps: Int
    /// Relative change of λ below which the run counts as converged (nil: run all steps).
    public var tolerance: Double?
    /// Record λ every this many steps (and the last).
    public var lambdaStride: Int
    /// Seed for w₀.
    public var seed: UInt64
    /// Call `progress` every this many outer steps (and at convergence and the last step).
    public var progressInterval: Int
    /// Progress callback; returning `.stop` cancels the run.
    public var progress: ((BilevelProgress) -> RunControl)?

    /// A solver; maxOuterSteps ≥ 0, lambdaStride and progressInterval ≥ 1.
    public init(problem: P, method: M, concept: C, outerOptimizer: O, maxOuterSteps: Int, tolerance: Double? = nil,
                lambdaStride: Int = 1, seed: UInt64 = 0, progressInterval: Int = 10,
                progress: ((BilevelProgress) -> RunControl)? = nil) {
        require(maxOuterSteps >= 0, "BilevelSolver: maxOuterSteps must be ≥ 0, got \(maxOuterSteps)")
        require(lambdaStride >= 1 && progressInterval >= 1, "BilevelSolver: lambdaStride and progressInterval must be ≥ 1")
        self.problem = problem
        self.method = method
        self.concept = concept
        self.outerOptimizer = outerOptimizer
        self.maxOuterSteps = maxOuterSteps
        self.tolerance = tolerance
        self.lambdaStride = lambdaStride
        self.seed = seed
        self.progressInterval = progressInterval
        self.progress = progress
    }

    /// The state before the first outer step: λ₀ (or `lambda`), w₀ from the seed.
    public func initialState(lambda: Tensor? = nil) -> BilevelState {
        var g = SeededGenerator(seed: seed)
        let w0 = problem.initialWeights(using: &g)
        let l0 = lambda ?? problem.initialLambda
        return BilevelState(outer: outerOptimizer.initialState(weights: l0), inner: concept.initialInnerState(weights: w0),
                            initialWeights: w0, initialLambda: l0, outerStep: 0)
    }

    /// One outer step in place; returns the hypergradient used and appends to `trajectory`.
    @discardableResult
    public func step(_ s: inout BilevelState, trajectory: inout Trajectory) throws -> Hypergradient {
        try step(&s, trajectory: &trajectory, workspace: BilevelWorkspace())
    }

    /// `step` recording on the tapes of `workspace` (`run` passes the same one to every step).
    @discardableResult
    package func step(_ s: inout BilevelState, trajectory: inout Trajectory, workspace ws: BilevelWorkspace) throws -> Hypergradient {
        let lambda = s.lambda
        try concept.updateInner(problem, lambda: lambda, state: &s.inner, initialWeights: s.initialWeights, reusing: ws)
        let hg: Hypergradient
        do {
            hg = try method.hypergradient(of: problem, lambda: lambda, weights: s.weights,
                                          context: HypergradientContext(initialWeights: s.initialWeights, innerStep: s.inner.step,
                                                                        workspace: ws))
        } catch let e as BilevelError {
            throw BilevelError("outer step \(s.outerStep): \(e.description)")
        }
        let tape = ws.losses
        let outerLoss = problem.outerLoss(lambda: lambda, weights: s.weights, tape: tape)
        let innerLoss = problem.innerLoss(lambda: lambda, weights: s.weights, step: s.inner.step, tape: tape)
        guard outerLoss.isFinite else {
            throw BilevelError("outer step \(s.outerStep): the outer loss became \(outerLoss); lower the outer learning rate " +
                               "(now \(outerOptimizer.learningRate))")
        }
        trajectory.step.append(s.outerStep)
        trajectory.outerLoss.append(outerLoss)
        trajectory.innerLoss.append(innerLoss)
        trajectory.lambdaNorm.append(lambda.norm)
        trajectory.lambdaDistance.append((lambda - s.initialLambda).norm)
        trajectory.weightsNorm.append(s.weights.norm)
        trajectory.weightsDistance.append((s.weights - s.initialWeights).norm)
        trajectory.hypergradientNorm.append(hg.gradient.norm)
        let m = problem.metrics(lambda: lambda, weights: s.weights)
        if !m.isEmpty { trajectory.metrics.append(m) }
        if s.outerStep % lambdaStride == 0 { trajectory.lambdas.append((s.outerStep, lambda)) }
        outerOptimizer.update(&s.outer, gradient: hg.gradient)
        guard s.lambda.isFinite else {
            throw BilevelError("outer step \(s.outerStep): λ became non-finite; lower the outer learning rate " +
                               "(now \(outerOptimizer.learningRate))")
        }
        s.outerStep += 1
        return hg
    }

    /// Runs from `state` (default: the initial state) until convergence, the step cap, or cancellation.
    public func run(from state: BilevelState? = nil) throws -> BilevelRun {
        var s = state ?? initialState()
        var trajectory = Trajectory()
        var converged = false, cancelled = false
        var last: HypergradientDiagnostics?
        let workspace = BilevelWorkspace()
        while s.outerStep < maxOuterSteps {
            let before = s.lambda
            let hg = try step(&s, trajectory: &trajectory, workspace: workspace)
            last = hg.diagnostics
            if let tolerance, (s.lambda - before).norm <= tolerance * max(before.norm, .leastNormalMagnitude) {
                converged = true
            }
            if let progress, s.outerStep % progressInterval == 0 || converged || s.outerStep == maxOuterSteps {
                let report = BilevelProgress(outerStep: s.outerStep, maxOuterSteps: maxOuterSteps,
                                             outerLoss: trajectory.outerLoss.last ?? .nan, innerLoss: trajectory.innerLoss.last ?? .nan,
                                             hypergradientNorm: hg.gradient.norm)
                if progress(report) == .stop { cancelled = true; break }
            }
            if converged { break }
        }
        if trajectory.lambdas.last?.step != s.outerStep { trajectory.lambdas.append((s.outerStep, s.lambda)) }
        return BilevelRun(state: s, trajectory: trajectory, converged: converged, cancelled: cancelled, lastDiagnostics: last)
    }
}

/// The re-training check: train a fresh inner model from w₀ on a fixed λ with `concept` (typically a
/// `ColdStart`) and report its weights, outer loss and metrics. The gap between this and a warm-start
/// run's final outer loss is the warm-start memory diagnostic.
public func retrain<P: BilevelProblem, C: SolutionConcept>(_ problem: P, lambda: Tensor, initialWeights w0: Tensor,
                                                           concept: C) throws -> (weights: Tensor, outerLoss: Double, metrics: [String: Double]) {
    var state = concept.initialInnerState(weights: w0)
    try concept.updateInner(problem, lambda: lambda, state: &state, initialWeights: w0)
    return (state.weights, problem.outerLoss(lambda: lambda, weights: state.weights),
            problem.metrics(lambda: lambda, weights: state.weights))
}
