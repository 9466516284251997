import Tape
import Layers

/// Truncated unrolling: differentiate through K inner steps of `optimizer` started at the current w
/// (fresh optimizer state). Returns the hypergradient at the unrolled w_K. From a stationary point with
/// SGD at rate α this equals the K-term Neumann hypergradient (Lorraine et al. 2020).
public struct TruncatedUnrolling<O: Optimizer>: HypergradientMethod {
    /// K, the number of inner steps differentiated through.
    public var steps: Int
    /// The inner optimizer that is unrolled (started with fresh state at w).
    public var optimizer: O
    /// K ≥ 1 steps of `optimizer`.
    public init(steps: Int, optimizer: O) {
        require(steps >= 1, "TruncatedUnrolling: steps K must be ≥ 1, got \(steps)")
        self.steps = steps
        self.optimizer = optimizer
    }
    /// The method name with its setting, "unrolled(K=…)".
    public var name: String { "unrolled(K=\(steps))" }

    /// Unrolls K steps from w (fresh optimizer state, inner steps counted from `context.innerStep`); dJ_out/dλ at w_K.
    /// `context.initialWeights` is not used.
    public func hypergradient<P: BilevelProblem>(of problem: P, lambda: Tensor, weights: Tensor,
                                                 context: HypergradientContext) throws -> Hypergradient {
        try unrolledHypergradient(problem, lambda: lambda, from: optimizer.initialState(weights: weights),
                                  unrolled: UnrolledOptimization(optimizer: optimizer, steps: steps),
                                  stepOffset: context.innerStep, name: name, tapes: context.workspace?.unrolling)
    }
}

/// Full unrolling (cold start): differentiate through the whole inner run of K steps from w₀
/// (`context.initialWeights`), ignoring the w passed in. Memory grows with K: with `checkpointInterval`
/// c the run keeps K/c + c states (c ≈ √K is best); see `UnrolledOptimization`.
public struct FullUnrolling<O: Optimizer>: HypergradientMethod {
    /// K, the length of the whole inner run from w₀.
    public var steps: Int
    /// The inner optimizer that is unrolled (started with fresh state at w₀).
    public var optimizer: O
    /// Keep every c-th state and recompute segments in the reverse pass (nil: keep every state).
    public var checkpointInterval: Int?
    /// K ≥ 1 steps of `optimizer`, optionally checkpointed every c steps.
    public init(steps: Int, optimizer: O, checkpointInterval: Int? = nil) {
        require(steps >= 1, "FullUnrolling: steps K must be ≥ 1, got \(steps)")
        self.steps = steps
        self.optimizer = optimizer
        self.checkpointInterval = checkpointInterval
    }
    /// The method name with its setting, "full-unroll(K=…)".
    public var name: String { "full-unroll(K=\(steps))" }

    /// Unrolls K steps from `context.initialWeights` (inner steps counted from 0), ignoring `weights`; dJ_out/dλ at w_K.
    /// Throws when w₀ is not given: pass `initialWeights:` (the weights the inner run starts from).
    public func hypergradient<P: BilevelProblem>(of problem: P, lambda: Tensor, weights: Tensor,
                                                 context: HypergradientContext) throws -> Hypergradient {
        guard let w0 = context.initialWeights else {
            throw BilevelError("\(name): needs the initial weights w₀ the inner run starts from (it differentiates the whole " +
                               "run from w₀ and ignores the weights passed in); pass initialWeights:")
        }
        return try unrolledHypergradient(problem, lambda: lambda, from: optimizer.initialState(weights: w0),
                                         unrolled: UnrolledOptimization(optimizer: optimizer, steps: steps, checkpointInterval: checkpointInterval),
                                         stepOffset: 0, name: name, tapes: context.workspace?.unrolling)
    }
}

private func unrolledHypergradient<P: BilevelProblem, O: Optimizer>(
    _ problem: P, lambda: Tensor, from state: OptimizerState, unrolled: UnrolledOptimization<O>,
    stepOffset: Int, name: String, tapes: UnrollingTapes?) throws -> Hypergradient {
    do {
        let (value, g) = try unrolled.hypergradient(
            outer: { l, w in problem.outerObjective(lambda: l, weights: w) },
            inner: { l, w, t in problem.innerObjective(lambda: l, weights: w, step: stepOffset + t) },
            lambda: lambda, from: state, tapes: tapes ?? UnrollingTapes())
        var diag = HypergradientDiagnostics(method: name)
        diag.iterations = unrolled.steps
        diag.products = unrolled.steps
        diag.storedStates = g.peakStoredStates
        return Hypergradient(gradient: g.lambda, outerLoss: value, diagnostics: diag)
    } catch let e as TrainingError {
        throw BilevelError("\(name): \(e.description)")
    }
}
