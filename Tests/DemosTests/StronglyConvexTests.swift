import Foundation
import Testing
import Tape
import Layers
@testable import Demos

/// The numbers `strongly-convex` prints, against the closed forms of PRIMER results 1, 3 and 4, computed here with
/// Cholesky and the SVD pseudoinverse from the features alone (no tape, no bilevel code).
@Suite("strongly-convex demo (Remark 3.2)")
struct StronglyConvexTests {
    /// The demo's setting, rebuilt: features, original points and the learned points (x, y) of a λ.
    struct Setting {
        let features = FourierFeatures(frequencies: 4)
        let original = SyntheticData.regression1D(points: 40, noise: 0.1, seed: 0)
        let n = 2

        func phi(_ x: [Double]) -> Tensor { features(Tensor(x)) }
        /// φ′(x): d/dx of [1, a_k sin kx, a_k cos kx] = [0, k a_k cos kx, −k a_k sin kx], (n, 2F + 1).
        func phiPrime(_ x: [Double]) -> Tensor {
            var d = Tensor.zeros([x.count, features.featureCount])
            for (i, xi) in x.enumerated() {
                for (k, a) in zip(1..., features.amplitudes) {
                    d[i, 2 * k - 1] = Double(k) * a * cos(Double(k) * xi)
                    d[i, 2 * k] = -Double(k) * a * sin(Double(k) * xi)
                }
            }
            return d
        }
        /// ∇_w J_out = (1/m) Φ°ᵀ(Φ°w − y°).
        func outerGradient(_ w: Tensor) -> Tensor {
            let p = phi(original.inputs.scalars), m = Double(original.count)
            return (1 / m) * p.matmul(p.matmul(w.reshaped([w.count, 1])) - original.targets!.reshaped([original.count, 1]),
                                      transposeSelf: true).reshaped([w.count])
        }
        /// The implicit-function hypergradient −Mᵀ H⁺ ∇_wJ_out at (λ, w) for J_in = (1/2n)‖Φw − y‖² + (δ/2)‖w‖²:
        /// with v = H⁺g, H = ΦᵀΦ/n + δI: dF/dyᵢ = φᵢ·v/n, dF/dxᵢ = [rᵢ φ′ᵢ − (φ′ᵢ·w) φᵢ]·v/n, rᵢ = yᵢ − φᵢ·w.
        func hypergradient(x: [Double], y: [Double], w: Tensor, ridge: Double) -> Tensor {
            let p = phi(x), dp = phiPrime(x), nf = Double(n), d = w.count
            let h = (1 / nf) * p.matmul(p, transposeSelf: true) + ridge * Tensor.identity(d)
            let v = LinearAlgebra.pseudoinverse(symmetric: h).inverse.matmul(outerGradient(w).reshaped([d, 1])).reshaped([d])
            var gx: [Double] = [], gy: [Double] = []
            for i in 0..<n {
                let phiI = Tensor((0..<d).map { p[i, $0] }), dphiI = Tensor((0..<d).map { dp[i, $0] })
                let r = y[i] - phiI.dot(w)
                gx.append((r * dphiI - dphiI.dot(w) * phiI).dot(v) / nf)
                gy.append(phiI.dot(v) / nf)
            }
            return Tensor(gx + gy)
        }
    }

    func concept(_ r: [String: Any], _ regime: String, _ name: String) throws -> (lambda: [Double], weights: Tensor) {
        let c = try #require(((r[regime] as? [String: Any])?["concepts"] as? [String: Any])?[name] as? [String: Any])
        let lambda = try #require((c["lambda"] as? [Any])?.compactMap(number)), weights = try #require((c["weights"] as? [Any])?.compactMap(number))
        return (lambda, Tensor(weights))
    }

    func distance(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() }

