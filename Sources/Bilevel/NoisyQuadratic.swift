import Foundation
import Tape
import Layers

/// The noisy quadratic model of the short-horizon-bias lecture (PRIMER section 4).
///
/// Loss ½ Σᵢ hᵢ θᵢ², stochastic gradient gᵢ = hᵢθᵢ + εᵢ with E εᵢ = 0, εᵢ independent across coordinates
/// and steps, and **Var εᵢ = cᵢ** (our noise convention: cᵢ is the variance of the gradient noise of
/// coordinate i at every step). SGD with heavy-ball momentum, v′ = βv − αg, θ′ = θ + v′ (β = 0: plain SGD,
/// θ′ = θ − αg), is linear in (θ, v, ε), so the second moments A = E θ², B = E θv, C = E v² of each
/// coordinate follow a closed recursion (a = 1 − αh, q = −αh):
///
///     A′ = a²A + 2aβB + β²C + α²c,   B′ = aqA + β(a + q)B + β²C + α²c,   C′ = q²A + 2qβB + β²C + α²c,
///
/// and the expected loss is ½ Σᵢ hᵢ Aᵢ. With β = 0 this is m′ = (1 − αh)² m + α² c for m = A.
/// The recursion costs O(n) per step, so horizons of tens of thousands of steps stay cheap.
public struct NoisyQuadratic: Sendable {
    /// Curvatures hᵢ > 0.
    public var curvatures: [Double]
    /// Gradient-noise variances cᵢ ≥ 0.
    public var noise: [Double]
    /// Initial second moments m₀ᵢ = E θᵢ² ≥ 0 (the velocity starts at 0).
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

    /// The largest rate of the stable region for momentum β: a step is stable when, for every coordinate,
    /// the noise-free iteration matrix [[1 + β − αh, −β], [1, 0]] has both eigenvalues inside the unit disk,
    /// i.e. 0 ≤ β < 1 and 0 < α·h_max < 2(1 + β) (plain SGD: α·h_max < 2).
    public func rateLimit(momentum beta: Double = 0) -> Double { 2 * (1 + beta) / (curvatures.max() ?? 1) }

    /// ½ Σ hᵢ mᵢ.
    public func loss(_ m: [Double]) -> Double { 0.5 * zip(curvatures, m).map(*).reduce(0, +) }

    /// One plain-SGD step of the second-moment recursion with rate α: m′ = (1 − αh)² m + α² c.
    public func step(_ m: [Double], rate a: Double) -> [Double] {
        (0..<m.count).map { i in let r = 1 - a * curvatures[i]; return r * r * m[i] + a * a * noise[i] }
    }

    /// The expected loss after running the schedule α₀ … α_{T−1}, with momenta β₀ … β_{T−1} (nil: plain SGD).
    public func loss(after rates: [Double], momenta: [Double]? = nil) -> Double {
        guard let momenta else { return loss(rates.reduce(initialMoments) { step($0, rate: $1) }) }
        if noiseFree {
            var d = Deterministic(self)
            for t in rates.indices { d.advance(self, rate: rates[t], momentum: momenta[t]) }
            return loss(d.moments.a)
        }
        var s = MomentState(initialMoments)
        for t in rates.indices { s = advance(s, rate: rates[t], momentum: momenta[t]) }
        return loss(s.a)
    }

    /// Second moments (A, B, C) = (E θ², E θv, E v²) of every coordinate.
    public struct MomentState: Sendable, Equatable {
        /// E θᵢ² for every coordinate i.
        public var a: [Double]
        /// E θᵢvᵢ (position × velocity).
        public var b: [Double]
        /// E vᵢ² (velocity).
        public var c: [Double]
        /// The state at the start: E θ² = m₀, velocity 0.
        public init(_ m0: [Double]) { a = m0; b = Array(repeating: 0, count: m0.count); c = b }
    }

    /// One step of the momentum recursion (see the type's documentation).
    public func advance(_ s: MomentState, rate alpha: Double, momentum beta: Double) -> MomentState {
        var out = s
        for i in curvatures.indices {
            let q = -alpha * curvatures[i], a = 1 + q, n = alpha * alpha * noise[i], bb = beta * beta
            let (A, B, C) = (s.a[i], s.b[i], s.c[i])
            out.a[i] = a * a * A + 2 * a * beta * B + bb * C + n
            out.b[i] = a * q * A + beta * (a + q) * B + bb * C + n
            out.c[i] = q * q * A + 2 * q * beta * B + bb * C + n
        }
        return out
    }

