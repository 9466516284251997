import Foundation
import Testing
import Tape
import Layers
@testable import Bilevel

/// The spectral filters g(μ): closed forms against the recurrences they come from, measured filters against
/// closed forms, and the limits in which damping and Neumann agree (PRIMER section 2).
@Suite("SpectralFilter")
struct SpectralFilterTests {
    /// The Neumann recurrence for H⁻¹b on one eigen-direction (H = μ, b = 1), run by hand:
    /// v₀ = α, v_k = v_{k−1} + α − αμ v_{k−1}, K terms in all.
    static func neumannRecurrence(_ mu: Double, terms k: Int, step alpha: Double) -> Double {
        var v = alpha
        for _ in 1..<max(k, 1) { v = v + alpha - alpha * mu * v }
        return v
    }

    @Test func neumannClosedFormMatchesTheRecurrence() {
        for (k, alpha) in [(1, 1.0), (3, 0.5), (10, 0.9), (100, 1.0), (1000, 0.3)] {
            for e in stride(from: -12.0, through: 0, by: 0.5) {
                let mu = pow(10, e) / alpha     // αμ from 1e-12 to 1
                let closed = SpectralFilter.neumann(mu, terms: k, step: alpha), rec = Self.neumannRecurrence(mu, terms: k, step: alpha)
                #expect(abs(closed - rec) <= 1e-12 * abs(rec) + 1e-300, "K = \(k), α = \(alpha), μ = \(mu): \(closed) vs \(rec)")
            }
        }
        // Past 1/α (but below 2/α) the recurrence oscillates in sign and the closed form still holds.
        for mu in [1.2, 1.5, 1.9] { #expect(abs(SpectralFilter.neumann(mu, terms: 7, step: 1) - Self.neumannRecurrence(mu, terms: 7, step: 1)) < 1e-13) }
    }

    /// K·αμ of order 1 with αμ tiny: (1 − (1 − x)^K)/μ → (1 − e^{−Kx})/μ, which a first-order series would miss.
    @Test func neumannIsAccurateWhenTheStepIsTinyButTheSeriesIsLong() {
        let (k, alpha, mu) = (1_000_000_000, 1.0, 1e-9)
        // (1 − x)^K = exp(K log1p(−x)) with log1p(−x) = −x − x²/2 − O(x³): here K x = 1, K x²/2 = 5e-10.
        let expected = -expm1(-1.0 - Double(k) * mu * mu / 2) / mu
        #expect(abs(SpectralFilter.neumann(mu, terms: k, step: alpha) - expected) < 1e-12 * expected)
        #expect(abs(SpectralFilter.neumann(mu, terms: k, step: alpha) * mu - (1 - exp(-1.0))) < 1e-9)
    }

    @Test func measuredNeumannAndUnrolledFiltersMatchTheRecurrence() throws {
        let mu = (0..<15).map { pow(10, -5 + 5 * Double($0) / 14) }
        for (k, alpha) in [(1, 1.0), (5, 0.7), (50, 1.0)] {
            let neumann = try SpectralFilter.measure(NeumannSeries(terms: k, step: alpha, stabilityCheckIterations: 0), eigenvalues: mu)
            let unrolled = try SpectralFilter.measure(TruncatedUnrolling(steps: k, optimizer: SGD(learningRate: alpha)), eigenvalues: mu)
            for (i, m) in mu.enumerated() {
                let rec = Self.neumannRecurrence(m, terms: k, step: alpha)
                #expect(abs(neumann[i] - rec) <= 1e-12 * rec, "Neumann K = \(k), μ = \(m)")
                #expect(abs(unrolled[i] - rec) <= 1e-12 * rec, "unrolled K = \(k), μ = \(m)")
            }
        }
    }

    @Test func measuredDampedIdentityAndExactFilters() throws {
        let mu = [1e-3, 0.01, 0.1, 0.5, 1, 3]
        let damped = try SpectralFilter.measure(DampedInverse(damping: 0.02), eigenvalues: mu)
        let identity = try SpectralFilter.measure(IdentityInverse(), eigenvalues: mu)
        let exact = try SpectralFilter.measure(ExactHypergradient(), eigenvalues: mu)
        for (i, m) in mu.enumerated() {
            #expect(abs(damped[i] - 1 / (m + 0.02)) <= 1e-10 / (m + 0.02))
            #expect(abs(identity[i] - 1) < 1e-15)
            #expect(abs(exact[i] - 1 / m) <= 1e-9 / m)
        }
    }

    /// With η = 1/(αK): for μ ≫ η, Neumann = (1 − (1 − αμ)^K)/μ is within e^{−μ/η} of 1/μ and damping within
    /// η/μ; for μ ≪ η, Neumann = αK(1 − O(μ/η)) and damping = (1/η)(1 − O(μ/η)). So
    /// |g_N/g_D − 1| ≤ 2·min(μ/η, η/μ) + e^{−μ/η}, while at μ = η they differ by a fixed factor (≈ 1 − 1/e vs ½).
    @Test func dampedMatchesNeumannFarFromTheCutOnly() {
        let (k, alpha) = (1000, 1.0)
        let eta = 1 / (alpha * Double(k))
        for e in stride(from: -9.0, through: 0, by: 0.25) {
            let mu = pow(10, e)
            let ratio = SpectralFilter.neumann(mu, terms: k, step: alpha) / SpectralFilter.damped(mu, damping: eta)
            let bound = 2 * min(mu / eta, eta / mu) + exp(-mu / eta)
            #expect(abs(ratio - 1) <= bound, "μ = \(mu): ratio \(ratio), bound \(bound)")
        }
        #expect(abs(SpectralFilter.neumann(1e-9, terms: k, step: alpha) / SpectralFilter.damped(1e-9, damping: eta) - 1) < 1e-5)
        #expect(abs(SpectralFilter.neumann(1, terms: k, step: alpha) * 1 - 1) < 1e-12)
        let atCut = SpectralFilter.neumann(eta, terms: k, step: alpha) / SpectralFilter.damped(eta, damping: eta)
        #expect(abs(atCut - 2 * (1 - exp(-1))) < 1e-3, "at μ = η: \(atCut)")
    }

    /// CG converges in as many iterations as H has *distinct* eigenvalues (in exact arithmetic): 12 directions
    /// with 3 distinct eigenvalues take 3 iterations, and 2 are not enough.
    @Test func cgIsExactAfterAsManyIterationsAsDistinctEigenvalues() throws {
        let mu = [0.2, 0.5, 1.0].flatMap { Array(repeating: $0, count: 4) }
        let cg3 = try SpectralFilter.measure(TruncatedConjugateGradient(iterations: 3), eigenvalues: mu)
        let cg2 = try SpectralFilter.measure(TruncatedConjugateGradient(iterations: 2), eigenvalues: mu)
        for (i, m) in mu.enumerated() { #expect(abs(cg3[i] - 1 / m) < 1e-10 / m, "μ = \(m): \(cg3[i])") }
        #expect(zip(cg2, mu).map { abs($0 * $1 - 1) }.max()! > 1e-2)
        // Two CG iterations: the filter is the degree-1 polynomial p with g(μ) = p(μ) minimizing the H-norm
        // error for b = 1; it is the same for every direction with the same μ.
        for j in 0..<3 { for r in 1..<4 { #expect(abs(cg2[4 * j + r] - cg2[4 * j]) < 1e-12) } }
    }

    @Test func measureRefusesNonPositiveEigenvalues() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = try? SpectralFilter.measure(IdentityInverse(), eigenvalues: [1, 0])
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("SpectralFilter.measure") && stderr.contains("positive"), "stderr: \(stderr)")
    }
}
