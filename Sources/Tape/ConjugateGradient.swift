/// Conjugate gradient for A x = b with a symmetric positive (semi)definite linear operator A
/// given only as a product v ↦ A v (for a Hessian: a Hessian-vector product).
public enum ConjugateGradient {
    /// Why the iteration stopped.
    public enum Status: Equatable, Sendable, CustomStringConvertible {
        /// ‖b − A x‖ ≤ tolerance · ‖b‖.
        case converged
        /// The iteration budget ran out (truncated CG: the usual case in bilevel optimization).
        case iterationLimit
        /// A search direction p with pᵀA p ≤ threshold · ‖p‖² (the operator is indefinite or
        /// singular along p); x is the last iterate before the breakdown.
        case breakdown(iteration: Int, curvature: Double)

        /// A one-line explanation; for a breakdown, where it happened and what to do.
        public var description: String {
            switch self {
            case .converged: "converged"
            case .iterationLimit: "iteration limit reached"
            case let .breakdown(k, c):
                "breakdown at iteration \(k): curvature pᵀAp/‖p‖² = \(c) is not positive; the operator is indefinite or singular along p (add damping)"
            }
        }
    }

    /// The iterate, how it stopped, and how far it is from solving the system.
    public struct Result: Sendable {
        /// The approximate solution x.
        public var solution: Tensor
        /// Products with A performed.
        public var iterations: Int
        /// ‖b − (A + ηI) x‖ (tracked by the recurrence).
        public var residualNorm: Double
        /// Why the iteration stopped.
        public var status: Status
    }

    /// Solves (A + η I) x = b from x₀ (default 0) with at most `maxIterations` products.
    /// Stops early when ‖r‖ ≤ tolerance·‖b‖, or on breakdown: pᵀ(A + ηI)p ≤ curvatureThreshold · ‖p‖² ·
    /// (largest curvature seen so far), which catches indefinite operators and, for singular
    /// semidefinite ones, a right-hand side with a null-space component.
    public static func solve(_ apply: (Tensor) -> Tensor, _ b: Tensor, initial x0: Tensor? = nil, damping eta: Double = 0,
                             maxIterations: Int, tolerance: Double = 1e-12, curvatureThreshold: Double = 1e-12) -> Result {
        func op(_ v: Tensor) -> Tensor { eta == 0 ? apply(v) : apply(v) + eta * v }
        require(maxIterations >= 0, "ConjugateGradient.solve: maxIterations must be ≥ 0, got \(maxIterations)")
        var x = x0 ?? Tensor.zeros(b.shape)
        var r = x0 == nil ? b : b - op(x)
        var p = r
        var rr = r.dot(r)
        let bNorm = b.norm
        var iterations = 0
        var maxCurvature = 0.0
        if rr.squareRoot() <= tolerance * bNorm { return Result(solution: x, iterations: 0, residualNorm: rr.squareRoot(), status: .converged) }
        while iterations < maxIterations {
            let ap = op(p)
            iterations += 1
            let pap = p.dot(ap), pp = p.dot(p)
            let curvature = pap / pp
            maxCurvature = max(maxCurvature, curvature)
            if !(curvature > curvatureThreshold * maxCurvature) || !curvature.isFinite {
                return Result(solution: x, iterations: iterations, residualNorm: rr.squareRoot(),
                              status: .breakdown(iteration: iterations, curvature: curvature))
            }
            let alpha = rr / pap
            x = x + alpha * p
            r = r - alpha * ap
            let rrNew = r.dot(r)
            if rrNew.squareRoot() <= tolerance * bNorm {
                return Result(solution: x, iterations: iterations, residualNorm: rrNew.squareRoot(), status: .converged)
            }
            p = r + (rrNew / rr) * p
            rr = rrNew
        }
        return Result(solution: x, iterations: iterations, residualNorm: rr.squareRoot(), status: .iterationLimit)
    }
}
