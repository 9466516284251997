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
