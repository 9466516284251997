import Tape
import Layers

/// A hypergradient dJ_out/dλ at (λ, w) with the numbers that say how it was obtained.
public struct Hypergradient: Sendable {
    /// dJ_out/dλ, shape (m).
    public var gradient: Tensor
    /// J_out(λ, w) at the point where the hypergradient was taken (for unrolling: at the unrolled w_K).
    public var outerLoss: Double
    /// How the hypergradient was computed (method, products, residual, …).
    public var diagnostics: HypergradientDiagnostics
}

/// How a hypergradient was computed.
public struct HypergradientDiagnostics: Sendable, CustomStringConvertible {
    /// The method's name and setting, e.g. "neumann(K=10, α=0.1)".
    public var method: String
    /// Hessian-vector products (or unrolled steps) used.
    public var products: Int = 0
    /// Iterations (Neumann terms, CG iterations, unrolled steps).
    public var iterations: Int = 0
    /// ‖H v − ∂J_out/∂w‖ / ‖∂J_out/∂w‖ of the linear solve, where the method solves one.
    public var relativeResidual: Double? = nil
    /// Rank kept by the pseudoinverse (exact method).
    public var rank: Int? = nil
    /// The eigenvalue of H of largest magnitude, with its sign, estimated by power iteration (Neumann's
    /// stability check: negative means w is not a minimum along that direction).
    public var dominantEigenvalue: Double? = nil
    /// Unrolling only: the largest number of optimizer states held at once (memory, in units of
    /// (2 + stateCount)·n doubles); K + 1 without checkpoints, about K/c + c with checkpoints every c steps.
    public var storedStates: Int? = nil
    /// How an iterative solve stopped.
    public var status: String = "ok"

    /// The method, iterations and products, then whichever of residual, rank and dominant eigenvalue are known, then the status.
    public var description: String {
        var parts = ["\(method): \(iterations) iterations, \(products) products"]
        if let r = relativeResidual { parts.append("relative residual \(r)") }
        if let r = rank { parts.append("rank \(r)") }
        if let l = dominantEigenvalue { parts.append("dominant eigenvalue ≈ \(l)") }
        if let s = storedStates { parts.append("\(s) stored states") }
        parts.append(status)
        return parts.joined(separator: ", ")
    }
}

/// Where a hypergradient is taken, besides (λ, w): the run's initial weights w₀ (only full unrolling needs
/// them: it differentiates the whole inner run from w₀) and the inner step counter t (stochastic objectives
/// pick minibatch t from it). What a custom `HypergradientMethod` receives.
public struct HypergradientContext {
    /// w₀, the weights the inner run started from (nil: not given; `FullUnrolling` then throws).
    public var initialWeights: Tensor?
    /// The inner step counter t at this point (stochastic objectives pick minibatch t from it).
    public var innerStep: Int
    /// Tapes to reuse across calls (`BilevelSolver` passes one per run); nil: fresh tapes.
    package var workspace: BilevelWorkspace?

    /// A context with w₀ (default: none) and the inner step (default 0).
    public init(initialWeights: Tensor? = nil, innerStep: Int = 0) {
        self.initialWeights = initialWeights
        self.innerStep = innerStep
    }

    /// The same, reusing the tapes of `workspace`.
    package init(initialWeights: Tensor?, innerStep: Int, workspace: BilevelWorkspace?) {
        self.init(initialWeights: initialWeights, innerStep: innerStep)
        self.workspace = workspace
    }
}