    /// The expected loss after T steps and its gradient with respect to every rate and momentum, by the adjoint
    /// (reverse) recursion of the moment equations: O(T·n) time and memory, no tape.
    public func lossAndGradient(rates: [Double], momenta: [Double]? = nil) -> (loss: Double, rates: [Double], momenta: [Double]) {
        let t = rates.count, n = curvatures.count
        guard let momenta else {
            // Plain SGD: only m = E θ² matters; m′ = r² m + α² c, ∂m′/∂α = −2hr m + 2αc, adjoint ℓ ← r² ℓ.
            var ms = [initialMoments]
            ms.reserveCapacity(t + 1)
            for k in 0..<t { ms.append(step(ms[k], rate: rates[k])) }
            var l = curvatures.map { 0.5 * $0 }, g = [Double](repeating: 0, count: t)
            for k in stride(from: t - 1, through: 0, by: -1) {
                var gk = 0.0
                for i in 0..<n {
                    let h = curvatures[i], r = 1 - rates[k] * h
                    gk += l[i] * (-2 * h * r * ms[k][i] + 2 * rates[k] * noise[i])
                    l[i] *= r * r
                }
                g[k] = gk
            }
            return (loss(ms[t]), g, Array(repeating: 0, count: t))
        }
        var states = [MomentState(initialMoments)]
        states.reserveCapacity(t + 1)
        for k in 0..<t { states.append(advance(states[k], rate: rates[k], momentum: momenta[k])) }
        var la = curvatures.map { 0.5 * $0 }, lb = [Double](repeating: 0, count: n), lc = lb
        var gRates = [Double](repeating: 0, count: t), gMomenta = gRates
        for k in stride(from: t - 1, through: 0, by: -1) {
            let s = states[k], alpha = rates[k], beta = momenta[k]
            var ga = 0.0, gb = 0.0
            for i in 0..<n {
                let h = curvatures[i], q = -alpha * h, a = 1 + q, (A, B, C) = (s.a[i], s.b[i], s.c[i])
                let noiseTerm = 2 * alpha * noise[i] * (la[i] + lb[i] + lc[i])
                ga += la[i] * (-2 * h * a * A - 2 * h * beta * B) + lb[i] * (-h * (a + q) * A - 2 * h * beta * B)
                    + lc[i] * (-2 * h * q * A - 2 * h * beta * B) + noiseTerm
                gb += la[i] * (2 * a * B + 2 * beta * C) + lb[i] * ((a + q) * B + 2 * beta * C) + lc[i] * (2 * q * B + 2 * beta * C)
                let (na, nb, nc) = (la[i], lb[i], lc[i])
                la[i] = a * a * na + a * q * nb + q * q * nc
                lb[i] = 2 * a * beta * na + beta * (a + q) * nb + 2 * q * beta * nc
                lc[i] = beta * beta * (na + nb + nc)
            }
            gRates[k] = ga
            gMomenta[k] = gb
        }
        return (loss(states[t].a), gRates, gMomenta)
    }

    /// The greedy schedule for T steps: each step's rate (and, with `momentum`, its momentum) minimizes the next
    /// expected loss over the stable region α·h_max ≤ 2(1 + β), 0 ≤ β ≤ `maxMomentum` (`stable: false`: over
    /// α ≥ 0, 0 ≤ β ≤ `maxMomentum`). Plain SGD has the closed form α* = Σ hᵢ² mᵢ / Σ (hᵢ³ mᵢ + hᵢ cᵢ), clipped to
    /// 2/h_max. The next loss is a convex quadratic in (α, β), minimized exactly over that polygon. Without noise
    /// and without the stability limit, greedy momentum is conjugate gradient in disguise (each step minimizes over
    /// θ + span{g, v}, which for a quadratic is the minimum over the whole Krylov space, `krylovOptimum`).
    public func greedySchedule(steps t: Int, momentum: Bool = false, maxMomentum: Double = 0.999,
                               stable: Bool = true) -> (rates: [Double], momenta: [Double]) {
        var s = MomentState(initialMoments)
        var d = Deterministic(self)
        var rates: [Double] = [], momenta: [Double] = []
        for _ in 0..<t {
            let (alpha, beta) = greedyStep(noiseFree ? d.moments : s, momentum: momentum, maxMomentum: maxMomentum, stable: stable)
            rates.append(alpha)
            momenta.append(beta)
            if noiseFree { d.advance(self, rate: alpha, momentum: beta) } else { s = advance(s, rate: alpha, momentum: beta) }
        }
        return (rates, momenta)
    }

