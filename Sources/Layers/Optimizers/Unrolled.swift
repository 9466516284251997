import Tape

/// The inner objective of an unrolled run, J(λ, w, t): λ is the outer variable (any shape), w the flat
/// weights (n), t the step index (so a stochastic objective can pick minibatch t deterministically:
/// the reverse pass recomputes it and must get the same batch).
public typealias InnerObjective = (_ lambda: Variable, _ weights: Variable, _ step: Int) -> Variable

/// The two tapes an unrolled run records on, reused across calls by the bilevel driver: one for the
/// gradients (and Hessian-vector products) of J, one for the optimizer's step (evaluated, or differentiated
/// by a VJP in the reverse pass).
package struct UnrollingTapes {
    package let gradient: Tape
    package let step: Tape
    /// One tape per step of a short segment, each holding that step's linearized gradient until the sweep back.
    package let linearizations = TapeShelf()
    package init(gradient: Tape = Tape(), step: Tape = Tape()) { self.gradient = gradient; self.step = step }
}

/// Tapes made on demand and kept for the next call.
package final class TapeShelf {
    private var tapes: [Tape] = []
    /// The i-th tape (made on first use).
    package subscript(i: Int) -> Tape {
        while tapes.count <= i { tapes.append(Tape()) }
        return tapes[i]
    }
}

/// Differentiation through K optimizer steps  s_{t+1} = Φ(s_t, ∇_w J(λ, w_t, t), h, t),  s = (w, slots).
///
/// Reverse pass (adjoint s̄, starting from ∂J_out/∂w_K): for t = K−1 … 0,
///   (w̄, s̄lots, ḡ, h̄ₜ) = VJP of the step Φ;   λ̄ += Mₜᵀ ḡ;   w̄ += Hₜ ḡ;   h̄ += h̄ₜ,
/// with Hₜ = ∂²J/∂w² and Mₜ = ∂²J/∂w∂λ at (λ, w_t); both products come from one forward-over-reverse
/// sweep (`hessianVectorProduct` along (0, ḡ)). For SGD this is the PRIMER's  λ̄ −= α Mᵀa,  a ← a − α H a.
///
/// Memory: storing every state costs K · (2 + stateCount) · n doubles (states and gradients). With
/// `checkpointInterval` = c only every c-th state is kept and each segment is recomputed in the reverse
/// pass: (K/c + c) · (2 + stateCount) · n doubles, minimal at c ≈ √K, for one extra forward pass. A last
/// segment of at most 16 steps also keeps each step's linearized gradient (about 0.8× one HVP's tape each), so its
/// Hessian-vector products replay only their tangent half (same bits as fresh ones).
/// Recomputation runs the same operations in the same order, so results are bit-identical.
public struct UnrolledOptimization<O: Optimizer>: Sendable {
    /// The optimizer whose steps are differentiated through.
    public var optimizer: O
    /// K, the number of steps differentiated through.
    public var steps: Int
    /// Keep every c-th state and recompute segments (nil: keep every state).
    public var checkpointInterval: Int?

    /// K = `steps` ≥ 0 steps of `optimizer`; `checkpointInterval` c > 0 or nil (keep every state).
    public init(optimizer: O, steps: Int, checkpointInterval: Int? = nil) {
        require(steps >= 0, "UnrolledOptimization: steps must be ≥ 0, got \(steps)")
        require(checkpointInterval.map { $0 > 0 } ?? true, "UnrolledOptimization: checkpoint interval must be positive")
        self.optimizer = optimizer
        self.steps = steps
        self.checkpointInterval = checkpointInterval
    }

    /// Result of a differentiated run.
    public struct Gradients: Sendable {
        /// The state after K steps.
        public var final: OptimizerState
        /// Total derivative of the scalar  c · w_K  (c the weights cotangent) with respect to λ, through all K steps.
        public var lambda: Tensor
        /// … with respect to the initial weights w₀.
        public var initialWeights: Tensor
        /// … with respect to the optimizer hyperparameters h (h[0] = learning rate).
        public var hyperparameters: Tensor
        /// Largest number of states held at once (the memory cost in units of (2 + stateCount)·n doubles).
        public var peakStoredStates: Int
    }

    /// Runs the K steps forward from `initial` (a state of this optimizer: `optimizer.initialState(weights:)`)
    /// without differentiating; throws if a loss or weight becomes non-finite.
    public func run(_ objective: InnerObjective, lambda: Tensor, from initial: OptimizerState) throws -> OptimizerState {
        try run(objective, lambda: lambda, from: initial, tapes: UnrollingTapes())
    }

