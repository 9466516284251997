import Tape
import Layers

/// The tapes a bilevel run reuses from one outer step to the next. A `Tape` keeps its buffers after a call,
/// so reusing it avoids re-allocating them every outer step. The saving is small — measured 2–4 % per
/// hypergradient on a 2–4–1 MLP (Neumann, damped, 5-step unrolling), about the run-to-run noise — because a
/// single call already reuses its tape for all its products; it matters most for many tiny calls.
/// `BilevelSolver.run` makes one per run. Not thread-safe: use one workspace per thread. Performance plumbing,
/// so it is not public: the solver owns it.
package final class BilevelWorkspace {
    /// For the Hessian-, mixed- and outer-gradient products of the implicit methods (`LocalDerivatives`).
    package let derivatives = Tape()
    /// For inner training and unrolling: gradients (and Hessian-vector products) of J_in.
    package let innerGradient = Tape()
    /// For inner training and unrolling: the optimizer's step (evaluated, or differentiated by a VJP).
    package let innerStep = Tape()
    /// For evaluating the losses recorded in the trajectory.
    package let losses = Tape()

    /// An empty workspace; each tape allocates its buffers on first use and keeps them.
    package init() {}

    /// The inner-training tapes as unrolling takes them.
    package var unrolling: UnrollingTapes { UnrollingTapes(gradient: innerGradient, step: innerStep) }
}
