import Foundation
import Tape

/// A labelled data set: `inputs` is (n, d), one example per row; `labels` holds n class indices in
/// 0..<classCount (empty for regression); `targets` is (n, 1) for regression (nil for classification).
public struct Dataset: Sendable, Equatable {
    /// The examples, (n, d): one row per example.
    public var inputs: Tensor
    /// Class index of each row, each in 0..<classCount (empty for a regression set).
    public var labels: [Int]
    /// Regression targets, (n, 1) (nil for a classification set).
    public var targets: Tensor?
    /// Number of classes C (labels lie in 0..<C).
    public var classCount: Int

    /// Number of examples n.
    public var count: Int { inputs.shape.rows }
    /// Number of features d.
    public var featureCount: Int { inputs.shape.cols }

    /// A classification set; checks that there is one label per row, each in 0..<classCount, and that
    /// every input is finite (a NaN here would otherwise surface much later as a NaN loss).
    public init(inputs: Tensor, labels: [Int], classCount: Int) {
        require(inputs.shape.rank == 2, "Dataset: inputs must be (n, d), got \(inputs.shape)")
        require(labels.count == inputs.shape.rows, "Dataset: \(labels.count) labels for \(inputs.shape.rows) inputs")
        require(classCount >= 1, "Dataset: classCount must be ≥ 1, got \(classCount)")
        if let i = labels.firstIndex(where: { $0 < 0 || $0 >= classCount }) {
            fatalError("Dataset: label \(labels[i]) at index \(i) is outside 0..<\(classCount)")
        }
        Dataset.requireFinite(inputs, "inputs")
        self.inputs = inputs
        self.labels = labels
        self.targets = nil
        self.classCount = classCount
    }

    /// A regression set; targets (n, 1) or (n).
    public init(inputs: Tensor, targets: Tensor) {
        require(inputs.shape.rank == 2 && targets.count == inputs.shape.rows,
                "Dataset: inputs \(inputs.shape) and targets \(targets.shape) do not match")
        Dataset.requireFinite(inputs, "inputs")
        Dataset.requireFinite(targets, "targets")
        self.inputs = inputs
        self.labels = []
        self.targets = targets.reshaped([targets.count, 1])
        self.classCount = 0
    }

    private static func requireFinite(_ t: Tensor, _ what: String) {
        if let i = t.scalars.firstIndex(where: { !$0.isFinite }) {
            fatalError("Dataset: \(what) \(t.shape) hold a non-finite value \(t.scalars[i]) at flat index \(i)")
        }
    }

    /// The examples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        let d = featureCount
        var x = [Double]()
        x.reserveCapacity(indices.count * d)
        for i in indices {
            require(i >= 0 && i < count, "Dataset.subset: index \(i) out of range 0..<\(count)")
            x += inputs.scalars[i * d..<(i + 1) * d]
        }
        var s = self
        s.inputs = Tensor(shape: [indices.count, d], scalars: x)
        s.labels = labels.isEmpty ? [] : indices.map { labels[$0] }
        s.targets = targets.map { t in Tensor(shape: [indices.count, 1], scalars: indices.map { t.scalars[$0] }) }
        return s
    }

    /// The (n, classCount) one-hot matrix of the labels.
    public func oneHotLabels() -> Tensor { Loss.oneHot(labels, classes: classCount) }

    /// `size` examples drawn without replacement.
    public func minibatch(size: Int, using g: inout SeededGenerator) -> Dataset {
        require(size > 0 && size <= count, "Dataset.minibatch: size \(size) must be in 1…\(count)")
        return subset(Array(g.permutation(count).prefix(size)))
    }

    /// The first example of each class, in class order (classes without examples are skipped).
    public func firstExamplePerClass() -> [Int] {
        (0..<classCount).compactMap { c in labels.firstIndex(of: c) }
    }
}
