import Tape
import Layers

/// Dataset distillation (paper section 5.2): λ holds k synthetic inputs (k, d) — and, with soft labels,
/// their label logits (k, C) — flattened into one vector; the inner problem trains a classifier on the
/// synthetic set, J_in = cross-entropy of f(x_syn; w) against the synthetic labels (hard, or softmax of the
/// learned logits); the outer problem is the cross-entropy on the real data (optionally a seeded minibatch
/// per outer evaluation is not used: the full real set keeps results deterministic and simple).
///
/// Layout of λ: `synthetic` (k, d) then, with soft labels, `labelLogits` (k, C).
public struct DatasetDistillation<M: Model>: BilevelProblem {
    /// The classifier trained in the inner problem: inputs (batch, d) → logits (batch, C).
    public let model: M
    /// The real data set of the outer objective.
    public let real: Dataset
    /// Hard labels of the synthetic points (used when `softLabels` is false).
    public let syntheticLabels: [Int]
    /// Whether λ also holds learned label logits (k, C).
    public let softLabels: Bool
    /// Layout of λ: "synthetic" (k, d), then "labelLogits" (k, C) with soft labels.
    public let layout: ParameterLayout
    /// λ₀: the initial synthetic inputs (and label logits), flattened.
    public let initialLambda: Tensor
    /// Seed of w₀ (`initialWeights` ignores the generator so that cold starts are reproducible per problem).
    public let weightsSeed: UInt64
    /// Weight-decay coefficient δ of the inner objective, J_in + (δ/2)‖w‖² (0: none).
    public let innerWeightDecay: Double

    /// - Parameters: initial synthetic inputs (k, d); hard labels (k) (their one-hot, scaled, also initializes the
    ///   label logits when `softLabels`).
    public init(model: M, real: Dataset, initialSynthetic: Tensor, syntheticLabels: [Int], softLabels: Bool = false,
                initialLabelLogits: Tensor? = nil, weightsSeed: UInt64 = 0, innerWeightDecay: Double = 0) {
        let k = initialSynthetic.shape.rows, d = initialSynthetic.shape.cols, c = real.classCount
        require(d == real.featureCount, "DatasetDistillation: synthetic inputs have \(d) features, real data \(real.featureCount)")
        require(syntheticLabels.count == k, "DatasetDistillation: \(syntheticLabels.count) labels for \(k) synthetic points")
        self.model = model
        self.real = real
        self.syntheticLabels = syntheticLabels
        self.softLabels = softLabels
        var l = ParameterLayout([("synthetic", [k, d])])
        var parts = [initialSynthetic]
        if softLabels {
            l.append("labelLogits", shape: [k, c])
            parts.append(initialLabelLogits ?? Loss.oneHot(syntheticLabels, classes: c))
        }
        layout = l
        initialLambda = l.flatten(parts)
        self.weightsSeed = weightsSeed
        self.innerWeightDecay = innerWeightDecay
    }

    /// The model's initial parameters from `weightsSeed`; the generator passed in is not used.
    public func initialWeights(using generator: inout SeededGenerator) -> Tensor {
        var g = SeededGenerator(seed: weightsSeed)
        return model.initialParameters(using: &g)
    }

    /// The point gradient descent on J_in converges to from w₀, in closed form, when the inner problem is a linear
    /// softmax classifier with soft labels and no weight decay (nil otherwise, or when the synthetic inputs are linearly
    /// dependent): the projection of w₀ onto the solution set, W̃∞ = W̃₀ + X̄ᵀ (X̄X̄ᵀ)⁻¹ P(Z − X̄W̃₀)  (see
    /// `convergedWeights(lambda:from:)`). Not a `ClosedFormInnerSolution` conformance, since it applies only in that
    /// case: `ColdStart` keeps running its optimizer; the digits demo trains to convergence with it.
    public func solveInner(lambda: Tensor, from w0: Tensor) -> Tensor? {
        guard let inverseGram = limitInverseGram(lambda) else { return nil }
        return Tape().evaluate({ v in limitExpression(lambda: v[0], from: w0, inverseGram: inverseGram) }, at: [lambda])
    }

