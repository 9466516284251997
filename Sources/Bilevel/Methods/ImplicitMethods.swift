import Foundation
import Tape
import Layers

/// The canonical ("exact") hypergradient: v = H⁺ ∂J_out/∂w with H⁺ the Moore–Penrose pseudoinverse of
/// the dense Hessian, i.e. the minimum-norm response Jacobian ∂w*/∂λ = −H⁺M.
///
/// Cost: n Hessian-vector products and an O(n³) Jacobi eigendecomposition, so it refuses inner problems
/// with more than `maxWeights` parameters (default 400). Tolerance **(ours)**: eigenvalues with
/// |μ| ≤ 1e-10 · max|μ| count as zero. A Hessian assembled from products carries rounding errors near
/// 1e-15 · ‖H‖, which the textbook n·ε cut-off would treat as curvature; 1e-10 keeps every genuine
/// direction down to ten decades below the largest.
public struct ExactHypergradient: ImplicitHypergradientMethod {
    public var relativeTolerance: Double
    public var maxWeights: Int
    public init(relativeTolerance: Double = 1e-10, maxWeights: Int = 400) {
        self.relativeTolerance = relativeTolerance
        self.maxWeights = maxWeights
    }
    public var name: String { "exact" }

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
        let (pinv, rank) = LinearAlgebra.pseudoinverse(symmetric: h, relativeTolerance: relativeTolerance)
        diag.rank = rank
        diag.iterations = n
        return pinv.matmul(b.reshaped([n, 1])).reshaped([n])
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
    public var terms: Int
    public var step: Double
    public var stabilityCheckIterations: Int
    public init(terms: Int, step: Double, stabilityCheckIterations: Int = 30) {
        require(terms >= 1, "NeumannSeries: terms K must be ≥ 1, got \(terms)")
        require(step > 0 && step.isFinite, "NeumannSeries: step α must be positive and finite, got \(step)")
        self.terms = terms
        self.step = step
        self.stabilityCheckIterations = stabilityCheckIterations
    }
    public var name: String { "neumann(K=\(terms), α=\(step))" }

    public func approximateInverse<P: BilevelProblem>(_ d: LocalDerivatives<P>, _ b: Tensor,
                                                      _ diag: inout HypergradientDiagnostics) throws -> Tensor {
        if stabilityCheckIterations > 0 {
            let dominant = d.dominantEigenvalue(iterations: stabilityCheckIterations)
            diag.largestEigenvalue = dominant
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
    public var iterations: Int
    public var damping: Double
    public init(iterations: Int, damping: Double = 0) {
        require(iterations >= 1, "TruncatedConjugateGradient: iterations K must be ≥ 1, got \(iterations)")
        require(damping >= 0, "TruncatedConjugateGradient: damping η must be ≥ 0, got \(damping)")
        self.iterations = iterations
        self.damping = damping
    }
    public var name: String { damping == 0 ? "cg(K=\(iterations))" : "cg(K=\(iterations), η=\(damping))" }

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
    public var damping: Double
    public var tolerance: Double
    public var maxIterations: Int?
    public init(damping: Double, tolerance: Double = 1e-12, maxIterations: Int? = nil) {
        require(damping > 0 && damping.isFinite, "DampedInverse: damping η must be positive and finite, got \(damping)")
        self.damping = damping
        self.tolerance = tolerance
        self.maxIterations = maxIterations
    }
    public var name: String { "damped(η=\(damping))" }

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
    public init() {}
    public var name: String { "identity" }
    public func approximateInverse<P: BilevelProblem>(_ d: LocalDerivatives<P>, _ b: Tensor,
                                                      _ diag: inout HypergradientDiagnostics) throws -> Tensor {
        diag.iterations = 0
        return b
    }
}
