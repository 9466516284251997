import Tape

/// What a bilevel run records at every outer step (λ itself every `lambdaStride` steps).
public struct Trajectory: Sendable {
    public var step: [Int] = []
    public var outerLoss: [Double] = []
    public var innerLoss: [Double] = []
    /// ‖λ‖ and ‖λ − λ₀‖.
    public var lambdaNorm: [Double] = []
    public var lambdaDistance: [Double] = []
    /// ‖w‖ and ‖w − w₀‖.
    public var weightsNorm: [Double] = []
    public var weightsDistance: [Double] = []
    public var hypergradientNorm: [Double] = []
    /// The problem's `metrics` at each recorded step.
    public var metrics: [[String: Double]] = []
    /// (step, λ) every `lambdaStride` steps, plus the last.
    public var lambdas: [(step: Int, lambda: Tensor)] = []

    public init() {}

    /// Number of recorded outer steps.
    public var count: Int { step.count }
}
