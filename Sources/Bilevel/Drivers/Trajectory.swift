import Tape

/// What a bilevel run records at every outer step (λ itself every `lambdaStride` steps).
public struct Trajectory: Sendable {
    /// Outer step index k of each record.
    public var step: [Int] = []
    /// J_out(λ_k, w) at each step, after the inner update and before the λ update.
    public var outerLoss: [Double] = []
    /// J_in(λ_k, w) at each step.
    public var innerLoss: [Double] = []
    /// ‖λ‖ and ‖λ − λ₀‖.
    public var lambdaNorm: [Double] = []
    /// ‖λ − λ₀‖ at each step.
    public var lambdaDistance: [Double] = []
    /// ‖w‖ and ‖w − w₀‖.
    public var weightsNorm: [Double] = []
    /// ‖w − w₀‖ at each step.
    public var weightsDistance: [Double] = []
    /// ‖dJ_out/dλ‖ at each step.
    public var hypergradientNorm: [Double] = []
    /// The problem's `metrics` at each recorded step.
    public var metrics: [[String: Double]] = []
    /// (step, λ) every `lambdaStride` steps, plus the last.
    public var lambdas: [(step: Int, lambda: Tensor)] = []

    /// An empty trajectory.
    public init() {}

    /// Number of recorded outer steps.
    public var count: Int { step.count }
}
