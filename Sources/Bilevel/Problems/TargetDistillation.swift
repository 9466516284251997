import Tape
import Layers

/// Learning the targets of synthetic regression points (anti-distillation, PRIMER result 6): λ holds the
/// n targets of synthetic points at fixed inputs x (n, d); the inner problem fits a model to them,
/// J_in(λ, w) = (1/n) Σᵢ (f(xᵢ; w) − λᵢ)²; the outer problem is the fit to the original points,
/// J_out(λ, w) = (1/m) Σⱼ (f(x°ⱼ; w) − y°ⱼ)².
///
/// For a model that is linear in w with features Φ (`FourierRegressor`, or a one-output `LinearModel`
/// with Φ = [x, 1]) the inner solve has the closed
/// form w* = w₀ + Φ⁺(λ − Φw₀), the point gradient descent from w₀ converges to; `solveInner` uses it.
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
    /// Φ and Φ⁺ for the closed-form inner solve (nil when the model is not a feature regressor).
    let features: (phi: Tensor, pinv: Tensor)?

    /// Learned points at `learnedInputs` (n, d); original inputs (m, d) and targets (m) or (m, 1); λ₀ (n) defaults to zeros.
    public init(model: M, learnedInputs: Tensor, originalInputs: Tensor, originalTargets: Tensor,
                initialLambda: Tensor? = nil, weightsSeed: UInt64 = 0) {
        require(originalInputs.shape.rows == originalTargets.shape.rows,
                "TargetDistillation: \(originalInputs.shape.rows) original inputs for \(originalTargets.shape.rows) targets")
        self.model = model
        self.learnedInputs = learnedInputs
        self.originalInputs = originalInputs
        self.originalTargets = originalTargets.reshaped([originalTargets.count, 1])
        let n = learnedInputs.shape.rows
        self.initialLambda = initialLambda ?? .zeros([n])
        require(self.initialLambda.shape == Shape([n]), "TargetDistillation: λ₀ has shape \(self.initialLambda.shape), expected (\(n))")
        self.weightsSeed = weightsSeed
        if let fr = model as? FourierRegressor {
            let phi = fr.features(learnedInputs)
            features = (phi, LinearAlgebra.pseudoinverse(phi).inverse)
        } else if let lm = model as? LinearModel, lm.outputs == 1 {
            // w = [W (d), b]: features [x, 1].
            let n = learnedInputs.shape.rows, d = learnedInputs.shape.cols
            var phi = Tensor.zeros([n, d + 1])
            for i in 0..<n { for j in 0..<d { phi[i, j] = learnedInputs[i, j] }; phi[i, d] = 1 }
            features = (phi, LinearAlgebra.pseudoinverse(phi).inverse)
        } else {
            features = nil
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
        return Loss.meanSquaredError(model(weights.constant(learnedInputs), parameters: weights), lambda.reshaped([n, 1]))
    }

    /// (1/m) Σⱼ (f(x°ⱼ; w) − y°ⱼ)².
    public func outerObjective(lambda: Variable, weights: Variable) -> Variable {
        Loss.meanSquaredError(model(weights.constant(originalInputs), parameters: weights), originalTargets)
    }

    /// w* = w₀ + Φ⁺(λ − Φw₀) for a feature regressor or one-output linear model; nil otherwise.
    public func solveInner(lambda: Tensor, from w0: Tensor) -> Tensor? {
        guard let (phi, pinv) = features else { return nil }
        let n = phi.shape.rows, p = phi.shape.cols
        let residual = lambda - phi.matmul(w0.reshaped([p, 1])).reshaped([n])
        return w0 + pinv.matmul(residual.reshaped([n, 1])).reshaped([p])
    }

    /// The fitted curve f(x; w) at the given inputs (k, d) → k values.
    public func predict(_ x: Tensor, weights: Tensor) -> [Double] { model.predict(x, parameters: weights).scalars }
}
