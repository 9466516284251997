import Foundation
import Tape
import Layers
import Bilevel

/// A dataset-distillation problem whose learned inputs stay inside the box (−b, b)^d, as distilled images stay valid
/// images: λ holds unconstrained z and the learned points are x = b·tanh(z/b) (≈ z near 0). The label logits (if any)
/// pass through unchanged. Every concept that uses the problem sees the same constraint.
struct BoundedSyntheticInputs<M: Model>: BilevelProblem {
    let base: DatasetDistillation<M>
    /// b, the half-width of the box.
    let bound: Double
    /// z₀ = b·atanh(x₀/b) for the base problem's initial points x₀ (which must lie inside the box).
    let initialLambda: Tensor
    /// Number of entries of λ that are input coordinates (the rest are label logits).
    let inputCount: Int

    init(_ base: DatasetDistillation<M>, bound: Double) {
        let x0 = base.syntheticInputs(base.initialLambda)
        require(x0.scalars.allSatisfy { abs($0) < bound }, "BoundedSyntheticInputs: the initial points must lie inside (−\(bound), \(bound))")
        self.base = base
        self.bound = bound
        inputCount = x0.count
        initialLambda = Tensor(x0.scalars.map { bound * atanh($0 / bound) } + base.initialLambda.scalars[x0.count...])
    }

    /// λ of the base problem (points x = b·tanh(z/b), logits unchanged) as a tape operation.
    func baseLambda(_ l: Variable) -> Variable {
        let x = (l.slice(alongAxis: 0, start: 0, count: inputCount) * (1 / bound)).tanh() * bound
        let rest = l.shape.count - inputCount
        return rest == 0 ? x : Variable.concatenate([x, l.slice(alongAxis: 0, start: inputCount, count: rest)])
    }

    /// λ of the base problem for a plain λ (for pictures and metrics).
    func baseLambda(_ l: Tensor) -> Tensor { evaluate({ baseLambda($0[0]) }, at: [l]) }

    func initialWeights(using generator: inout SeededGenerator) -> Tensor { base.initialWeights(using: &generator) }
    func innerObjective(lambda: Variable, weights: Variable, step: Int) -> Variable {
        base.innerObjective(lambda: baseLambda(lambda), weights: weights, step: step)
    }
    func outerObjective(lambda: Variable, weights: Variable) -> Variable { base.outerObjective(lambda: baseLambda(lambda), weights: weights) }
    func metrics(lambda: Tensor, weights: Tensor) -> [String: Double] { base.metrics(lambda: baseLambda(lambda), weights: weights) }
}
