import Foundation
import Testing
import Tape
import Layers
@testable import Bilevel

/// The noisy quadratic model (PRIMER section 4): the moment recursion against SGD simulated by Monte Carlo
/// and against the constant-rate closed form, the greedy rate against a line search, the unrolled tape
/// gradient against finite differences, and the schedules' defining properties.
@Suite("NoisyQuadratic")
struct NoisyQuadraticTests {
    static let ill = NoisyQuadratic(curvatures: [1, 0.3, 0.05, 0.01], noise: [0.2, 0.06, 0.01, 0.002], initialMoments: [1, 2, 1, 3])

    /// The noise convention (cᵢ = variance of the gradient noise): simulate θ′ = θ − α(hθ + ε), ε ~ N(0, c),
    /// and compare the sample mean of θ² after T steps with the recursion, within 5 standard errors.
    @Test func recursionMatchesSimulatedSGD() {
        let (h, c, alpha, steps, paths) = (0.8, 0.5, 0.3, 6, 200_000)
        let nqm = NoisyQuadratic(curvatures: [h], noise: [c], initialMoments: [1])
        var g = SeededGenerator(seed: 7)
        var sum = 0.0, sumSquares = 0.0
        for _ in 0..<paths {
            var theta = 1.0      // E θ₀² = 1 = m₀
            for _ in 0..<steps { theta -= alpha * (h * theta + c.squareRoot() * g.nextNormal()) }
            sum += theta * theta
            sumSquares += theta * theta * theta * theta
        }
        let mean = sum / Double(paths), se = ((sumSquares / Double(paths) - mean * mean) / Double(paths)).squareRoot()
        let m = nqm.step(nqm.step(nqm.step(nqm.step(nqm.step(nqm.step([1], rate: alpha), rate: alpha), rate: alpha), rate: alpha), rate: alpha), rate: alpha)
        #expect(abs(mean - m[0]) < 5 * se, "simulated \(mean) ± \(se), recursion \(m[0])")
        // Variance c² instead of c would be 20 standard errors away: the test tells the conventions apart.
        let wrong = NoisyQuadratic(curvatures: [h], noise: [c * c], initialMoments: [1])
        #expect(abs(mean - wrong.loss(after: Array(repeating: alpha, count: steps)) * 2 / h) > 10 * se)
    }

    /// Constant rate α: m_T = r^{2T} m₀ + α² c (1 − r^{2T}) / (1 − r²) with r = 1 − αh.
    @Test func constantRateMatchesTheGeometricSum() {
        for (alpha, t) in [(0.5, 1), (0.9, 10), (1.5, 40), (0.1, 300)] {
            let nqm = Self.ill
            var expected = 0.0
            for i in 0..<4 {
                let r2 = pow(1 - alpha * nqm.curvatures[i], 2), rt = pow(r2, Double(t))
                expected += 0.5 * nqm.curvatures[i] * (rt * nqm.initialMoments[i] + alpha * alpha * nqm.noise[i] * (1 - rt) / (1 - r2))
            }
            let got = nqm.loss(after: Array(repeating: alpha, count: t))
            #expect(abs(got - expected) <= 1e-12 * expected, "α = \(alpha), T = \(t): \(got) vs \(expected)")
        }
    }

