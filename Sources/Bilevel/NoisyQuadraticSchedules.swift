import Foundation
import Tape
import Layers

/// Schedule searches on the noisy quadratic model, all inside the stable region (`NoisyQuadratic.rateLimit`):
/// per-step schedules αₜ (and βₜ) for a horizon T, and the offline family α_k = α₀/(1 + k/K)^β.
///
/// Every search is plain Adam on log(expected loss at T) with gradients from the adjoint recursion
/// (`lossAndGradient`), run from each start it is given; each start's result is returned as found, so a caller
/// can report the best one without mixing in a schedule the search did not produce.
extension NoisyQuadratic {
    /// A per-step schedule and the expected loss it reaches.
    public struct ScheduleResult: Sendable {
        /// αₜ for t = 0 … T−1.
        public var rates: [Double]
        /// βₜ (all zero for plain SGD).
        public var momenta: [Double]
        /// Expected loss after T steps.
        public var loss: Double
    }

    /// Optimizes every rate (and, with `momentum`, every momentum) of a T-step schedule from each start.
    /// The parametrization keeps each step in the stable region: βₜ = β_max·σ(bₜ), αₜ = 2(1 + βₜ)/h_max·σ(aₜ).
    /// A start's rates must lie strictly inside (0, limit); they are clipped to [1e-9, 1 − 1e-9] of it.
    /// `maxMomentum` lies in [0, 1); 0 optimizes rates alone, as `momentum: false` does.
    public func optimizeSchedule(starts: [(rates: [Double], momenta: [Double]?)], momentum: Bool = false, maxMomentum: Double = 0.999,
                                 iterations: Int = 2000, learningRate: Double = 0.05) -> [ScheduleResult] {
        // β_max = 0 allows only β = 0: that is plain SGD (and β/β_max below would be 0/0).
        let momentum = momentum && maxMomentum > 0
        let hmax = curvatures.max() ?? 1
        func logit(_ p: Double) -> Double { let q = min(max(p, 1e-9), 1 - 1e-9); return log(q / (1 - q)) }
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        return starts.map { start in
            let t = start.rates.count
            let beta0 = momentum ? (start.momenta ?? Array(repeating: 0, count: t)) : Array(repeating: 0, count: t)
            let b0 = beta0.map { logit($0 / maxMomentum) }
            let a0 = zip(start.rates, beta0).map { logit($0 * hmax / (2 * (1 + $1))) }
            func decode(_ x: [Double]) -> (rates: [Double], momenta: [Double]) {
                let betas = momentum ? (0..<t).map { maxMomentum * sigmoid(x[t + $0]) } : Array(repeating: 0, count: t)
                return ((0..<t).map { 2 * (1 + betas[$0]) / hmax * sigmoid(x[$0]) }, betas)
            }
            let x = minimizeLog(a0 + (momentum ? b0 : []), iterations: iterations, learningRate: learningRate) { x in
                let (rates, betas) = decode(x)
                let r = lossAndGradient(rates: rates, momenta: momentum ? betas : nil)
                var g = [Double](repeating: 0, count: x.count)
                for k in 0..<t {
                    let sa = sigmoid(x[k])
                    g[k] = r.rates[k] * rates[k] * (1 - sa)
                    if momentum {
                        let sb = sigmoid(x[t + k])
                        // αₖ depends on βₖ through its limit 2(1 + β)/h_max.
                        g[t + k] = (r.momenta[k] + r.rates[k] * 2 * sa / hmax) * maxMomentum * sb * (1 - sb)
                    }
                }
                return (r.loss, g)
            }
            let (rates, betas) = decode(x)
            return ScheduleResult(rates: rates, momenta: betas, loss: loss(after: rates, momenta: momentum ? betas : nil))
        }
    }

