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

    /// Spherical: greedy is optimal for every horizon, so optimizing the whole schedule gains nothing.
    /// Ill-conditioned and noisy: the horizon-optimal schedule is clearly better than greedy at a long horizon.
    @Test func greedyIsOptimalOnlyOnTheSphericalProblem() throws {
        let sph = NoisyQuadratic.spherical(dimensions: 4, noise: 0.1)
        let sg = sph.loss(after: sph.greedySchedule(steps: 30)), so = sph.loss(after: try sph.optimizedSchedule(steps: 30, iterations: 100))
        #expect(so >= sg * (1 - 1e-6), "spherical: optimized \(so) below greedy \(sg)")
        let ill = NoisyQuadratic.illConditioned(dimensions: 10, condition: 1e3, noiseScale: 0.1)
        let ig = ill.loss(after: ill.greedySchedule(steps: 100)), io = ill.loss(after: try ill.optimizedSchedule(steps: 100, iterations: 300))
        #expect(io < 0.8 * ig, "ill-conditioned: optimized \(io) vs greedy \(ig)")
    }

    @Test func mismatchedLengthsAreRefusedWithAMessage() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NoisyQuadratic(curvatures: [1, 2], noise: [0.1], initialMoments: [1, 1])
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("NoisyQuadratic") && stderr.contains("same length"), "stderr: \(stderr)")
    }
}
