import Foundation
import Tape
import Layers

/// The canonical ("exact") hypergradient: v = H⁺ ∂J_out/∂w with H⁺ the Moore–Penrose pseudoinverse of
/// the dense Hessian, i.e. the minimum-norm response Jacobian ∂w*/∂λ = −H⁺M.
///
/// Cost: n Hessian-vector products and an O(n³) eigendecomposition, so it refuses inner problems
/// with more than `maxWeights` parameters (default 400). Tolerance **(ours)**: eigenvalues with
/// |μ| ≤ 1e-10 · max|μ| count as zero. A Hessian assembled from products carries rounding errors near
/// 1e-15 · ‖H‖, which the textbook n·ε cut-off would treat as curvature; 1e-10 keeps every genuine
/// direction down to ten decades below the largest.
public struct ExactHypergradient: ImplicitHypergradientMethod {
    /// Eigenvalues with |μ| ≤ relativeTolerance · max|μ| count as zero (default 1e-10).
    public var relativeTolerance: Double
    /// Largest n accepted (default 400); above it the method throws.
    public var maxWeights: Int
    /// The exact method with the given pseudoinverse cut-off and size limit.
    public init(relativeTolerance: Double = 1e-10, maxWeights: Int = 400) {
        self.relativeTolerance = relativeTolerance
        self.maxWeights = maxWeights
    }
    /// The method name, "exact".
    public var name: String { "exact" }

    /// v = H⁺ b from the dense Hessian (n products) and its pseudoinverse; records the rank kept.
    public func approximateInverse<P: BilevelProblem>(_ d: LocalDerivatives<P>, _ b: Tensor,
                                                      _ diag: inout HypergradientDiagnostics) throws -> Tensor {
        let n = b.count
        guard n <= maxWeights else {
            throw BilevelError("exact: the inner problem has \(n) weights, above the limit of \(maxWeights) for a dense Hessian " +
                               "and its eigendecomposition; use NeumannSeries, TruncatedConjugateGradient or DampedInverse, " +
                               "or raise maxWeights if you can afford O(n³)")
        }
        let h = d.denseHessian()
        guard h.isFinite else { throw BilevelError("exact: the Hessian of the inner objective is not finite") }
        let (v, rank) = LinearAlgebra.pseudoinverse(symmetric: h, times: b, relativeTolerance: relativeTolerance)
        diag.rank = rank
        diag.iterations = n
        return v
    }
}

/// Truncated Neumann series with K terms and step α:  H⁻¹ ≈ α Σ_{k=0}^{K−1} (I − αH)^k,
/// by v₀ = αb, v_k = v_{k−1} + αb − αH v_{k−1} (K − 1 products).
///
/// Convention: **K counts terms**, so K terms equal K unrolled gradient steps from a stationary point
/// (torchopt, betty and hypertorch count K + 1 terms for "K iterations"). The series converges only if
/// 0 < α·μ < 2 for every eigenvalue μ of H: before iterating, the eigenvalue of largest magnitude is estimated by
/// power iteration (`stabilityCheckIterations` products; 0 turns the check off); a step with α·λ_max ≥ 2 is refused
/// with the largest safe step, and a dominant *negative* eigenvalue (w is not a minimum) is refused for every step.
/// A non-finite iterate stops the series with an error naming the term. Smaller negative eigenvalues are not
/// detected: they make the series grow like (1 + α|μ|)^K, which the non-finite check catches only when it overflows.
public struct NeumannSeries: ImplicitHypergradientMethod {
    /// K, the number of series terms (K − 1 Hessian-vector products).
    public var terms: Int
    /// Step α in H⁻¹ ≈ α Σ_{k<K} (I − αH)^k; needs α·λ_max(H) < 2.
    public var step: Double
    /// Power-iteration products used to estimate λ_max(H) before iterating (0: no check).
    public var stabilityCheckIterations: Int
    /// K ≥ 1 terms with step α > 0.
    public init(terms: Int, step: Double, stabilityCheckIterations: Int = 30) {
        require(terms >= 1, "NeumannSeries: terms K must be ≥ 1, got \(terms)")
        require(step > 0 && step.isFinite, "NeumannSeries: step α must be positive and finite, got \(step)")
        self.terms = terms
        self.step = step
        self.stabilityCheckIterations = stabilityCheckIterations
    }
    /// The method name with its setting, "neumann(K=…, α=…)".
    public var name: String { "neumann(K=\(terms), α=\(step))" }

    /// v_K by the Neumann recursion; throws if α·λ_max ≥ 2 (with a safe step) or the series stops being finite.
    public func approximateInverse<P: BilevelProblem>(_ d: LocalDerivatives<P>, _ b: Tensor,
                                                      _ diag: inout HypergradientDiagnostics) throws -> Tensor {
        if stabilityCheckIterations > 0 {
            let dominant = d.dominantEigenvalue(iterations: stabilityCheckIterations)
            diag.dominantEigenvalue = dominant
            guard dominant.isFinite else {
                throw BilevelError("neumann: a Hessian-vector product of the inner objective is not finite at this (λ, w); " +
                                   "check the inner problem for overflow or NaN data")
            }
            // A dominant negative eigenvalue μ makes |1 − αμ| > 1 for every α > 0: no step can fix it.
            if dominant < 0 {
                throw BilevelError("neumann: the Hessian of the inner objective has a negative eigenvalue ≈ \(dominant) of largest " +
                                   "magnitude, so the series diverges for every step α; train the inner problem closer to a " +
                                   "minimum, or use DampedInverse with a damping η above \(-dominant)")
            }
            let lmax = dominant
            // 1% margin: power iteration approaches λ_max from below.
            if !(step * lmax * 1.01 < 2) {
                throw BilevelError("neumann: step α = \(step) times λ_max(H) ≈ \(lmax) is \(step * lmax) ≥ 2, so the series diverges; " +
                                   "use a step below 2/λ_max ≈ \(2 / lmax / 1.01)")
            }
        }
        let ab = step * b
        var v = ab
        for k in 1..<terms {
            v = v + ab - step * d.hessianProduct(v)
            guard v.isFinite else {
                throw BilevelError("neumann: the series became non-finite at term \(k + 1); lower the step α (now \(step))")
            }
        }
        diag.iterations = terms
        return v
    }
}