    /// True when every noise variance is 0: the second moments are then those of the deterministic iteration from
    /// θ₀ = √m₀, v₀ = 0, which `loss(after:momenta:)` and `greedySchedule` follow instead of the moment recursion.
    /// (With steps outside the stable region, e.g. conjugate gradient's, the moment recursion loses the rank-one
    /// structure A·C = B² to rounding and drifts within ten steps; the deterministic iteration does not.)
    public var noiseFree: Bool { noise.allSatisfy { $0 == 0 } }

    /// The deterministic heavy-ball iteration θ′ = (1 − αh)θ + βv, v′ = θ′ − θ of a noise-free problem.
    struct Deterministic {
        var theta: [Double], velocity: [Double]
        init(_ p: NoisyQuadratic) { theta = p.initialMoments.map { $0.squareRoot() }; velocity = Array(repeating: 0, count: theta.count) }
        var moments: MomentState {
            var s = MomentState(theta.map { $0 * $0 })
            s.b = zip(theta, velocity).map(*)
            s.c = velocity.map { $0 * $0 }
            return s
        }
        mutating func advance(_ p: NoisyQuadratic, rate alpha: Double, momentum beta: Double) {
            for i in theta.indices {
                velocity[i] = beta * velocity[i] - alpha * p.curvatures[i] * theta[i]
                theta[i] += velocity[i]
            }
        }
    }

    /// The plain-SGD greedy rates (momentum 0).
    public func greedySchedule(steps t: Int) -> [Double] { greedySchedule(steps: t, momentum: false).rates }

    /// argmin over the stable polygon of the next loss 2·L′ = Σh A − 2αP + α²Q + 2βR − 2αβS + β²U (constant dropped).
    func greedyStep(_ s: MomentState, momentum: Bool, maxMomentum: Double, stable: Bool) -> (Double, Double) {
        var p = 0.0, qq = 0.0, r = 0.0, sv = 0.0, u = 0.0
        for i in curvatures.indices {
            let h = curvatures[i]
            p += h * h * s.a[i]; qq += h * h * h * s.a[i] + h * noise[i]
            r += h * s.b[i]; sv += h * h * s.b[i]; u += h * s.c[i]
        }
        func value(_ a: Double, _ b: Double) -> Double { -2 * a * p + a * a * qq + 2 * b * r - 2 * a * b * sv + b * b * u }
        let hmax = curvatures.max() ?? 1
        func alphaLimit(_ b: Double) -> Double { stable ? 2 * (1 + b) / hmax : .infinity }
        // Best α for a fixed β (1-D convex quadratic), clipped to [0, limit(β)].
        func bestAlpha(_ b: Double) -> Double { qq > 0 ? min(max((p + b * sv) / qq, 0), alphaLimit(b)) : 0 }
        guard momentum else { return (bestAlpha(0), 0) }
        var candidates: [(Double, Double)] = []
        let det = qq * u - sv * sv
        if det > 1e-300 * max(qq * u, 1e-300) {
            let a = (p * u - r * sv) / det, b = (qq * -r + sv * p) / det
            // Unconstrained (`stable: false`): the exact minimizer, whatever its α and β.
            if !stable { return (a, b) }
            if b >= 0, b <= maxMomentum, a >= 0, a <= alphaLimit(b) { candidates.append((a, b)) }
        }
        // Edges β = 0 and β = β_max, the edge α = 0 and the stability edge α = 2(1 + β)/h_max.
        candidates.append((bestAlpha(0), 0))
        candidates.append((bestAlpha(maxMomentum), maxMomentum))
        if u > 0 { candidates.append((0, min(max(-r / u, 0), maxMomentum))) }
        // On α = 2(1 + β)/h_max: value is a quadratic in β; its minimizer clipped to [0, β_max].
        let k = 2 / hmax
        let c2 = k * k * qq - 2 * k * sv + u, c1 = -k * p + k * k * qq - k * sv + r   // half the linear coefficient
        if stable, c2 > 0 { let b = min(max(-c1 / c2, 0), maxMomentum); candidates.append((alphaLimit(b), b)) }
        return candidates.min { value($0.0, $0.1) < value($1.0, $1.1) }!
    }

