import Tape

/// Losses and metrics. Each loss is a **mean over the batch** (the first axis), returned as a scalar
/// tape variable, and has a `perExample…` form that returns one value per example (shape (n)), to weight
/// examples; predictions, targets and label logits may all be differentiated.
public enum Loss {
    /// Mean squared error (1/n) Σᵢ ‖pᵢ − tᵢ‖² over the n rows; for (n, 1) outputs, the mean of (p − t)².
    public static func meanSquaredError(_ prediction: Variable, _ target: Variable) -> Variable {
        require(prediction.shape == target.shape,
                     "meanSquaredError: prediction of shape \(prediction.shape) does not match target of shape \(target.shape)")
        return (prediction - target).squared().sum() * (1 / Double(batchSize(prediction, "meanSquaredError")))
    }

    /// Mean squared error against constant targets.
    public static func meanSquaredError(_ prediction: Variable, _ target: Tensor) -> Variable {
        meanSquaredError(prediction, prediction.constant(target))
    }

    /// Softmax cross-entropy with integer labels: −(1/n) Σᵢ log softmax(zᵢ)[yᵢ]. logits (n, C), labels n in 0..<C.
    public static func softmaxCrossEntropy(logits: Variable, labels: [Int]) -> Variable {
        softmaxCrossEntropy(logits: logits, probabilities: oneHotTargets(logits, labels, "softmaxCrossEntropy"))
    }

    /// The one-hot targets of integer labels for (n, C) logits, checked: one label per row, each in 0..<C.
    private static func oneHotTargets(_ logits: Variable, _ labels: [Int], _ op: String) -> Variable {
        let s = logits.shape
        require(s.rank == 2 && s.rows == labels.count, "\(op): logits of shape \(s) do not match \(labels.count) labels")
        require(labels.allSatisfy { $0 >= 0 && $0 < s.cols },
                "\(op): labels must be in 0..<\(s.cols), got \(labels.filter { $0 < 0 || $0 >= s.cols }.prefix(3))")
        return logits.constant(oneHot(labels, classes: s.cols))
    }

    /// Cross-entropy against target distributions q (each row sums to 1): −(1/n) Σᵢ Σ_c q_ic log softmax(zᵢ)_c.
    /// logits and q are (n, C); q may be a tape variable.
    public static func softmaxCrossEntropy(logits: Variable, probabilities q: Variable) -> Variable {
        require(logits.shape == q.shape && logits.shape.rank == 2,
                     "softmaxCrossEntropy: logits of shape \(logits.shape) do not match target probabilities of shape \(q.shape)")
        return (logits.logSoftmax(alongAxis: 1) * q).sum() * (-1 / Double(batchSize(logits, "softmaxCrossEntropy")))
    }

    /// Cross-entropy with *soft labels given as learnable logits*: the target distribution is
    /// q = softmax(labelLogits) row by row. logits and labelLogits are (n, C).
    public static func softmaxCrossEntropy(logits: Variable, softLabelLogits: Variable) -> Variable {
        softmaxCrossEntropy(logits: logits, probabilities: softLabelLogits.softmax(alongAxis: 1))
    }

    /// Binary cross-entropy with logits, numerically stable: (1/n) Σᵢ softplus(zᵢ) − tᵢ zᵢ,
    /// which equals −t log σ(z) − (1 − t) log(1 − σ(z)). logits and targets (n, 1), targets in [0, 1].
    public static func binaryCrossEntropy(logits: Variable, targets: Variable) -> Variable {
        require(logits.shape == targets.shape,
                     "binaryCrossEntropy: logits of shape \(logits.shape) do not match targets of shape \(targets.shape)")
        return (logits.softplus() - logits * targets).sum() * (1 / Double(batchSize(logits, "binaryCrossEntropy")))
    }

    /// Binary cross-entropy with logits against constant 0/1 targets.
    public static func binaryCrossEntropy(logits: Variable, targets: Tensor) -> Variable {
        binaryCrossEntropy(logits: logits, targets: logits.constant(targets))
    }

    // MARK: Per-example losses: one value per example (row), shape (n), to weight examples,
    // e.g. (exampleWeights * Loss.perExampleBinaryCrossEntropy(logits: z, targets: t)).sum().
    // The losses above are the means of these.