    /// The limit of gradient descent on J_in from w₀ as a differentiable function of λ, for a linear softmax classifier
    /// with soft labels and no weight decay (nil otherwise, or when the synthetic inputs are linearly dependent).
    ///
    /// J_in depends on W̃ = [W; bᵀ] ((d+1), C) only through the logits X̄W̃ of the synthetic inputs X̄ = [X, 1] (k, d+1), and
    /// is minimal exactly when each row of X̄W̃ equals its label logits Z (k, C) up to a constant: P X̄W̃ = P Z with P the
    /// row-centring. Every gradient step adds X̄ᵀ(softmax − softmax(Z))/k, whose rows are in the row space of X̄ and sum to
    /// zero across classes, so gradient descent stays in W̃₀ + X̄ᵀA (A row-centred) and converges (J_in restricted there is
    /// strictly convex near its minimum) to the one point of that set on the solution set, the projection of W̃₀:
    ///
    ///     W̃∞(λ) = W̃₀ + X̄ᵀ G⁻¹ P(Z − X̄W̃₀),   G = X̄X̄ᵀ (k, k).
    ///
    /// Its derivative is the limit of fully unrolled training from w₀ (tested against `FullUnrolling`). Only first
    /// derivatives are exact: G⁻¹ enters as C(2I − GC) with C = G⁻¹ computed outside the tape, which has G⁻¹'s value and
    /// first derivative −C dG C (the tape has no matrix inverse).
    public func convergedWeights(lambda: Variable, from w0: Tensor) -> Variable? {
        guard let inverseGram = limitInverseGram(lambda.value) else { return nil }
        return limitExpression(lambda: lambda, from: w0, inverseGram: inverseGram)
    }

    /// G⁻¹ = (X̄X̄ᵀ)⁻¹ at λ when the closed-form limit applies; nil otherwise (or when G is not positive definite).
    private func limitInverseGram(_ lambda: Tensor) -> Tensor? {
        guard softLabels, innerWeightDecay == 0, let linear = model as? LinearModel, linear.outputs == real.classCount else { return nil }
        let x = layout.tensors(of: lambda)[0], k = x.shape.rows, d = x.shape.cols
        let xBar = Tensor(shape: [k, d + 1], scalars: (0..<k).flatMap { i in Array(x.scalars[i * d..<(i + 1) * d]) + [1] })
        let gram = xBar.matmul(xBar, transposeOther: true)
        var inverse = Tensor.zeros([k, k])
        for j in 0..<k {
            var e = Tensor.zeros([k]); e.scalars[j] = 1
            guard let column = try? LinearAlgebra.choleskySolve(gram, e), column.isFinite else { return nil }
            for i in 0..<k { inverse.scalars[i * k + j] = column.scalars[i] }
        }
        return inverse
    }

    /// w₀ + vec(X̄ᵀ G⁻¹ P(Z − X̄W̃₀)) in the model's layout ("weight" (d, C) then "bias" (C)), with G⁻¹ as C(2I − GC).
    private func limitExpression(lambda: Variable, from w0: Tensor, inverseGram c: Tensor) -> Variable {
        let parts = layout.tensors(of: lambda)
        let x = parts[0], z = parts[1], k = x.shape.rows, d = x.shape.cols, classes = z.shape.cols
        let xBar = Variable.concatenate([x, x.constant(.ones([k, 1]))], alongAxis: 1)
        let w0Bar = Tensor(shape: [d + 1, classes], scalars: w0.scalars)   // weight (d, C) then bias (C): the rows of W̃₀
        let residual = z - xBar.matmul(w0Bar)
        let centred = residual - residual.mean(alongAxis: 1, keepingDimension: true)
        let gram = xBar.matmul(xBar, transposeOther: true)
        let inverse = 2 * c - x.constant(c).matmul(gram).matmul(c)
        let step = xBar.matmul(inverse.matmul(centred), transposeSelf: true)   // (d+1, C)
        return x.constant(w0) + step.reshaped([(d + 1) * classes])
    }

