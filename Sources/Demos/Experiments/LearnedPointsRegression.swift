import Foundation
import Tape
import Layers
import Bilevel

/// The bilevel problem of the `strongly-convex` demo: n learned regression points (xᵢ, yᵢ) — inputs *and*
/// targets in λ = [x₁ … x_n, y₁ … y_n] — fitted by a Fourier regressor f(x) = φ(x)·w with a ridge term,
///
///     J_in(λ, w)  = (1/2n) Σᵢ (φ(xᵢ)·w − yᵢ)² + (δ/2)‖w‖²,
///     J_out(λ, w) = (1/2m) Σⱼ (φ(x°ⱼ)·w − y°ⱼ)²   (the fit to m original points).
///
/// δ > 0 makes J_in strongly convex in w (Hessian ΦᵀΦ/n + δI ≻ 0): one inner solution per λ (PRIMER results 3
/// and 4). δ = 0 with n < 2F + 1 features is the overparameterized case: the solutions {w : Φw = y} form an affine
/// subspace that moves *and turns* with the learned inputs, so warm start can remember where the points were
/// (PRIMER result 5). w₀ = 0.
struct LearnedPointsRegression: BilevelProblem {
    let features: FourierFeatures
    /// δ, the ridge coefficient of J_in.
    let ridge: Double
    /// Original points: inputs (m, 1), targets (m, 1).
    let originalInputs: Tensor, originalTargets: Tensor
    /// λ₀ = [x₁ … x_n, y₁ … y_n].
    let initialLambda: Tensor
    var pointCount: Int { initialLambda.count / 2 }
    var featureCount: Int { features.featureCount }

    init(features: FourierFeatures, ridge: Double, original: Dataset, initialInputs: [Double], initialTargets: [Double]) {
        require(initialInputs.count == initialTargets.count && !initialInputs.isEmpty,
                "LearnedPointsRegression: \(initialInputs.count) inputs for \(initialTargets.count) targets")
        self.features = features
        self.ridge = ridge
        originalInputs = original.inputs
        originalTargets = original.targets!.reshaped([original.count, 1])
        initialLambda = Tensor(initialInputs + initialTargets)
    }

    func initialWeights(using generator: inout SeededGenerator) -> Tensor { .zeros([featureCount]) }

    func innerObjective(lambda: Variable, weights: Variable, step: Int) -> Variable {
        let n = pointCount
        let x = lambda.slice(alongAxis: 0, start: 0, count: n).reshaped([n, 1])
        let y = lambda.slice(alongAxis: 0, start: n, count: n).reshaped([n, 1])
        let fit = (features(x).matmul(weights.reshaped([featureCount, 1])) - y).squared().sum() * (0.5 / Double(n))
        return ridge > 0 ? fit + weights.squared().sum() * (ridge / 2) : fit
    }

    func outerObjective(lambda: Variable, weights: Variable) -> Variable {
        let m = originalInputs.shape.rows
        let fit = features(weights.constant(originalInputs)).matmul(weights.reshaped([featureCount, 1])) - weights.constant(originalTargets)
        return fit.squared().sum() * (0.5 / Double(m))
    }

    /// The learned inputs x and targets y in λ.
    func points(_ lambda: Tensor) -> (x: [Double], y: [Double]) {
        (Array(lambda.scalars[0..<pointCount]), Array(lambda.scalars[pointCount...]))
    }

    /// f(x) = φ(x)·w at the given inputs.
    func curve(_ xs: [Double], weights: Tensor) -> [Double] {
        features(Tensor(xs)).matmul(weights.reshaped([featureCount, 1])).scalars
    }
}