    /// `run` recording on the given tapes (reused across calls, so their buffers are not allocated again).
    package func run(_ objective: InnerObjective, lambda: Tensor, from initial: OptimizerState,
                     tapes: UnrollingTapes) throws -> OptimizerState {
        optimizer.requireFits(initial, "UnrolledOptimization.run")
        var state = initial
        for _ in 0..<steps { _ = try advance(&state, objective, lambda, tapes) }
        return state
    }

    /// Differentiates v = c·w_K through the K steps from `initial` (a state of this optimizer): returns the
    /// final state and ∂v/∂λ, ∂v/∂w₀, ∂v/∂h (the response-term part of a hypergradient; add ∂J_out/∂λ
    /// yourself, or use `hypergradient`).
    public func reverse(_ objective: InnerObjective, lambda: Tensor, from initial: OptimizerState,
                        weightsCotangent: Tensor) throws -> Gradients {
        try reverse(objective, lambda: lambda, from: initial, weightsCotangent: weightsCotangent, tapes: UnrollingTapes())
    }

    /// `reverse` recording on the given tapes.
    package func reverse(_ objective: InnerObjective, lambda: Tensor, from initial: OptimizerState,
                         weightsCotangent: Tensor, tapes: UnrollingTapes) throws -> Gradients {
        require(weightsCotangent.shape == initial.weights.shape,
                     "UnrolledOptimization: cotangent of shape \(weightsCotangent.shape) does not match weights of shape \(initial.weights.shape)")
        return try differentiate(objective, lambda: lambda, from: initial, tapes: tapes) { _ in weightsCotangent }
    }

    /// One forward run of the K steps, then the reverse sweep from the cotangent `cotangent(w_K)` asks for
    /// once the final state is known. The forward keeps the segment starts 0, c, 2c, … and the states and
    /// gradients of the last segment, so that segment is swept back without recomputation (with no
    /// checkpointing: the whole run is one segment and nothing is recomputed; K gradients and K HVPs in all).
    private func differentiate(_ objective: InnerObjective, lambda: Tensor, from initial: OptimizerState, tapes: UnrollingTapes,
                               cotangent: (OptimizerState) throws -> Tensor) throws -> Gradients {
        optimizer.requireFits(initial, "UnrolledOptimization.reverse")
        let interval = checkpointInterval ?? max(steps, 1)
        let lastStart = steps == 0 ? 0 : (steps - 1) / interval * interval
        var checkpoints: [OptimizerState] = [initial]
        var lastStates: [OptimizerState] = [], lastGradients: [Tensor] = []
        var lastLinearizations: [Linearization] = []
        // A segment of at most `linearizedSegment` steps is swept back through linearizations recorded in the
        // forward pass (one tape per step): each step's H·ḡ is then the tangent half of its sweep alone (6 matrix
        // products per dense layer against a fresh HVP's 8, no primal rework), with the same bits. Longer segments
        // would hold a tape per step, so they take fresh HVPs.
        let linearizeLast = steps - lastStart <= Self.linearizedSegment
        var state = initial
        for t in 0..<steps {
            if t >= lastStart { lastStates.append(state) }
            if t >= lastStart && linearizeLast {
                let l = try advanceLinearized(&state, objective, lambda, tapes, tape: tapes.linearizations[t - lastStart])
                lastLinearizations.append(l)
                lastGradients.append(l.gradients[1])
            } else {
                let g = try advance(&state, objective, lambda, tapes)
                if t >= lastStart { lastGradients.append(g) }
            }
            if (t + 1) % interval == 0 && t + 1 < steps { checkpoints.append(state) }
        }
        let final = state
        var wBar = try cotangent(final)
        require(wBar.shape == initial.weights.shape,
                "UnrolledOptimization: cotangent of shape \(wBar.shape) does not match weights of shape \(initial.weights.shape)")
        var peak = checkpoints.count + lastStates.count
        var slotBars = Array(repeating: Tensor.zeros(initial.weights.shape), count: optimizer.stateCount)
        var lambdaBar = Tensor.zeros(lambda.shape)
        var hBar = Tensor.zeros(optimizer.hyperparameters.shape)
        let m = optimizer.stateCount
        var products: [Tensor] = []   // (∂²J/∂λ∂w·ḡ, ∂²J/∂w²·ḡ) of the current step, reused
        // Reverse, segment by segment: the last from the forward's record, the others recomputed from their start.
        for (segment, start) in checkpoints.enumerated().reversed() {
            var states: [OptimizerState] = [], gradients: [Tensor] = [], linearizations: [Linearization] = []
            if segment == checkpoints.count - 1 {
                swap(&states, &lastStates)
                swap(&gradients, &lastGradients)
                swap(&linearizations, &lastLinearizations)
            } else {
                let end = start.iteration + interval
                var s = start
                while s.iteration < end {
                    states.append(s)
                    gradients.append(try advance(&s, objective, lambda, tapes))
                }
                peak = max(peak, segment + 1 + states.count)
            }
            for (k, (st, g)) in zip(states, gradients).enumerated().reversed() {
                let inputs = [st.weights] + st.slots + [g, optimizer.hyperparameters]
                let opt = optimizer
                let r = tapes.step.vjp(of: { opt.stepOutputs($0, iteration: st.iteration) }, at: inputs,
                                    cotangents: [wBar] + slotBars)
                let gBar = r.cotangents[1 + m]
                if k < linearizations.count {
                    linearizations[k].hessianVectorProduct(along: [nil, gBar], into: &products)
                } else {
                    tapes.gradient.hessianVectorProduct(of: { objective($0[0], $0[1], st.iteration - initial.iteration) },
                                                 at: [lambda, st.weights], along: [nil, gBar], into: &products)
                }
                lambdaBar = lambdaBar + products[0]
                wBar = r.cotangents[0] + products[1]
                slotBars = Array(r.cotangents[1..<1 + m])
                hBar = hBar + r.cotangents[2 + m]
            }
        }
        guard lambdaBar.isFinite, wBar.isFinite, hBar.isFinite else {
            throw TrainingError("UnrolledOptimization: the reverse pass produced a non-finite hypergradient over \(steps) steps; " +
                                "lower the inner learning rate (now \(optimizer.learningRate)) or the number of steps")
        }
        return Gradients(final: final, lambda: lambdaBar, initialWeights: wBar, hyperparameters: hBar, peakStoredStates: peak)
    }

