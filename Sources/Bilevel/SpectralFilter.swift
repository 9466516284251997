import Foundation
import Tape
import Layers

/// The spectral view of hypergradient approximations: on an eigen-direction of H with eigenvalue μ,
/// a method replaces 1/μ by its filter g(μ).
public enum SpectralFilter {
    /// Exact inverse: 1/μ.
    public static func exact(_ mu: Double) -> Double { 1 / mu }

    /// K-term Neumann series with step α: (1 − (1 − αμ)^K)/μ = α Σ_{j<K} (1 − αμ)^j
    /// (≈ αK for μ ≪ 1/(αK), ≈ 1/μ for μ ≫ 1/(αK)). μ > 0, K ≥ 1.
    public static func neumann(_ mu: Double, terms k: Int, step alpha: Double) -> Double {
        require(mu > 0 && k >= 1 && alpha > 0, "SpectralFilter.neumann: need μ > 0, K ≥ 1, α > 0; got μ = \(mu), K = \(k), α = \(alpha)")
        let x = alpha * mu
        // For 0 < αμ < 1, 1 − (1 − x)^K = −expm1(K·log1p(−x)) has no cancellation even when x is tiny
        // (the plain form loses every digit below x ≈ 1e-16/K); above 1 there is nothing to cancel.
        if x < 1 { return -Foundation.expm1(Double(k) * Foundation.log1p(-x)) / mu }
        return (1 - Foundation.pow(1 - x, Double(k))) / mu
    }

    /// Damped inverse: 1/(μ + η).
    public static func damped(_ mu: Double, damping eta: Double) -> Double { 1 / (mu + eta) }

    /// The filter of any method, *measured*: the method is applied to the diagonal quadratic
    /// J_in(λ, w) = ½ Σᵢ μᵢ wᵢ² − λ·w at λ = 0, w = 0 (a stationary point, H = diag(μ), M = −I) with
    /// J_out(λ, w) = Σᵢ wᵢ, so ∂J_out/∂w = 1 and the hypergradient is −Mᵀv = v ≈ H⁻¹·1: its i-th entry
    /// is g(μᵢ). Every eigen-direction is weighted equally by this right-hand side; for methods that are
    /// not polynomials in H of fixed degree (CG), the filter depends on the whole spectrum and on b, and
    /// this is the choice we report **(ours)**.
    public static func measure<M: HypergradientMethod>(_ method: M, eigenvalues mu: [Double]) throws -> [Double] {
        require(!mu.isEmpty && mu.allSatisfy { $0 > 0 }, "SpectralFilter.measure: eigenvalues must be positive")
        let diag = Tensor(mu)
        let n = mu.count
        let problem = ClosureProblem(
            initialLambda: .zeros([n]), initialWeights: .zeros([n]),
            inner: { l, w, _ in (w.squared() * diag).sum() * 0.5 - l.dot(w) },
            outer: { _, w in w.sum() })
        let hg = try method.hypergradient(of: problem, lambda: .zeros([n]), weights: .zeros([n]), initialWeights: .zeros([n]))
        return hg.gradient.scalars
    }
}
