import Foundation
import Tape

/// Stochastic gradient descent with optional heavy-ball momentum μ and L2 weight decay δ:
///   d = g + δ w;   b′ = μ b + d;   w′ = w − α_k b′   (with μ = 0 there is no state and w′ = w − α_k d),
/// α_k = α₀ · schedule.factor(k). Hyperparameters h = [α₀].
public struct SGD: Optimizer, CustomStringConvertible {
    /// h = [α₀], the base learning rate.
    public var hyperparameters: Tensor
    /// Momentum μ in b′ = μ b + d (0: plain SGD, no state).
    public let momentum: Double
    /// Weight decay δ in d = g + δ w.
    public let weightDecay: Double
    /// α_k = α₀ · schedule.factor(k).
    public let schedule: LearningRateSchedule

    /// SGD with α₀ > 0, μ in [0, 1) and δ ≥ 0.
    public init(learningRate: Double, momentum: Double = 0, weightDecay: Double = 0,
                schedule: LearningRateSchedule = .constant) {
        require(learningRate.isFinite && learningRate > 0, "SGD: learning rate must be positive and finite, got \(learningRate)")
        require(momentum >= 0 && momentum < 1, "SGD: momentum must be in [0, 1), got \(momentum)")
        require(weightDecay >= 0, "SGD: weight decay must be ≥ 0, got \(weightDecay)")
        hyperparameters = Tensor([learningRate])
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.schedule = schedule
    }

    /// "SGD(learningRate: α₀, momentum: μ, …)" with the settings that differ from the defaults.
    public var description: String {
        "SGD(learningRate: \(learningRate)" + (momentum > 0 ? ", momentum: \(momentum)" : "")
            + (weightDecay > 0 ? ", weightDecay: \(weightDecay)" : "") + (schedule == .constant ? "" : ", schedule: \(schedule)") + ")"
    }
    /// 1 (the momentum buffer b) when μ > 0, else 0.
    public var stateCount: Int { momentum > 0 ? 1 : 0 }
    /// Names of the entries of h: ["learningRate"].
    public var hyperparameterNames: [String] { ["learningRate"] }

    /// w′ = w − α_k b′ with b′ = μ b + d (or w′ = w − α_k d without momentum), d = g + δ w.
    public func step(weights w: Variable, state: [Variable], gradient g: Variable, hyperparameters h: Variable,
                     iteration k: Int) -> (weights: Variable, state: [Variable]) {
        let alpha = scheduledLearningRate(from: h, factor: schedule.factor(at: k))
        let d = weightDecay > 0 ? g + w * weightDecay : g
        if momentum > 0 {
            let b = state[0] * momentum + d
            return (w - alpha * b, [b])
        }
        return (w - alpha * d, [])
    }
}

/// Adam (Kingma & Ba) with bias correction, optional L2 weight decay δ added to the gradient:
///   d = g + δ w;  m′ = β₁ m + (1 − β₁) d;  v′ = β₂ v + (1 − β₂) d²;
///   m̂ = m′ / (1 − β₁^{k+1});  v̂ = v′ / (1 − β₂^{k+1});  w′ = w − α_k m̂ / (√(v̂ + ε_root) + ε).
/// **(ours)** ε_root (default 1e-30) sits inside the square root so that the step stays differentiable
/// where v̂ = 0 (√ has an infinite derivative at 0); it changes no step of practical size.
/// Hyperparameters h = [α₀].
public struct Adam: Optimizer, CustomStringConvertible {
    /// h = [α₀], the base learning rate.
    public var hyperparameters: Tensor
    /// Decay β₁ of the first moment m.
    public let beta1: Double
    /// Decay β₂ of the second moment v.
    public let beta2: Double
    /// ε added to the denominator √(v̂ + ε_root) + ε.
    public let epsilon: Double
    /// ε_root inside the square root (keeps the step differentiable where v̂ = 0).
    public let epsilonRoot: Double
    /// Weight decay δ in d = g + δ w.
    public let weightDecay: Double
    /// α_k = α₀ · schedule.factor(k).
    public let schedule: LearningRateSchedule

    /// Adam with α₀ > 0, β₁, β₂ in [0, 1), ε ≥ 0 and ε_root > 0.
    public init(learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                epsilonRoot: Double = 1e-30, weightDecay: Double = 0, schedule: LearningRateSchedule = .constant) {
        require(learningRate.isFinite && learningRate > 0, "Adam: learning rate must be positive and finite, got \(learningRate)")
        require(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam: β₁ and β₂ must be in [0, 1), got \(beta1), \(beta2)")
        require(epsilon >= 0 && epsilonRoot > 0, "Adam: ε must be ≥ 0 and ε_root > 0, got \(epsilon), \(epsilonRoot)")
        hyperparameters = Tensor([learningRate])
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.epsilonRoot = epsilonRoot
        self.weightDecay = weightDecay
        self.schedule = schedule
    }

    /// "Adam(learningRate: α₀, …)" with the settings that differ from the defaults.
    public var description: String {
        "Adam(learningRate: \(learningRate)" + (beta1 != 0.9 ? ", beta1: \(beta1)" : "") + (beta2 != 0.999 ? ", beta2: \(beta2)" : "")
            + (weightDecay > 0 ? ", weightDecay: \(weightDecay)" : "") + (schedule == .constant ? "" : ", schedule: \(schedule)") + ")"
    }
    /// 2: the moments m and v.
    public var stateCount: Int { 2 }
    /// Names of the entries of h: ["learningRate"].
    public var hyperparameterNames: [String] { ["learningRate"] }

    /// One bias-corrected Adam step: state [m, v] ↦ [m′, v′], w′ = w − α_k m̂ / (√(v̂ + ε_root) + ε).
    public func step(weights w: Variable, state: [Variable], gradient g: Variable, hyperparameters h: Variable,
                     iteration k: Int) -> (weights: Variable, state: [Variable]) {
        let alpha = scheduledLearningRate(from: h, factor: schedule.factor(at: k))
        let d = weightDecay > 0 ? g + w * weightDecay : g
        let m = state[0] * beta1 + d * (1 - beta1)
        let v = state[1] * beta2 + d.squared() * (1 - beta2)
        let t = Double(k + 1)
        let mHat = m * (1 / (1 - pow(beta1, t)))
        let vHat = v * (1 / (1 - pow(beta2, t)))
        let update = mHat / ((vHat + epsilonRoot).sqrt() + epsilon)
        return (w - alpha * update, [m, v])
    }
}
