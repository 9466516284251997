import Tape
import Layers
import Bilevel

/// The three solutions a warm- vs cold-start experiment reports (the paper's Fig. 7, 12, 13 and Table 3):
/// the warm-start run, the cold-start run, and the warm run's λ re-trained from scratch (the inner problem
/// solved cold at the warm λ, from the warm run's initial weights) — which shows how much of the warm
/// solution lives in the inner weights' history rather than in λ.
struct WarmColdComparison {
    var warm: BilevelRun
    var cold: BilevelRun
    var retrainedWeights: Tensor

    /// (name, λ, weights) for "warm", "cold" and "warm_retrained", in that order.
    var solutions: [(name: String, lambda: Tensor, weights: Tensor)] {
        [("warm", warm.lambda, warm.weights), ("cold", cold.lambda, cold.weights),
         ("warm_retrained", warm.lambda, retrainedWeights)]
    }

    /// Runs both solvers to their step caps (checkpointed as runs "warm" and "cold"), then re-trains the warm λ
    /// with `retraining`. Nil when --stop-after interrupted a run (the message is already said).
    static func run<P, M1: HypergradientMethod, C1: SolutionConcept, O1: Optimizer, M2: HypergradientMethod,
                    C2: SolutionConcept, O2: Optimizer, R: SolutionConcept>(
        warm warmSolver: BilevelSolver<P, M1, C1, O1>, cold coldSolver: BilevelSolver<P, M2, C2, O2>, retraining: R,
        ctx: DemoContext, checkpoint: CheckpointOptions
    ) throws -> WarmColdComparison? {
        let warm: BilevelRun, cold: BilevelRun
        do {
            warm = try runCheckpointed(warmSolver, name: "warm", ctx: ctx, options: checkpoint)
            cold = try runCheckpointed(coldSolver, name: "cold", ctx: ctx, options: checkpoint)
        } catch let stop as Interrupted {
            ctx.say(stop.description)
            return nil
        }
        let retrained = try retrain(warmSolver.problem, lambda: warm.lambda, initialWeights: warm.state.initialWeights,
                                    concept: retraining)
        return WarmColdComparison(warm: warm, cold: cold, retrainedWeights: retrained.weights)
    }
}
