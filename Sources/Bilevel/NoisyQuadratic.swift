import Foundation
import Tape
import Layers

/// The noisy quadratic model of the short-horizon-bias lecture (PRIMER section 4).
///
/// Loss ½ Σᵢ hᵢ θᵢ², stochastic gradient gᵢ = hᵢθᵢ + εᵢ with E εᵢ = 0 and **Var εᵢ = cᵢ** (our noise
/// convention: cᵢ is the variance of the gradient noise of coordinate i). SGD θ′ = θ − α g evolves the
/// second moments mᵢ = E θᵢ² by  m′ᵢ = (1 − αhᵢ)² mᵢ + α² cᵢ,  and the expected loss is ½ Σᵢ hᵢ mᵢ.
public struct NoisyQuadratic: Sendable {
    /// Curvatures hᵢ > 0.
    public var curvatures: [Double]
    /// Gradient-noise variances cᵢ ≥ 0.
    public var noise: [Double]
    /// Initial second moments m₀ᵢ = E θᵢ² ≥ 0.
    public var initialMoments: [Double]

    /// A problem from h > 0, c ≥ 0 and m₀ ≥ 0, all of the same non-zero length.
    public init(curvatures h: [Double], noise c: [Double], initialMoments m0: [Double]) {
        require(h.count == c.count && h.count == m0.count && !h.isEmpty, "NoisyQuadratic: h, c and m₀ must have the same length")
        require(h.allSatisfy { $0 > 0 } && c.allSatisfy { $0 >= 0 } && m0.allSatisfy { $0 >= 0 }, "NoisyQuadratic: need h > 0, c ≥ 0, m₀ ≥ 0")
        curvatures = h
        noise = c
        initialMoments = m0
    }

    /// A spherical problem: all curvatures 1, noise c, m₀ = 1 in n dimensions.
    public static func spherical(dimensions n: Int = 10, noise c: Double = 0.1) -> NoisyQuadratic {
        NoisyQuadratic(curvatures: Array(repeating: 1, count: n), noise: Array(repeating: c, count: n), initialMoments: Array(repeating: 1, count: n))
    }

    /// An ill-conditioned noisy problem: curvatures log-spaced in [1/κ, 1], noise cᵢ = σ² hᵢ (noise
    /// proportional to curvature, as for a Fisher-like gradient covariance), m₀ = 1.
    public static func illConditioned(dimensions n: Int = 20, condition kappa: Double = 1e3, noiseScale s2: Double = 0.1) -> NoisyQuadratic {
        let h = (0..<n).map { pow(kappa, -Double($0) / Double(n - 1)) }
        return NoisyQuadratic(curvatures: h, noise: h.map { s2 * $0 }, initialMoments: Array(repeating: 1, count: n))
    }

    /// ½ Σ hᵢ mᵢ.
    public func loss(_ m: [Double]) -> Double { 0.5 * zip(curvatures, m).map(*).reduce(0, +) }

    /// One step of the second-moment recursion with rate α.
    public func step(_ m: [Double], rate a: Double) -> [Double] {
        (0..<m.count).map { i in let r = 1 - a * curvatures[i]; return r * r * m[i] + a * a * noise[i] }
    }

    /// The expected loss after running the schedule α₀ … α_{T−1}.
    public func loss(after schedule: [Double]) -> Double { loss(schedule.reduce(initialMoments) { step($0, rate: $1) }) }

    /// The greedy schedule for T steps: each rate minimizes the next expected loss,
    /// α* = Σ hᵢ² mᵢ / Σ (hᵢ³ mᵢ + hᵢ cᵢ).
    public func greedySchedule(steps t: Int) -> [Double] {
        var m = initialMoments, rates: [Double] = []
        for _ in 0..<t {
            var num = 0.0, den = 0.0
            for i in m.indices { num += curvatures[i] * curvatures[i] * m[i]; den += curvatures[i] * curvatures[i] * curvatures[i] * m[i] + curvatures[i] * noise[i] }
            let a = den > 0 ? num / den : 0
            rates.append(a)
            m = step(m, rate: a)
        }
        return rates
    }

    /// The expected loss after T steps as tape operations of the rates (the recursion unrolled on the tape),
    /// so schedules can be meta-learned by differentiating through the whole horizon.
    public func lossVariable(rates: [Variable], on anchor: Variable) -> Variable {
        let h = Tensor(curvatures), c = Tensor(noise)
        var m = anchor.constant(Tensor(initialMoments))
        for a in rates {
            let r = 1 - a * h     // (n): 1 − α hᵢ
            m = r.squared() * m + a.squared() * c
        }
        return (m * h).sum() * 0.5
    }

    /// The horizon-optimal per-step schedule, by Adam on log αₜ with the gradient of the expected loss at step T
    /// (unrolled through all T steps). Starts from the greedy schedule.
    public func optimizedSchedule(steps t: Int, iterations: Int = 400, learningRate: Double = 0.05) throws -> [Double] {
        let opt = Adam(learningRate: learningRate)
        var state = opt.initialState(weights: Tensor(greedySchedule(steps: t).map { log(max($0, 1e-12)) }))
        let tape = Tape()
        let scale = 1 / max(loss(after: greedySchedule(steps: t)), 1e-300)   // normalize: Adam sees an O(1) objective
        try opt.minimize({ v, _ in
            let rates = (0..<t).map { v.slice(alongAxis: 0, start: $0, count: 1).reshaped(.scalar).exp() }
            return lossVariable(rates: rates, on: v) * scale
        }, state: &state, steps: iterations, tape: tape)
        return state.weights.scalars.map(exp)
    }

    /// Meta-learns α₀ and β of α_k = α₀ / (1 + k/K₀)^β for horizon T by Adam on (a, β), differentiating
    /// the expected loss at step T through the whole unrolled recursion. α₀ = (2/h_max)·σ(a) stays in the
    /// stable range (0, 2/h_max) **(ours)**: otherwise a short horizon can "win" with an early blow-up of the
    /// stiff coordinates that a fast decay then damps, which is not a schedule anyone would use.
    public func metaLearnInverseTimeDecay(horizon t: Int, k0: Double, initialRate: Double, initialPower: Double = 0.5,
                                          iterations: Int = 300, learningRate: Double = 0.03) throws -> (rate: Double, power: Double) {
        let opt = Adam(learningRate: learningRate)
        let cap = 2 / (curvatures.max() ?? 1)
        require(initialRate > 0 && initialRate < cap, "metaLearnInverseTimeDecay: initial rate must be in (0, 2/h_max = \(cap))")
        let p = initialRate / cap
        var state = opt.initialState(weights: Tensor([log(p / (1 - p)), initialPower]))
        let logs = (0..<t).map { log(1 + Double($0) / k0) }
        let scale = 1 / max(loss(after: (0..<t).map { initialRate * pow(1 + Double($0) / k0, -initialPower) }), 1e-300)
        try opt.minimize({ v, _ in
            let a = v.slice(alongAxis: 0, start: 0, count: 1).reshaped(.scalar), b = v.slice(alongAxis: 0, start: 1, count: 1).reshaped(.scalar)
            let alpha0 = a.sigmoid() * cap
            return lossVariable(rates: logs.map { alpha0 * (b * (-$0)).exp() }, on: v) * scale
        }, state: &state, steps: iterations)
        return (cap / (1 + exp(-state.weights.scalars[0])), state.weights.scalars[1])
    }
}