    @Test func strongConvexityMakesTheConceptsAgreeAndOverparameterizationDoesNot() throws {
        let (status, out) = runDemo(["strongly-convex", "--quick"])
        #expect(status == 0)
        let r = try readResult(out)
        let s = Setting()

        // δ = 0.1: cold start's w is the unique inner solution (ΦᵀΦ/n + δI)⁻¹Φᵀy/n at its λ, and that λ is a stationary
        // point of F(λ) = J_out(w*(λ)); full warm start ends at the same λ to the inner tolerance, partial warm close by.
        let ridge = 0.1
        let cold = try concept(r, "strongly_convex", "cold"), full = try concept(r, "strongly_convex", "full warm"),
            partial = try concept(r, "strongly_convex", "partial warm (T = 1)")
        let (x, y) = (Array(cold.lambda[0..<2]), Array(cold.lambda[2...]))
        let p = s.phi(x)
        let wStar = try LinearAlgebra.choleskySolve((1 / 2.0) * p.matmul(p, transposeSelf: true) + ridge * Tensor.identity(9),
                                                    (1 / 2.0) * p.matmul(Tensor(shape: [2, 1], scalars: y), transposeSelf: true)).reshaped([9])
        #expect((cold.weights - wStar).norm < 1e-9, "cold w vs closed form: \((cold.weights - wStar).norm)")
        let grad = s.hypergradient(x: x, y: y, w: wStar, ridge: ridge)
        #expect(grad.norm < 1e-8, "closed-form ‖dF/dλ‖ at the cold λ: \(grad.norm)")
        #expect(s.hypergradient(x: [-2, 2], y: [0, 0], w: .zeros([9]), ridge: ridge).norm > 1e-2,
                "λ₀ (where w* = 0) is not stationary, so the runs had to travel")
        let strong = try #require(r["strongly_convex"] as? [String: Any])
        #expect(abs(number(strong["full_vs_cold"])! - distance(full.lambda, cold.lambda)) < 1e-15)
        #expect(distance(full.lambda, cold.lambda) < 1e-9, "full warm vs cold \(distance(full.lambda, cold.lambda))")
        #expect(distance(partial.lambda, full.lambda) < 1e-7, "partial vs full warm \(distance(partial.lambda, full.lambda))")

        // δ = 0: cold start's w is the minimum-norm interpolant Φ⁺y (result 1 from w₀ = 0) and the exact (pseudoinverse)
        // hypergradient vanishes there; full warm start also interpolates its points but keeps a memory (w ≠ Φ⁺y) and
        // ends at another λ.
        let cold0 = try concept(r, "overparameterized", "cold"), full0 = try concept(r, "overparameterized", "full warm")
        let (x0, y0) = (Array(cold0.lambda[0..<2]), Array(cold0.lambda[2...]))
        let minNorm = LinearAlgebra.pseudoinverse(s.phi(x0)).inverse.matmul(Tensor(shape: [2, 1], scalars: y0)).reshaped([9])
        #expect((cold0.weights - minNorm).norm < 1e-8, "cold w vs Φ⁺y: \((cold0.weights - minNorm).norm)")
        #expect(s.hypergradient(x: x0, y: y0, w: minNorm, ridge: 0).norm < 1e-8)
        let (xw, yw) = (Array(full0.lambda[0..<2]), Array(full0.lambda[2...]))
        let fit = s.phi(xw).matmul(full0.weights.reshaped([9, 1])).scalars
        #expect(distance(fit, yw) < 1e-8, "full warm start interpolates its final points")
        let retrained = LinearAlgebra.pseudoinverse(s.phi(xw)).inverse.matmul(Tensor(shape: [2, 1], scalars: yw)).reshaped([9])
        #expect((full0.weights - retrained).norm > 0.05, "warm w remembers the path: ‖w − Φ⁺y‖ = \((full0.weights - retrained).norm)")
        #expect(distance(full0.lambda, cold0.lambda) > 1e-3, "full warm vs cold \(distance(full0.lambda, cold0.lambda))")
    }
}
