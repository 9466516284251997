import Tape
import Layers

/// Learning the targets of synthetic regression points (anti-distillation, PRIMER result 6): λ holds the
/// n targets of synthetic points at fixed inputs x (n, d); the inner problem fits a model to them,
/// J_in(λ, w) = (1/n) Σᵢ (f(xᵢ; w) − λᵢ)²; the outer problem is the fit to the original points,
/// J_out(λ, w) = (1/m) Σⱼ (f(x°ⱼ; w) − y°ⱼ)².
///
/// For a model that is linear in w (`LinearInParameters`: `FourierRegressor`, or a one-output `LinearModel`
/// with Φ = [x, 1]) the inner problem has the closed-form solution w* = w₀ + Φ⁺(λ − Φw₀), the point gradient
/// descent from w₀ converges to: the problem is then a `ClosedFormInnerSolution`.
public struct TargetDistillation<M: Model>: BilevelProblem {
    /// The regressor f(x; w) fitted in the inner problem.
    public let model: M
    /// Inputs of the learned points, (n, d).
    public let learnedInputs: Tensor
    /// Original points: inputs (m, d) and targets (m, 1).
    public let originalInputs: Tensor
    /// Targets of the original points, (m, 1).
    public let originalTargets: Tensor
    /// λ₀, the initial targets of the learned points, shape (n) (default zeros).
    public let initialLambda: Tensor
    /// Seed of w₀ (`initialWeights` ignores the generator so that cold starts are reproducible per problem).
    public let weightsSeed: UInt64
    /// Φ and Φ⁺ for the closed-form inner solution (nil when the model is not linear in its parameters).
    let features: (phi: Tensor, pinv: Tensor)?
    /// Φ(x°) of the original inputs, for a model linear in w (nil otherwise).
    let originalFeatures: Tensor?

    /// Learned points at `learnedInputs` (n, d); original inputs (m, d) and targets (m) or (m, 1); λ₀ (n) defaults to zeros.
    public init(model: M, learnedInputs: Tensor, originalInputs: Tensor, originalTargets: Tensor,
                initialLambda: Tensor? = nil, weightsSeed: UInt64 = 0) {
        require(originalInputs.shape.rows == originalTargets.count,
                "TargetDistillation: \(originalInputs.shape.rows) original inputs for \(originalTargets.count) targets")
        self.model = model
        self.learnedInputs = learnedInputs
        self.originalInputs = originalInputs
        self.originalTargets = originalTargets.reshaped([originalTargets.count, 1])
        let n = learnedInputs.shape.rows
        self.initialLambda = initialLambda ?? .zeros([n])
        require(self.initialLambda.shape == Shape([n]), "TargetDistillation: λ₀ has shape \(self.initialLambda.shape), expected (\(n))")
        self.weightsSeed = weightsSeed
        if let linear = model as? any LinearInParameters {
            let phi = linear.featureMatrix(learnedInputs)
            features = (phi, LinearAlgebra.pseudoinverse(phi).inverse)
            originalFeatures = linear.featureMatrix(originalInputs)
        } else {
            features = nil
            originalFeatures = nil
        }
    }

    /// The model's initial parameters from `weightsSeed`; the generator passed in is not used.
    public func initialWeights(using generator: inout SeededGenerator) -> Tensor {
        var g = SeededGenerator(seed: weightsSeed)
        return model.initialParameters(using: &g)
    }

    /// (1/n) Σᵢ (f(xᵢ; w) − λᵢ)²; t is unused.
    public func innerObjective(lambda: Variable, weights: Variable, step: Int) -> Variable {
        let n = learnedInputs.shape.rows
        return Loss.meanSquaredError(prediction(weights, at: learnedInputs, features: features?.phi), lambda.reshaped([n, 1]))
    }

    /// (1/m) Σⱼ (f(x°ⱼ; w) − y°ⱼ)².
    public func outerObjective(lambda: Variable, weights: Variable) -> Variable {
        Loss.meanSquaredError(prediction(weights, at: originalInputs, features: originalFeatures), originalTargets)
    }

    /// f(x; w), shape (n, 1). For a model linear in w it is Φ(x)·w with Φ(x) made once in `init`: Φ depends on
    /// neither λ nor w, so recording its features op by op at every evaluation would only repeat work (for
    /// `FourierRegressor` the same bits: the same sines, cosines and products, then the same matrix product).
    private func prediction(_ weights: Variable, at x: Tensor, features phi: Tensor?) -> Variable {
        guard let phi else { return model(weights.constant(x), parameters: weights) }
        return weights.constant(phi).matmul(weights.reshaped([phi.shape.cols, 1]))
    }

    /// The fitted curve f(x; w) at the given inputs (k, d) → k values.
    public func predict(_ x: Tensor, weights: Tensor) -> [Double] { model.predict(x, parameters: weights).scalars }
}

extension TargetDistillation: ClosedFormInnerSolution where M: LinearInParameters {
    /// w* = w₀ + Φ⁺(λ − Φw₀) with Φ the model's feature matrix at the learned inputs.
    public func solveInner(lambda: Tensor, from w0: Tensor) -> Tensor {
        let (phi, pinv) = features!   // set in init for every model that is linear in its parameters
        let n = phi.shape.rows, p = phi.shape.cols
        let residual = lambda - phi.matmul(w0.reshaped([p, 1])).reshaped([n])
        return w0 + pinv.matmul(residual.reshaped([n, 1])).reshaped([p])
    }
}