/// Truncated conjugate gradient: K iterations on (H + ηI) v = ∂J_out/∂w from v = 0. Exact after rank(H)
/// iterations in exact arithmetic, but truncated it has a different bias from Neumann and damping.
/// On breakdown (non-positive curvature: H indefinite, or singular with b outside its range) it stops with
/// the last iterate and says so in `diagnostics.status`.
public struct TruncatedConjugateGradient: ImplicitHypergradientMethod {
    /// K, the maximum number of CG iterations.
    public var iterations: Int
    /// Damping η in (H + ηI) v = b (default 0).
    public var damping: Double
    /// K ≥ 1 iterations with damping η ≥ 0.
    public init(iterations: Int, damping: Double = 0) {
        require(iterations >= 1, "TruncatedConjugateGradient: iterations K must be ≥ 1, got \(iterations)")
        require(damping >= 0, "TruncatedConjugateGradient: damping η must be ≥ 0, got \(damping)")
        self.iterations = iterations
        self.damping = damping
    }
    /// The method name with its setting: "cg(K=…)", or "cg(K=…, η=…)" when damped.
    public var name: String { damping == 0 ? "cg(K=\(iterations))" : "cg(K=\(iterations), η=\(damping))" }

    /// At most K CG iterations on (H + ηI) v = b from v = 0; records iterations, status and residual.
    public func approximateInverse<P: BilevelProblem>(_ d: LocalDerivatives<P>, _ b: Tensor,
                                                      _ diag: inout HypergradientDiagnostics) throws -> Tensor {
        let r = ConjugateGradient.solve(d.hessianProduct, b, damping: damping, maxIterations: iterations, tolerance: 1e-14)
        diag.iterations = r.iterations
        diag.status = r.status.description
        diag.relativeResidual = r.residualNorm / max(b.norm, .leastNormalMagnitude)
        return r.solution
    }
}

/// The damped inverse (H + ηI)⁻¹ ∂J_out/∂w, solved by conjugate gradient to a relative tolerance.
/// It is the exact hypergradient of the proximal inner objective J_in(λ, w) + (η/2)‖w − w₀‖² at w₀ = w.
/// Spectrally, the filter 1/(μ + η) behaves like Neumann with η = 1/(αK).
public struct DampedInverse: ImplicitHypergradientMethod {
    /// Damping η > 0 in (H + ηI) v = b.
    public var damping: Double
    /// CG stops when ‖r‖ ≤ tolerance · ‖b‖.
    public var tolerance: Double
    /// CG iteration budget (nil: max(10 n, 100)).
    public var maxIterations: Int?
    /// The damped inverse with η > 0, solved to `tolerance`.
    public init(damping: Double, tolerance: Double = 1e-12, maxIterations: Int? = nil) {
        require(damping > 0 && damping.isFinite, "DampedInverse: damping η must be positive and finite, got \(damping)")
        self.damping = damping
        self.tolerance = tolerance
        self.maxIterations = maxIterations
    }
    /// The method name with its setting, "damped(η=…)".
    public var name: String { "damped(η=\(damping))" }

    /// v = (H + ηI)⁻¹ b by CG; throws if CG breaks down (H + ηI not positive definite).
    public func approximateInverse<P: BilevelProblem>(_ d: LocalDerivatives<P>, _ b: Tensor,
                                                      _ diag: inout HypergradientDiagnostics) throws -> Tensor {
        let budget = maxIterations ?? max(10 * b.count, 100)
        let r = ConjugateGradient.solve(d.hessianProduct, b, damping: damping, maxIterations: budget, tolerance: tolerance)
        diag.iterations = r.iterations
        diag.status = r.status.description
        diag.relativeResidual = r.residualNorm / max(b.norm, .leastNormalMagnitude)
        if case .breakdown = r.status {
            throw BilevelError("damped: H + ηI is not positive definite (\(r.status)); increase the damping η (now \(damping))")
        }
        return r.solution
    }
}

/// H⁻¹ ≈ I: dJ_out/dλ ≈ ∂J_out/∂λ − Mᵀ ∂J_out/∂w (Neumann with one term, up to the factor α).
public struct IdentityInverse: ImplicitHypergradientMethod {
    /// The identity approximation (no settings).
    public init() {}
    /// The method name, "identity".
    public var name: String { "identity" }
    /// v = b, no Hessian-vector products.
    public func approximateInverse<P: BilevelProblem>(_ d: LocalDerivatives<P>, _ b: Tensor,
                                                      _ diag: inout HypergradientDiagnostics) throws -> Tensor {
        diag.iterations = 0
        return b
    }
}
