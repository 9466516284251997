import Testing
import Tape
import Layers
@testable import Bilevel

/// The implicit methods take their products from J_in's gradient linearized once at (λ, w)
/// (`LocalDerivatives` → `Linearization`). Their hypergradients must have the very bits of the same
/// algorithms written with a fresh forward-over-reverse HVP per product, as they were computed before.
@Suite("Hypergradients from a linearized inner gradient")
struct LinearizedHypergradientTests {
    /// Anti-distillation with a small tanh MLP (so H changes with w and has curvature in every term of the
    /// rules), at a point that is not stationary.
    static func problem() -> (TargetDistillation<MLP>, Tensor, Tensor) {
        var g = SeededGenerator(seed: 5)
        let mlp = MLP(widths: [1, 6, 6, 1], activation: .tanh)
        let p = TargetDistillation(model: mlp, learnedInputs: Tensor.randomNormal([7, 1], using: &g),
                                   originalInputs: Tensor.randomNormal([4, 1], using: &g),
                                   originalTargets: Tensor.randomNormal([4, 1], using: &g))
        return (p, Tensor.randomNormal([7], using: &g), mlp.initialParameters(using: &g))
    }

    /// (Hv, Mᵀv) by a fresh HVP: the reference.
    static func freshProducts(_ p: TargetDistillation<MLP>, _ lambda: Tensor, _ w: Tensor, _ v: Tensor) -> (hv: Tensor, mtv: Tensor) {
        var out: [Tensor] = []
        Tape().hessianVectorProduct(of: { x in p.innerObjective(lambda: x[0], weights: x[1], step: 0) },
                                    at: [lambda, w], along: [nil, v], into: &out)
        return (out[1], out[0])
    }

    /// ∂J_out/∂λ − Mᵀv with v = solve(∂J_out/∂w), every product fresh.
    static func reference(_ solve: (Tensor, (Tensor) -> Tensor) -> Tensor) -> Tensor {
        let (p, lambda, w) = problem()
        let outer = Tape().valueAndGradient(of: { x in p.outerObjective(lambda: x[0], weights: x[1]) }, at: [lambda, w]).gradients
        let v = solve(outer[1]) { freshProducts(p, lambda, w, $0).hv }
        return outer[0] - freshProducts(p, lambda, w, v).mtv
    }

    static func linearized<M: ImplicitHypergradientMethod>(_ method: M) throws -> Tensor {
        let (p, lambda, w) = problem()
        return try method.hypergradient(of: p, lambda: lambda, weights: w, context: HypergradientContext(initialWeights: w)).gradient
    }

    @Test("conjugate gradients and the damped inverse: the bits of fresh products")
    func conjugateGradients() throws {
        for (k, eta) in [(6, 0.0), (6, 0.3)] {
            let want = Self.reference { b, hv in
                ConjugateGradient.solve(hv, b, damping: eta, maxIterations: k, tolerance: 1e-14).solution
            }
            let got = try Self.linearized(TruncatedConjugateGradient(iterations: k, damping: eta))
            #expect(got == want, "cg(K=\(k), η=\(eta)): \(got.scalars) vs \(want.scalars)")
        }
        let want = Self.reference { b, hv in
            ConjugateGradient.solve(hv, b, damping: 50, maxIterations: max(10 * b.count, 100), tolerance: 1e-12).solution
        }
        // η large enough for H + ηI to be positive definite at this point, which is not a minimum.
        let got = try Self.linearized(DampedInverse(damping: 50))
        #expect(got == want, "damped(η=50): \(got.scalars) vs \(want.scalars)")
    }

    @Test("the Neumann series: the bits of fresh products")
    func neumann() throws {
        let alpha = 0.05
        let want = Self.reference { b, hv in
            var v = alpha * b
            for _ in 1..<8 { v = v + alpha * b - alpha * hv(v) }
            return v
        }
        let got = try Self.linearized(NeumannSeries(terms: 8, step: alpha, stabilityCheckIterations: 0))
        #expect(got == want, "\(got.scalars) vs \(want.scalars)")
    }

    @Test("the exact method's dense Hessian, in blocks of columns: the bits of fresh products, and the hypergradient")
    func exact() throws {
        let (p, lambda, w) = Self.problem()
        let n = w.count
        let d = LocalDerivatives(problem: p, lambda: lambda, weights: w)
        let h = d.denseHessian()
        #expect(d.productCount == n)
        var fresh = Tensor.zeros([n, n])
        for j in 0..<n {
            var e = Tensor.zeros([n]); e.scalars[j] = 1
            let column = Self.freshProducts(p, lambda, w, e).hv
            for i in 0..<n { fresh.scalars[i * n + j] = column.scalars[i] }
        }
        for i in 0..<n { for j in (i + 1)..<n {
            let s = 0.5 * (fresh.scalars[i * n + j] + fresh.scalars[j * n + i])
            fresh.scalars[i * n + j] = s; fresh.scalars[j * n + i] = s
        } }
        #expect(h == fresh, "the dense Hessian differs from the column-by-column one")
        let want = Self.reference { b, _ in LinearAlgebra.pseudoinverse(symmetric: fresh, times: b, relativeTolerance: 1e-10).product }
        let got = try Self.linearized(ExactHypergradient())
        #expect(got == want, "\(got.scalars) vs \(want.scalars)")
    }
}
