import Tape
import Layers
import Bilevel

/// Cold start (and re-training) on the digits problem: every outer step the classifier restarts at w₀ and is trained to
/// convergence — computed in closed form as the point gradient descent from w₀ converges to
/// (`DatasetDistillation.solveInner`), so "to convergence" is exact and costs one k × k solve. Throws where the closed
/// form does not apply rather than silently keeping w₀.
struct ConvergedTraining: SolutionConcept {
    var name: String { "cold (trained to convergence, closed form)" }

    func initialInnerState(weights w0: Tensor) -> InnerState { InnerState(optimizer: SGD(learningRate: 1).initialState(weights: w0)) }

    func updateInner<P: BilevelProblem>(_ problem: P, lambda: Tensor, state: inout InnerState, initialWeights w0: Tensor) throws {
        guard let w = (problem as? DatasetDistillation<LinearModel>)?.solveInner(lambda: lambda, from: w0) else {
            throw BilevelError("\(name): the problem has no closed-form converged solution at this λ (it needs a linear classifier " +
                               "with soft labels, no weight decay and linearly independent synthetic inputs)")
        }
        state = InnerState(optimizer: SGD(learningRate: 1).initialState(weights: w))
    }
}
