import Foundation
import Tape

/// A first-order optimizer whose step is written with tape operations, so that K steps can be
/// differentiated end to end (with respect to the data, the initial weights and the hyperparameters).
///
/// A step maps (w, s, g, h, k) ↦ (w′, s′): weights w (n), optimizer state s (`stateCount` tensors of
/// shape (n), e.g. momentum), gradient g (n), differentiable hyperparameters h (a vector, first entry
/// the base learning rate α₀) and the iteration k (for schedules and Adam's bias correction).
public protocol Optimizer: Sendable {
    /// Number of state tensors per parameter vector (momentum: 1, Adam: 2, plain SGD: 0).
    var stateCount: Int { get }
    /// The differentiable hyperparameters h; h[0] is the base learning rate α₀.
    var hyperparameters: Tensor { get set }
    /// Names of the entries of h, for reports.
    var hyperparameterNames: [String] { get }
    /// The base learning rate α₀ = h[0] (default: read from `hyperparameters`).
    var learningRate: Double { get }
    /// One step as tape operations. `state` has `stateCount` entries; returns w′ and s′.
    func step(weights w: Variable, state: [Variable], gradient g: Variable, hyperparameters h: Variable,
              iteration k: Int) -> (weights: Variable, state: [Variable])
}

/// Learning-rate schedules: α_k = α₀ · factor(k).
public enum LearningRateSchedule: Sendable, Equatable {
    /// α_k = α₀.
    case constant
    /// α_k = α₀ / (1 + k/K)^β (inverse-time decay with horizon K and power β).
    case inverseTimeDecay(horizon: Double, power: Double)

    /// The factor α_k / α₀ at iteration k (counted from 0).
    public func factor(at k: Int) -> Double {
        switch self {
        case .constant: 1
        case .inverseTimeDecay(let horizon, let power): Foundation.pow(1 + Double(k) / horizon, -power)
        }
    }
}

/// Weights, optimizer state and iteration count of an optimization run (value semantics).
public struct OptimizerState: Sendable, Equatable {
    /// Current weights w, shape (n).
    public var weights: Tensor
    /// Optimizer state tensors, each of shape (n).
    public var slots: [Tensor]
    /// Steps taken so far (k of the next step).
    public var iteration: Int

    /// A state with the given weights (n) and state tensors (each (n)), at iteration `iteration`.
    public init(weights: Tensor, slots: [Tensor], iteration: Int = 0) {
        self.weights = weights
        self.slots = slots
        self.iteration = iteration
    }
}

/// A training run that produced a non-finite value.
public struct TrainingError: Error, CustomStringConvertible {
    /// The message: what became non-finite, at which step, and what to change.
    public var description: String
    /// An error with the given message.
    public init(_ description: String) { self.description = description }

    static func diverged(_ what: String, step: Int, value: Double, hint: String) -> TrainingError {
        TrainingError("\(what) became \(value) at step \(step): the inner optimization diverged; \(hint)")
    }
}

extension Optimizer {
    /// α₀ = h[0] of the stored hyperparameters.
    public var learningRate: Double { hyperparameters.scalars[0] }

    /// The scheduled learning rate α₀ · factor as a scalar tape variable built from h[0] (so it can be
    /// differentiated), for use inside `step`.
    public func scheduledLearningRate(from h: Variable, factor: Double) -> Variable {
        h.slice(alongAxis: 0, start: 0, count: 1).reshaped(.scalar) * factor
    }

    /// A fresh state at w₀: zero optimizer state, iteration 0.
    public func initialState(weights: Tensor) -> OptimizerState {
        require(weights.shape.rank == 1, "Optimizer: weights must be a flat vector, got shape \(weights.shape)")
        return OptimizerState(weights: weights, slots: Array(repeating: .zeros(weights.shape), count: stateCount))
    }

    /// Stops with a message naming `caller`, this optimizer and the state it expects unless `state` fits it:
    /// flat weights (n) and `stateCount` state tensors of shape (n), as `initialState(weights:)` makes them.
    /// (A state made by another optimizer would otherwise fail deep inside a step with an unrelated message.)
    package func requireFits(_ state: OptimizerState, _ caller: String) {
        let n = state.weights.shape
        let fits = n.rank == 1 && state.slots.count == stateCount && state.slots.allSatisfy { $0.shape == n }
        guard !fits else { return }
        let got = state.slots.isEmpty ? "none" : state.slots.map(\.shape.description).joined(separator: ", ")
        let expected = n.rank == 1 ? "\(stateCount) state tensor\(stateCount == 1 ? "" : "s") of the weights' shape \(n)"
                                   : "flat weights (n), got weights of shape \(n)"
        require(false, "\(caller): the optimizer state does not fit \(self): it expects \(expected), got " +
                       "\(state.slots.count) state tensor\(state.slots.count == 1 ? "" : "s") (shapes: \(got)); " +
                       "start from this optimizer's initialState(weights:)")
    }

    /// Applies one step eagerly (evaluating the same tape operations that unrolling differentiates).
    public func update(_ state: inout OptimizerState, gradient: Tensor, tape: Tape = Tape()) {
        requireFits(state, "Optimizer.update")
        require(gradient.shape == state.weights.shape,
                     "Optimizer.update: gradient of shape \(gradient.shape) does not match weights of shape \(state.weights.shape)")
        let outs = tape.evaluate({ self.stepOutputs($0, iteration: state.iteration) },
                                 at: [state.weights] + state.slots + [gradient, hyperparameters])
        state.weights = outs[0]
        state.slots = Array(outs.dropFirst())
        state.iteration += 1
    }

    /// The step as a function of the flat input list [w, s₁ … s_m, g, h] → [w′, s′₁ … s′_m]
    /// (the form the unrolled reverse pass differentiates).
    func stepOutputs(_ v: [Variable], iteration k: Int) -> [Variable] {
        let m = stateCount
        require(v.count == 3 + m, "Optimizer.stepOutputs: \(self) takes [w, \(m) state tensors, g, h], got \(v.count) inputs")
        let r = step(weights: v[0], state: Array(v[1..<1 + m]), gradient: v[1 + m], hyperparameters: v[2 + m], iteration: k)
        return [r.weights] + r.state
    }

    /// Minimizes `loss(w)` (a scalar of the flat weights) for `steps` steps from `state`, in place.
    /// Stops with a `TrainingError` naming the step if the loss or the weights stop being finite.
    /// `loss` gets the step index, so stochastic objectives can draw minibatch t deterministically.
    public func minimize(_ loss: (Variable, Int) -> Variable, state: inout OptimizerState, steps: Int,
                         tape: Tape = Tape(), stepTape: Tape = Tape()) throws {
        require(steps >= 0, "Optimizer.minimize: steps must be ≥ 0, got \(steps)")
        requireFits(state, "Optimizer.minimize")
        for _ in 0..<steps {
            let t = state.iteration
            let (value, grads) = tape.valueAndGradient(of: { loss($0[0], t) }, at: [state.weights])
            guard value.isFinite, grads[0].isFinite else {
                throw TrainingError.diverged("the training loss", step: t, value: value,
                                             hint: "lower the learning rate (now \(learningRate))")
            }
            update(&state, gradient: grads[0], tape: stepTape)
            guard state.weights.isFinite else {
                throw TrainingError.diverged("the weights", step: t, value: .nan,
                                             hint: "lower the learning rate (now \(learningRate))")
            }
        }
    }
}