/// A way to compute dJ_out/dλ = ∂J_out/∂λ + (∂w/∂λ)ᵀ ∂J_out/∂w. Implementations: `ExactHypergradient`,
/// `NeumannSeries`, `TruncatedConjugateGradient`, `DampedInverse`, `IdentityInverse`, `TruncatedUnrolling`,
/// `FullUnrolling`. Call `hypergradient(of:lambda:weights:)`; a custom method implements
/// `hypergradient(of:lambda:weights:context:)`.
public protocol HypergradientMethod: Sendable {
    /// A short name with the setting, e.g. "cg(K=5)".
    var name: String { get }
    /// The hypergradient at (λ, w) in `context`. Throws a `BilevelError` naming the method and what to change
    /// when the computation diverges or cannot be done.
    func hypergradient<P: BilevelProblem>(of problem: P, lambda: Tensor, weights: Tensor,
                                          context: HypergradientContext) throws -> Hypergradient
}

extension HypergradientMethod {
    /// The hypergradient dJ_out/dλ at (λ, w): λ (m) the outer point, w (n) the inner weights there (for the
    /// implicit methods a minimizer of J_in(λ, ·); for truncated unrolling the start of its K steps).
    /// `initialWeights` w₀ is needed by `FullUnrolling` only, which differentiates the whole inner run from w₀
    /// and ignores w; `innerStep` is the inner step counter t a stochastic J_in picks its minibatch from
    /// (default 0). Throws a `BilevelError` naming the method and what to change.
    public func hypergradient<P: BilevelProblem>(of problem: P, lambda: Tensor, weights: Tensor, initialWeights: Tensor? = nil,
                                                 innerStep: Int = 0) throws -> Hypergradient {
        try hypergradient(of: problem, lambda: lambda, weights: weights,
                          context: HypergradientContext(initialWeights: initialWeights, innerStep: innerStep))
    }
}

/// The implicit-function-theorem family: approximate v ≈ H⁻¹ ∂J_out/∂w, then
/// dJ_out/dλ = ∂J_out/∂λ − Mᵀ v. Each method only says how it approximates the inverse.
public protocol ImplicitHypergradientMethod: HypergradientMethod {
    /// v ≈ H⁻¹ b using products with H at the point.
    func approximateInverse<P: BilevelProblem>(_ d: LocalDerivatives<P>, _ b: Tensor,
                                               _ diagnostics: inout HypergradientDiagnostics) throws -> Tensor
}

extension ImplicitHypergradientMethod {
    /// dJ_out/dλ = ∂J_out/∂λ − Mᵀ v with v = `approximateInverse`(∂J_out/∂w); throws if v or the result is not finite.
    public func hypergradient<P: BilevelProblem>(of problem: P, lambda: Tensor, weights: Tensor,
                                                 context: HypergradientContext) throws -> Hypergradient {
        let d = LocalDerivatives(problem: problem, lambda: lambda, weights: weights, step: context.innerStep,
                                 tape: context.workspace?.derivatives ?? Tape())
        let outer = d.outerGradients()
        var diag = HypergradientDiagnostics(method: name)
        let v = try approximateInverse(d, outer.weights, &diag)
        guard v.isFinite else {
            throw BilevelError("\(name): the inverse-Hessian-vector product is not finite; \(diag.status)")
        }
        let (hv, mtv) = d.products(v)
        if diag.relativeResidual == nil {
            diag.relativeResidual = (hv - outer.weights).norm / max(outer.weights.norm, .leastNormalMagnitude)
        }
        diag.products = d.productCount
        let g = outer.lambda - mtv
        guard g.isFinite else {
            throw BilevelError("\(name): the hypergradient is not finite (outer loss \(outer.value)); check the problem for NaN or infinite data")
        }
        return Hypergradient(gradient: g, outerLoss: outer.value, diagnostics: diag)
    }
}

/// Cosine similarity and relative error ‖g − g_exact‖ / ‖g_exact‖ of a hypergradient against the exact one.
public func compare(_ g: Tensor, toExact exact: Tensor) -> (cosine: Double, relativeError: Double) {
    require(g.shape == exact.shape, "compare: hypergradient of shape \(g.shape) vs exact of shape \(exact.shape)")
    let denom = g.norm * exact.norm
    return (denom > 0 ? g.dot(exact) / denom : .nan, (g - exact).norm / max(exact.norm, .leastNormalMagnitude))
}