    /// ‖pᵢ − tᵢ‖² for each row i, shape (n); for (n) predictions, (pᵢ − tᵢ)².
    public static func perExampleSquaredError(_ prediction: Variable, _ target: Variable) -> Variable {
        require(prediction.shape == target.shape,
                "perExampleSquaredError: prediction of shape \(prediction.shape) does not match target of shape \(target.shape)")
        return perRow((prediction - target).squared())
    }

    /// ‖pᵢ − tᵢ‖² for each row i against constant targets.
    public static func perExampleSquaredError(_ prediction: Variable, _ target: Tensor) -> Variable {
        perExampleSquaredError(prediction, prediction.constant(target))
    }

    /// −log softmax(zᵢ)[yᵢ] for each row i, shape (n). logits (n, C), labels n in 0..<C.
    public static func perExampleSoftmaxCrossEntropy(logits: Variable, labels: [Int]) -> Variable {
        perExampleSoftmaxCrossEntropy(logits: logits, probabilities: oneHotTargets(logits, labels, "perExampleSoftmaxCrossEntropy"))
    }

    /// −Σ_c q_ic log softmax(zᵢ)_c for each row i, shape (n). logits and q (n, C); q may be a tape variable.
    public static func perExampleSoftmaxCrossEntropy(logits: Variable, probabilities q: Variable) -> Variable {
        require(logits.shape == q.shape && logits.shape.rank == 2,
                "perExampleSoftmaxCrossEntropy: logits of shape \(logits.shape) do not match target probabilities of shape \(q.shape)")
        return -(logits.logSoftmax(alongAxis: 1) * q).sum(alongAxis: 1)
    }

    /// softplus(zᵢ) − tᵢzᵢ = −tᵢ log σ(zᵢ) − (1 − tᵢ) log(1 − σ(zᵢ)) for each example i, shape (n), stable for
    /// any z. logits and targets (n, 1) or (n), targets in [0, 1].
    public static func perExampleBinaryCrossEntropy(logits: Variable, targets: Variable) -> Variable {
        require(logits.shape == targets.shape,
                "perExampleBinaryCrossEntropy: logits of shape \(logits.shape) do not match targets of shape \(targets.shape)")
        return perRow(logits.softplus() - logits * targets)
    }

    /// Per-example binary cross-entropy with logits against constant 0/1 targets.
    public static func perExampleBinaryCrossEntropy(logits: Variable, targets: Tensor) -> Variable {
        perExampleBinaryCrossEntropy(logits: logits, targets: logits.constant(targets))
    }

    /// Row sums of an (n, k) value as a vector (n) (a view for k = 1); a vector is returned as it is.
    private static func perRow(_ v: Variable) -> Variable {
        let s = v.shape
        require(s.rank >= 1, "per-example loss: needs one row per example, got shape \(s)")
        if s.rank == 1 { return v }
        return s.cols == 1 ? v.reshaped([s.rows]) : v.sum(alongAxis: 1)
    }

    /// The (n, C) one-hot matrix of integer labels.
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        var t = Tensor.zeros([labels.count, classes])
        for (i, y) in labels.enumerated() {
            require(y >= 0 && y < classes, "oneHot: label \(y) out of range 0..<\(classes)")
            t[i, y] = 1
        }
        return t
    }

    /// Fraction of rows whose prediction equals the label. Logits (n, C) with C > 1 predict the argmax;
    /// (n, 1) logits predict class 1 when the logit is > 0.
    public static func accuracy(logits: Tensor, labels: [Int]) -> Double {
        let s = logits.shape
        require(s.rows == labels.count, "accuracy: logits of shape \(s) do not match \(labels.count) labels")
        guard !labels.isEmpty else { return .nan }
        var correct = 0
        for (i, y) in labels.enumerated() {
            if predictedClass(logits, row: i) == y { correct += 1 }
        }
        return Double(correct) / Double(labels.count)
    }

    /// The predicted class of row i (argmax, or logit > 0 for a single output column).
    public static func predictedClass(_ logits: Tensor, row i: Int) -> Int {
        let c = logits.shape.cols
        if c == 1 { return logits.scalars[i] > 0 ? 1 : 0 }
        var best = 0
        for k in 1..<c where logits.scalars[i * c + k] > logits.scalars[i * c + best] { best = k }
        return best
    }

    /// The batch size n (rows), refusing an empty batch: a mean over nothing is not a loss.
    private static func batchSize(_ v: Variable, _ op: String) -> Int {
        let n = v.shape.rank == 2 ? v.shape.rows : v.shape.count
        require(n > 0, "\(op): empty batch (shape \(v.shape)); a loss needs at least one example")
        return n
    }
}