    /// The hypergradient of J_out(λ, w_K(λ)) through the K steps: its value, the total derivative
    /// dJ_out/dλ = ∂J_out/∂λ + (∂w_K/∂λ)ᵀ ∂J_out/∂w, and the derivatives with respect to w₀ and h.
    /// `initial` is a state of this optimizer (`optimizer.initialState(weights: w0)`).
    public func hypergradient(outer: (_ lambda: Variable, _ weights: Variable) -> Variable, inner: InnerObjective,
                              lambda: Tensor, from initial: OptimizerState) throws -> (value: Double, gradients: Gradients) {
        try hypergradient(outer: outer, inner: inner, lambda: lambda, from: initial, tapes: UnrollingTapes())
    }

    /// `hypergradient` recording on the given tapes.
    package func hypergradient(outer: (_ lambda: Variable, _ weights: Variable) -> Variable, inner: InnerObjective,
                               lambda: Tensor, from initial: OptimizerState,
                               tapes: UnrollingTapes) throws -> (value: Double, gradients: Gradients) {
        optimizer.requireFits(initial, "UnrolledOptimization.hypergradient")
        var value = 0.0, directLambda = Tensor.zeros(lambda.shape)
        var g = try differentiate(inner, lambda: lambda, from: initial, tapes: tapes) { final in
            let direct = tapes.gradient.valueAndGradient(of: { outer($0[0], $0[1]) }, at: [lambda, final.weights])
            value = direct.value
            directLambda = direct.gradients[0]
            return direct.gradients[1]
        }
        g.lambda = g.lambda + directLambda
        return (value, g)
    }

    /// Segments of at most this many steps are swept back through linearizations kept from the forward pass.
    static var linearizedSegment: Int { 16 }

    /// One step as `advance`, with J's gradient linearized on `tape` (returned: its `gradients[1]` is ∂J/∂w).
    private func advanceLinearized(_ s: inout OptimizerState, _ objective: InnerObjective, _ lambda: Tensor,
                                   _ tapes: UnrollingTapes, tape: Tape) throws -> Linearization {
        let t = s.iteration
        let l = tape.linearizedGradient(of: { objective($0[0], $0[1], t) }, at: [lambda, s.weights])
        try update(&s, value: l.value, gradient: l.gradients[1], tapes)
        return l
    }

    /// One step: the gradient at the current state (returned), then the optimizer update.
    private func advance(_ s: inout OptimizerState, _ objective: InnerObjective, _ lambda: Tensor,
                         _ tapes: UnrollingTapes) throws -> Tensor {
        let t = s.iteration
        let (value, grads) = tapes.gradient.valueAndGradient(of: { objective($0[0], $0[1], t) }, at: [lambda, s.weights], wrt: [1])
        try update(&s, value: value, gradient: grads[0], tapes)
        return grads[0]
    }

    /// The optimizer's update from J's value and gradient at the state; throws if either is not finite.
    private func update(_ s: inout OptimizerState, value: Double, gradient: Tensor, _ tapes: UnrollingTapes) throws {
        guard value.isFinite, gradient.isFinite else {
            throw TrainingError.diverged("the inner loss", step: s.iteration, value: value,
                                         hint: "lower the inner learning rate (now \(optimizer.learningRate))")
        }
        optimizer.update(&s, gradient: gradient, tape: tapes.step)
    }
}