    /// An offline inverse-time-decay schedule α_k = α₀/(1 + k/K)^β and the loss it reaches at its horizon.
    public struct DecaySchedule: Sendable {
        /// α₀, the initial rate (below 2/h_max).
        public var initialRate: Double
        /// K, the decay's time scale in steps.
        public var timeScale: Double
        /// β ≥ 0, the decay's power.
        public var power: Double
        /// Expected loss after the horizon it was fitted for (or evaluated at).
        public var loss: Double
        /// α_k for k = 0 … T−1.
        public func rates(steps t: Int) -> [Double] { (0..<t).map { initialRate * pow(1 + Double($0) / timeScale, -power) } }
    }

    /// Fits α₀, K and β of α_k = α₀/(1 + k/K)^β to the expected loss after `horizon` plain-SGD steps, from each start.
    /// α₀ = (2/h_max)·σ(a) stays in the stable range and β = e^b ≥ 0 makes the rates decay, so every step is stable
    /// **(ours)**: otherwise a search can "win" with an early blow-up of the stiff coordinates that a fast decay then
    /// damps, which is not a schedule anyone would use. K = e^k is learned too.
    public func fitInverseTimeDecay(horizon t: Int, starts: [(initialRate: Double, timeScale: Double, power: Double)],
                                    iterations: Int = 600, learningRate: Double = 0.05) -> [DecaySchedule] {
        let cap = rateLimit()
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        func decode(_ x: [Double]) -> (Double, Double, Double) { (cap * sigmoid(x[0]), exp(x[1]), exp(x[2])) }
        return starts.map { s in
            require(s.initialRate > 0 && s.initialRate < cap && s.timeScale > 0 && s.power > 0,
                    "fitInverseTimeDecay: a start needs 0 < α₀ < 2/h_max = \(cap), K > 0 and β > 0")
            let p = s.initialRate / cap
            let x = minimizeLog([log(p / (1 - p)), log(s.timeScale), log(s.power)], iterations: iterations, learningRate: learningRate) { x in
                let (a0, k, b) = decode(x)
                let rates = (0..<t).map { a0 * pow(1 + Double($0) / k, -b) }
                let r = lossAndGradient(rates: rates)
                var g = [0.0, 0.0, 0.0]
                for j in 0..<t {
                    let u = Double(j) / k
                    g[0] += r.rates[j] * rates[j] * (1 - sigmoid(x[0]))          // ∂α_j/∂a = α_j (1 − σ(a))
                    g[1] += r.rates[j] * rates[j] * b * u / (1 + u)              // ∂α_j/∂log K = α_j β (j/K)/(1 + j/K)
                    g[2] += r.rates[j] * rates[j] * (-b * log1p(u))              // ∂α_j/∂log β = −α_j β log(1 + j/K)
                }
                return (r.loss, g)
            }
            let (a0, k, b) = decode(x)
            let schedule = DecaySchedule(initialRate: a0, timeScale: k, power: b, loss: 0)
            return DecaySchedule(initialRate: a0, timeScale: k, power: b, loss: loss(after: schedule.rates(steps: t)))
        }
    }

    /// Adam on log f(x) (scale-free: every horizon and noise level looks alike to it), with f and ∇f from `f`.
    /// Returns the last iterate. A non-finite loss or gradient ends the search at the last finite iterate.
    private func minimizeLog(_ x0: [Double], iterations: Int, learningRate: Double,
                             _ f: ([Double]) -> (Double, [Double])) -> [Double] {
        let opt = Adam(learningRate: learningRate)
        var state = opt.initialState(weights: Tensor(x0))
        let tape = Tape()
        for _ in 0..<iterations {
            let (value, g) = f(state.weights.scalars)
            guard value > 0, value.isFinite, g.allSatisfy(\.isFinite) else { break }
            let previous = state
            opt.update(&state, gradient: Tensor(g.map { $0 / value }), tape: tape)
            if !state.weights.isFinite { state = previous; break }
        }
        return state.weights.scalars
    }
}
