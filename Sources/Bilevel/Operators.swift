import Tape
import Layers

/// The derivatives every hypergradient method needs at one point (λ, w), with reusable tapes.
///
/// H = ∂²J_in/∂w², M = ∂²J_in/∂w∂λ. One forward-over-reverse sweep of J_in along (0, v) gives
/// (Mᵀv, Hv): the JVP of the joint gradient (∂J_in/∂λ, ∂J_in/∂w) in direction (0, v).
public final class LocalDerivatives<P: BilevelProblem> {
    /// The problem whose J_in is differentiated.
    public let problem: P
    /// The outer point λ, shape (m).
    public let lambda: Tensor
    /// The inner point w, shape (n).
    public let weights: Tensor
    /// The inner step index used for J_in (stochastic objectives).
    public let step: Int
    let tape: Tape
    /// Hessian-vector products performed so far.
    public private(set) var productCount = 0
    /// The last products, reused by the next (no allocation when the caller has let go of them).
    private var scratch: [Tensor] = []
    /// The joint gradient of J_in linearized at (λ, w) on `tape`: made by the first product, reused by the
    /// others (each then runs only the tangent half of the sweep); nil again once `tape` serves another call.
    private var linearization: Linearization?

    /// Derivatives at (λ, w) with J_in taken at inner step `step`; `tape` is reused by every evaluation.
    public init(problem: P, lambda: Tensor, weights: Tensor, step: Int = 0, tape: Tape = Tape()) {
        self.problem = problem
        self.lambda = lambda
        self.weights = weights
        self.step = step
        self.tape = tape
    }

    /// (Hv, Mᵀv) at (λ, w), from J_in's gradient linearized once at the point (`Linearization`): the same
    /// bits as a fresh HVP, without recomputing the primal values and cotangents at every product.
    public func products(_ v: Tensor) -> (hv: Tensor, mtv: Tensor) {
        productCount += 1
        linearized().hessianVectorProduct(along: [nil, v], into: &scratch)
        return (scratch[1], scratch[0])
    }

    /// The linearization at the point, made on first use.
    private func linearized() -> Linearization {
        if let linearization { return linearization }
        let p = problem, s = step
        let l = tape.linearizedGradient(of: { x in p.innerObjective(lambda: x[0], weights: x[1], step: s) }, at: [lambda, weights])
        linearization = l
        return l
    }

    /// H v.
    public func hessianProduct(_ v: Tensor) -> Tensor { products(v).hv }

    /// J_out(λ, w), ∂J_out/∂λ and ∂J_out/∂w.
    public func outerGradients() -> (value: Double, lambda: Tensor, weights: Tensor) {
        linearization = nil   // the tape's next call ends it
        let p = problem
        let r = tape.valueAndGradient(of: { x in p.outerObjective(lambda: x[0], weights: x[1]) }, at: [lambda, weights])
        return (r.value, r.gradients[0], r.gradients[1])
    }

    /// ∂J_in/∂w at (λ, w).
    public func innerGradient() -> Tensor {
        linearization = nil
        let p = problem, s = step
        return tape.valueAndGradient(of: { x in p.innerObjective(lambda: x[0], weights: x[1], step: s) },
                                     at: [lambda, weights], wrt: [1]).gradients[0]
    }

    /// The dense (n, n) Hessian from n products (small problems only), run in blocks of directions
    /// (`Linearization.hessian(ofInput:)`: up to 32 columns per sweep).
    public func denseHessian() -> Tensor {
        let n = weights.count
        var h = linearized().hessian(ofInput: 1)
        productCount += n
        // Symmetrize: the two halves differ only by rounding.
        h.scalars.withUnsafeMutableBufferPointer { h in
            for i in 0..<n { for j in (i + 1)..<max(i + 1, n) {
                let s = 0.5 * (h[i * n + j] + h[j * n + i])
                h[i * n + j] = s; h[j * n + i] = s
            } }
        }
        return h
    }

    /// The eigenvalue of H of largest magnitude, with its sign, by power iteration from a seeded start
    /// (the Rayleigh quotient vᵀHv/vᵀv after `iterations` products). Negative means w is not a minimum of J_in
    /// along the dominant direction. Approaches |μ|_max from below; +∞ if a product is not finite.
    public func dominantEigenvalue(iterations: Int = 30, seed: UInt64 = 0x5eed) -> Double {
        var g = SeededGenerator(seed: seed)
        var v = Tensor.randomNormal(weights.shape, using: &g)
        var estimate = 0.0
        for _ in 0..<iterations {
            let nv = v.norm
            guard nv > 0, nv.isFinite else { return nv.isFinite ? estimate : .infinity }
            v = (1 / nv) * v
            let hv = hessianProduct(v)
            estimate = v.dot(hv)
            v = hv
        }
        return estimate
    }
}