    /// The expected loss after T steps as tape operations of the plain-SGD rates (the recursion unrolled on the
    /// tape); used to check `lossAndGradient` against the engine's reverse mode.
    public func lossVariable(rates: [Variable], on anchor: Variable) -> Variable {
        let h = Tensor(curvatures), c = Tensor(noise)
        var m = anchor.constant(Tensor(initialMoments))
        for a in rates {
            let r = 1 - a * h     // (n): 1 − α hᵢ
            m = r.squared() * m + a.squared() * c
        }
        return (m * h).sum() * 0.5
    }

    /// The expected loss of plain SGD at a constant rate α after T steps, in closed form per coordinate:
    /// m_T = r^{2T} m₀ + α² c (1 − r^{2T}) / (1 − r²) with r = 1 − αh (T·α² c when r² = 1).
    public func constantRateLoss(rate alpha: Double, steps t: Int) -> Double {
        var total = 0.0
        for i in curvatures.indices {
            let r2 = pow(1 - alpha * curvatures[i], 2), rt = pow(r2, Double(t))
            let sum = abs(1 - r2) < 1e-15 ? Double(t) : (1 - rt) / (1 - r2)
            total += 0.5 * curvatures[i] * (rt * initialMoments[i] + alpha * alpha * noise[i] * sum)
        }
        return total
    }
    /// The constant plain-SGD rate in the stable range (0, 2/h_max) with the lowest expected loss after T steps,
    /// and that loss: a scan of 400 log-spaced rates over [1e-6, 1)·2/h_max, then golden-section refinement in
    /// log α between the scan's neighbours of the best point.
    public func bestConstantRate(steps t: Int) -> (rate: Double, loss: Double) {
        let cap = rateLimit()
        let grid = (0..<400).map { cap * pow(10, -6 + 6 * Double($0) / 400) }
        let losses = grid.map { constantRateLoss(rate: $0, steps: t) }
        let k = losses.indices.min { losses[$0] < losses[$1] }!
        var lo = log(grid[max(k - 1, 0)]), hi = log(k + 1 < grid.count ? grid[k + 1] : cap * (1 - 1e-12))
        let g = (sqrt(5.0) - 1) / 2
        func f(_ u: Double) -> Double { constantRateLoss(rate: exp(u), steps: t) }
        for _ in 0..<80 {
            let a = hi - g * (hi - lo), b = lo + g * (hi - lo)
            if f(a) < f(b) { hi = b } else { lo = a }
        }
        let best = exp((lo + hi) / 2)
        return f(log(best)) <= losses[k] ? (best, f(log(best))) : (grid[k], losses[k])
    }
    /// The lowest expected loss any T-step method whose iterate is θ₀ + (a polynomial in H of degree < T)·g₀ can
    /// reach without noise: min over polynomials p of degree ≤ T with p(0) = 1 of ½ Σ hᵢ m₀ᵢ p(hᵢ)². Computed by
    /// T steps of conjugate gradient on the deterministic quadratic ½ Σ hᵢ θᵢ² from θ₀ = √m₀ (CG's iterate is that
    /// minimizer). Every SGD or momentum schedule is such a method, so this bounds them all; noise is ignored.
    public func krylovOptimum(steps t: Int) -> Double {
        var x = initialMoments.map { $0.squareRoot() }
        var r = zip(curvatures, x).map { -$0 * $1 }, p = r
        var rr = r.map { $0 * $0 }.reduce(0, +)
        for _ in 0..<t {
            let ap = zip(curvatures, p).map(*), pap = zip(p, ap).map(*).reduce(0, +)
            guard pap > 0, rr > 0 else { break }
            let a = rr / pap
            for i in x.indices { x[i] += a * p[i]; r[i] -= a * ap[i] }
            let next = r.map { $0 * $0 }.reduce(0, +)
            for i in p.indices { p[i] = r[i] + next / rr * p[i] }
            rr = next
        }
        return loss(x.map { $0 * $0 })
    }
}