    /// Each greedy rate minimizes the next expected loss: a fine line search around it finds nothing lower,
    /// and the central-difference slope of the next loss in α vanishes there.
    @Test func greedyRateMinimizesTheNextLoss() {
        let nqm = Self.ill
        var m = nqm.initialMoments
        for a in nqm.greedySchedule(steps: 8) {
            let next = { (rate: Double) in nqm.loss(nqm.step(m, rate: rate)) }
            for f in [0.9, 0.99, 0.999, 1.001, 1.01, 1.1] { #expect(next(a) <= next(a * f)) }
            let d = 1e-6 * a
            #expect(abs(next(a + d) - next(a - d)) / (2 * d) < 1e-7 * next(a) / a)
            m = nqm.step(m, rate: a)
        }
    }

    /// The loss unrolled on the tape: value equal to the plain recursion, gradient equal to central differences.
    @Test func tapeGradientOfTheUnrolledLossMatchesFiniteDifferences() {
        let nqm = Self.ill
        let rates = [0.9, 1.4, 0.3, 2.1, 0.05, 1.0, 0.7]
        let (value, grad) = valueAndGradient(of: { v in
            nqm.lossVariable(rates: (0..<rates.count).map { v.slice(alongAxis: 0, start: $0, count: 1).reshaped(.scalar) }, on: v)
        }, at: Tensor(rates))
        #expect(abs(value - nqm.loss(after: rates)) <= 1e-14 * value)
        for k in rates.indices {
            let h = 1e-6
            var up = rates, down = rates
            up[k] += h; down[k] -= h
            let fd = (nqm.loss(after: up) - nqm.loss(after: down)) / (2 * h)
            #expect(abs(grad.scalars[k] - fd) <= 1e-6 * max(abs(fd), 1e-3), "rate \(k): tape \(grad.scalars[k]), FD \(fd)")
        }
    }

    /// Spherical and noisy: no search from four non-greedy starts beats greedy (it is optimal by dynamic programming:
    /// m′ = min_α (1 − α)² m + α² c is increasing in m). Ill-conditioned and noisy: the search beats greedy clearly.
    @Test func greedyIsOptimalOnTheSphericalProblemAndBiasedOnTheIllConditionedNoisyOne() {
        func starts(_ p: NoisyQuadratic, _ t: Int) -> [(rates: [Double], momenta: [Double]?)] {
            [0.1, 0.5, 0.9].map { (Array(repeating: $0 * p.rateLimit(), count: t), nil) }
        }
        let sph = NoisyQuadratic.spherical(dimensions: 4, noise: 0.1)
        let sg = sph.loss(after: sph.greedySchedule(steps: 30))
        for r in sph.optimizeSchedule(starts: starts(sph, 30), iterations: 300) {
            #expect(r.loss >= sg * (1 - 1e-9), "spherical: searched \(r.loss) below greedy \(sg)")
            #expect(r.rates.allSatisfy { $0 > 0 && $0 < sph.rateLimit() })
        }
        let ill = NoisyQuadratic.illConditioned(dimensions: 10, condition: 1e3, noiseScale: 0.1)
        let ig = ill.loss(after: ill.greedySchedule(steps: 100))
        let best = ill.optimizeSchedule(starts: starts(ill, 100), iterations: 500).map(\.loss).min()!
        #expect(best < 0.8 * ig, "ill-conditioned: searched \(best) vs greedy \(ig)")
    }

    /// β_max = 0 leaves only β = 0: the momentum search is the plain-SGD search, finite (β/β_max was 0/0, NaN).
    @Test func zeroMaximumMomentumIsPlainSGD() {
        let nqm = NoisyQuadratic.illConditioned(dimensions: 6, condition: 100, noiseScale: 0.1)
        let start: [(rates: [Double], momenta: [Double]?)] = [(Array(repeating: 0.5 * nqm.rateLimit(), count: 8), nil)]
        let plain = nqm.optimizeSchedule(starts: start, iterations: 50)[0]
        let zero = nqm.optimizeSchedule(starts: start, momentum: true, maxMomentum: 0, iterations: 50)[0]
        #expect(zero.loss.isFinite && zero.rates.allSatisfy(\.isFinite))
        #expect(zero.rates == plain.rates && zero.momenta.allSatisfy { $0 == 0 } && zero.loss == plain.loss)
    }

    /// SGD with momentum and noise, v′ = βv − α(hθ + ε), θ′ = θ + v′, simulated: the sample moments E θ², E θv, E v²
    /// after T steps agree with the moment recursion within 5 standard errors.
    @Test func momentumRecursionMatchesSimulatedSGD() {
        let (h, c, steps, paths) = (0.7, 0.4, 7, 200_000)
        let rates = [0.3, 0.9, 0.5, 1.2, 0.4, 0.8, 0.6], betas = [0.0, 0.5, 0.9, 0.3, 0.7, 0.2, 0.6]
        let nqm = NoisyQuadratic(curvatures: [h], noise: [c], initialMoments: [1.5])
        var g = SeededGenerator(seed: 11)
        var sums = [0.0, 0.0, 0.0], squares = [0.0, 0.0, 0.0]
        for _ in 0..<paths {
            var theta = 1.5.squareRoot() * (g.nextNormal() < 0 ? -1.0 : 1.0), v = 0.0   // E θ₀² = 1.5
            for t in 0..<steps { v = betas[t] * v - rates[t] * (h * theta + c.squareRoot() * g.nextNormal()); theta += v }
            for (k, x) in [theta * theta, theta * v, v * v].enumerated() { sums[k] += x; squares[k] += x * x }
        }
        var s = NoisyQuadratic.MomentState([1.5])
        for t in 0..<steps { s = nqm.advance(s, rate: rates[t], momentum: betas[t]) }
        for (k, exact) in [s.a[0], s.b[0], s.c[0]].enumerated() {
            let mean = sums[k] / Double(paths), se = ((squares[k] / Double(paths) - mean * mean) / Double(paths)).squareRoot()
            #expect(abs(mean - exact) < 5 * se, "moment \(k): simulated \(mean) ± \(se), recursion \(exact)")
        }
        #expect(abs(nqm.loss(after: rates, momenta: betas) - 0.5 * h * s.a[0]) < 1e-15)
    }

    /// The adjoint gradient against central differences, with and without momentum, and against the tape's reverse
    /// mode of the unrolled recursion (plain SGD).
    @Test func adjointGradientMatchesFiniteDifferencesAndTheTape() {
        let nqm = Self.ill
        let rates = [0.9, 1.4, 0.3, 1.9, 0.05, 1.0, 0.7], betas = [0.0, 0.4, 0.8, 0.1, 0.95, 0.5, 0.3]
        for momenta in [nil, betas] {
            let r = nqm.lossAndGradient(rates: rates, momenta: momenta)
            #expect(abs(r.loss - nqm.loss(after: rates, momenta: momenta)) <= 1e-14 * r.loss)
            for k in rates.indices {
                let d = 1e-6
                var up = rates, down = rates
                up[k] += d; down[k] -= d
                let fd = (nqm.loss(after: up, momenta: momenta) - nqm.loss(after: down, momenta: momenta)) / (2 * d)
                #expect(abs(r.rates[k] - fd) <= 1e-6 * max(abs(fd), 1e-3), "rate \(k): adjoint \(r.rates[k]), FD \(fd)")
                if var bu = momenta, var bd = momenta {
                    bu[k] += d; bd[k] -= d
                    let fb = (nqm.loss(after: rates, momenta: bu) - nqm.loss(after: rates, momenta: bd)) / (2 * d)
                    #expect(abs(r.momenta[k] - fb) <= 1e-6 * max(abs(fb), 1e-3), "momentum \(k): adjoint \(r.momenta[k]), FD \(fb)")
                }
            }
        }
        let (_, tape) = valueAndGradient(of: { v in
            nqm.lossVariable(rates: (0..<rates.count).map { v.slice(alongAxis: 0, start: $0, count: 1).reshaped(.scalar) }, on: v)
        }, at: Tensor(rates))
        let adjoint = nqm.lossAndGradient(rates: rates).rates
        for k in rates.indices { #expect(abs(adjoint[k] - tape.scalars[k]) <= 1e-12 * max(abs(tape.scalars[k]), 1e-6)) }
    }

    /// Without noise and without the stability limit, greedy momentum is conjugate gradient: its loss after T steps
    /// equals the Krylov optimum. That optimum is checked independently: plain SGD with rates 1/θⱼ, θⱼ the Ritz
    /// values of T Lanczos steps (the roots of CG's polynomial), reaches the same loss.
    @Test func noiseFreeGreedyMomentumIsTheKrylovOptimum() {
        let nqm = NoisyQuadratic.illConditioned(dimensions: 12, condition: 100, noiseScale: 0)
        for t in [1, 2, 5, 8] {
            let g = nqm.greedySchedule(steps: t, momentum: true, stable: false)
            let greedy = nqm.loss(after: g.rates, momenta: g.momenta), krylov = nqm.krylovOptimum(steps: t)
            #expect(abs(greedy - krylov) <= 1e-9 * krylov, "T = \(t): greedy \(greedy), Krylov \(krylov)")
            // Lanczos on H = diag(h) from CG's first residual Hθ₀ (θ₀ = √m₀), then SGD at the inverse Ritz values.
            let h = nqm.curvatures, n = h.count
            var q = zip(h, nqm.initialMoments).map { $0 * $1.squareRoot() }, prev = [Double](repeating: 0, count: n)
            let norm0 = q.map { $0 * $0 }.reduce(0, +).squareRoot()
            q = q.map { $0 / norm0 }
            var alphas: [Double] = [], betas: [Double] = [], beta = 0.0
            for _ in 0..<t {
                var w = zip(h, q).map(*)
                let a = zip(w, q).map(*).reduce(0, +)
                for i in 0..<n { w[i] -= a * q[i] + beta * prev[i] }
                alphas.append(a)
                beta = w.map { $0 * $0 }.reduce(0, +).squareRoot()
                betas.append(beta)
                prev = q
                q = w.map { $0 / beta }
            }
            var tri = Tensor.zeros([t, t])
            for i in 0..<t { tri[i, i] = alphas[i]; if i + 1 < t { tri[i, i + 1] = betas[i]; tri[i + 1, i] = betas[i] } }
            let ritz = LinearAlgebra.symmetricEigen(tri).values
            let sgd = nqm.loss(after: ritz.sorted().map { 1 / $0 })
            #expect(abs(sgd - krylov) <= 1e-8 * krylov, "T = \(t): SGD at 1/Ritz \(sgd), Krylov \(krylov)")
            // Inside the stable region greedy momentum cannot follow CG's large steps and ends higher.
            if t >= 5 {
                let s = nqm.greedySchedule(steps: t, momentum: true)
                #expect(nqm.loss(after: s.rates, momenta: s.momenta) > 1.01 * krylov)
            }
        }
    }

    /// Each greedy momentum step minimizes the next loss over the stable region: no feasible (α, β) on a grid does better.
    @Test func greedyMomentumStepIsTheBestFeasibleStep() {
        let nqm = Self.ill
        let g = nqm.greedySchedule(steps: 6, momentum: true, maxMomentum: 0.9)
        var s = NoisyQuadratic.MomentState(nqm.initialMoments)
        for t in 0..<6 {
            let best = nqm.loss(nqm.advance(s, rate: g.rates[t], momentum: g.momenta[t]).a)
            #expect(g.momenta[t] >= 0 && g.momenta[t] <= 0.9 && g.rates[t] <= nqm.rateLimit(momentum: g.momenta[t]) * (1 + 1e-12))
            for bi in 0...30 { for ai in 0...60 {
                let b = 0.9 * Double(bi) / 30, a = nqm.rateLimit(momentum: b) * Double(ai) / 60
                #expect(nqm.loss(nqm.advance(s, rate: a, momentum: b).a) >= best * (1 - 1e-12), "step \(t): (\(a), \(b)) beats greedy")
            } }
            s = nqm.advance(s, rate: g.rates[t], momentum: g.momenta[t])
        }
    }

    /// The best constant rate against a fine scan of the closed form; the closed form against the recursion.
    @Test func bestConstantRateMatchesAScan() {
        let nqm = NoisyQuadratic.illConditioned(dimensions: 8, condition: 100, noiseScale: 1)
        for t in [10, 1000] {
            let best = nqm.bestConstantRate(steps: t)
            let scan = (1..<20_000).map { nqm.rateLimit() * Double($0) / 20_000 }.map { nqm.constantRateLoss(rate: $0, steps: t) }.min()!
            #expect(best.loss <= scan * (1 + 1e-9) && best.loss >= scan * (1 - 1e-3), "T = \(t): \(best.loss) vs scan \(scan)")
            #expect(abs(nqm.constantRateLoss(rate: best.rate, steps: t) - nqm.loss(after: Array(repeating: best.rate, count: t))) < 1e-12)
        }
    }

    /// The offline fit stays stable (α₀ < 2/h_max, β ≥ 0), reports the loss of what it returns, and improves on its start.
    @Test func offlineFitIsStableAndImprovesOnItsStart() {
        let nqm = NoisyQuadratic.illConditioned(dimensions: 10, condition: 1e3, noiseScale: 0.1)
        let start = (initialRate: 0.5, timeScale: 10.0, power: 0.5)
        let fit = nqm.fitInverseTimeDecay(horizon: 300, starts: [start], iterations: 200)[0]
        #expect(fit.initialRate > 0 && fit.initialRate < nqm.rateLimit() && fit.power >= 0 && fit.timeScale > 0)
        #expect(abs(fit.loss - nqm.loss(after: fit.rates(steps: 300))) <= 1e-14 * fit.loss)
        let startLoss = nqm.loss(after: (0..<300).map { 0.5 * pow(1 + Double($0) / 10, -0.5) })
        #expect(fit.loss < 0.9 * startLoss)
    }

    @Test func mismatchedLengthsAreRefusedWithAMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NoisyQuadratic(curvatures: [1, 2], noise: [0.1], initialMoments: [1, 1])
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("NoisyQuadratic") && stderr.contains("same length"), "stderr: \(stderr)")
    }
}