    /// Cross-entropy of the model on the synthetic inputs against the hard or soft labels, plus (δ/2)‖w‖²; t is unused.
    public func innerObjective(lambda: Variable, weights: Variable, step: Int) -> Variable {
        let parts = layout.tensors(of: lambda)
        let logits = model(parts[0], parameters: weights)
        var loss = softLabels ? Loss.softmaxCrossEntropy(logits: logits, softLabelLogits: parts[1])
                              : Loss.softmaxCrossEntropy(logits: logits, labels: syntheticLabels)
        if innerWeightDecay > 0 { loss = loss + weights.squared().sum() * (innerWeightDecay / 2) }
        return loss
    }

    /// Cross-entropy of the model on the whole real data set.
    public func outerObjective(lambda: Variable, weights: Variable) -> Variable {
        Loss.softmaxCrossEntropy(logits: model(weights.constant(real.inputs), parameters: weights), labels: real.labels)
    }

    /// Accuracy on the real data.
    public func metrics(lambda: Tensor, weights: Tensor) -> [String: Double] {
        ["accuracy": accuracy(weights: weights, on: real)]
    }

    /// Accuracy of the model with weights w on a data set.
    public func accuracy(weights: Tensor, on data: Dataset) -> Double {
        Loss.accuracy(logits: model.predict(data.inputs, parameters: weights), labels: data.labels)
    }

    /// The synthetic inputs (k, d) stored in λ.
    public func syntheticInputs(_ lambda: Tensor) -> Tensor { layout.tensors(of: lambda)[0] }

    /// The synthetic label distributions softmax(logits) (k, C), or the one-hot hard labels.
    public func syntheticLabelDistribution(_ lambda: Tensor) -> Tensor {
        guard softLabels else { return Loss.oneHot(syntheticLabels, classes: real.classCount) }
        return evaluate({ $0[0].softmax(alongAxis: 1) }, at: [layout.tensors(of: lambda)[1]])
    }
}

/// The hypergradient of cold start for dataset distillation into a linear classifier: dJ_out(λ, w∞(λ))/dλ with w∞(λ)
/// the point gradient descent from w₀ converges to (`DatasetDistillation.convergedWeights`, closed form).
/// It is the limit of differentiating through the whole inner training from w₀ (`FullUnrolling` with K → ∞; the tests
/// compare the two), at the cost of one outer gradient: no truncation, no Neumann or CG approximation.
///
/// Only for `DatasetDistillation<LinearModel>` with soft labels and no weight decay; any other problem, or synthetic
/// inputs that are linearly dependent (then no weights fit all the soft labels), throws a `BilevelError`.
public struct ConvergedTrainingHypergradient: HypergradientMethod {
    /// The method (no settings).
    public init() {}
    /// The method name, "unrolled to convergence (closed form)".
    public var name: String { "unrolled to convergence (closed form)" }

    /// dJ_out(λ, w∞(λ))/dλ with w∞ from `context.initialWeights`; `weights` is not used.
    public func hypergradient<P: BilevelProblem>(of problem: P, lambda: Tensor, weights: Tensor,
                                                 context: HypergradientContext) throws -> Hypergradient {
        guard let distillation = problem as? DatasetDistillation<LinearModel> else {
            throw BilevelError("\(name): needs a DatasetDistillation problem with a LinearModel, got \(P.self)")
        }
        guard let w0 = context.initialWeights else {
            throw BilevelError("\(name): needs w₀, the weights training starts from: pass initialWeights:")
        }
        guard distillation.solveInner(lambda: lambda, from: w0) != nil else {
            throw BilevelError("\(name): no closed-form limit at this λ — it needs soft labels, no weight decay and linearly " +
                               "independent synthetic inputs (two synthetic images became identical?)")
        }
        let tape = context.workspace?.derivatives ?? Tape()
        let (value, gradients) = tape.valueAndGradient(of: { v in
            distillation.outerObjective(lambda: v[0], weights: distillation.convergedWeights(lambda: v[0], from: w0)!)
        }, at: [lambda])
        guard gradients[0].isFinite else { throw BilevelError("\(name): the hypergradient is not finite (outer loss \(value))") }
        return Hypergradient(gradient: gradients[0], outerLoss: value, diagnostics: HypergradientDiagnostics(method: name))
    }
}
