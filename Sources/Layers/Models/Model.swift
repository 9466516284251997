import Tape

/// A differentiable model y = f(x; w) whose parameters w are one flat vector laid out by `layout`.
/// Both the input and the parameters are tape variables, so a model can be differentiated with
/// respect to its weights *and* its inputs (learned synthetic data points).
public protocol Model: Sendable {
    /// The named parameter tensors and their place in the flat vector.
    var layout: ParameterLayout { get }
    /// Seeded initial parameters, shape (layout.count).
    func initialParameters(using generator: inout SeededGenerator) -> Tensor
    /// The outputs for a batch: x is (batch, inputs), w is (layout.count); returns (batch, outputs).
    func callAsFunction(_ x: Variable, parameters w: Variable) -> Variable
}

extension Model {
    /// Number of scalar parameters.
    public var parameterCount: Int { layout.count }

    /// Evaluates the model on a batch without differentiating: (batch, inputs) → (batch, outputs).
    public func predict(_ x: Tensor, parameters w: Tensor, tape: Tape = Tape()) -> Tensor {
        tape.evaluate({ v in self(v[0], parameters: v[1]) }, at: [x, w])
    }

    /// Seeded initial parameters as a structured collection.
    public func initialParameterCollection(using generator: inout SeededGenerator) -> Parameters {
        Parameters(layout: layout, flat: initialParameters(using: &generator))
    }
}

/// Elementwise nonlinearities between layers.
public enum Activation: String, Sendable, CaseIterable {
    case relu, tanh, softplus, sigmoid, identity

    /// Applies the nonlinearity as a tape operation: max(x, 0), tanh x, log(1 + eˣ), 1/(1 + e⁻ˣ) or x.
    public func callAsFunction(_ x: Variable) -> Variable {
        switch self {
        case .relu: x.relu()
        case .tanh: x.tanh()
        case .softplus: x.softplus()
        case .sigmoid: x.sigmoid()
        case .identity: x
        }
    }
}

/// A model whose output is linear in its parameters, f(x; w) = Φ(x)·w with one output per example, so that
/// least squares on it has the closed form w* = w₀ + Φ⁺(t − Φw₀) (the point gradient descent from w₀
/// reaches). `TargetDistillation` uses it for its exact inner solution.
public protocol LinearInParameters: Model {
    /// Φ(x), shape (n, parameterCount), for inputs x (n, inputs): f(x; w) = Φ(x)·w.
    func featureMatrix(_ x: Tensor) -> Tensor
}

/// How weight matrices are initialized (biases start at zero).
public enum Initialization: Sendable, Equatable {
    /// He: N(0, 2/fan_in), for ReLU networks.
    case he
    /// Glorot (Xavier) normal: N(0, 2/(fan_in + fan_out)), for tanh networks.
    case glorot
    /// N(0, σ²) with the given standard deviation σ.
    case normal(standardDeviation: Double)

    /// The standard deviation for a (fanIn, fanOut) weight matrix.
    public func standardDeviation(fanIn: Int, fanOut: Int) -> Double {
        switch self {
        case .he: (2 / Double(fanIn)).squareRoot()
        case .glorot: (2 / Double(fanIn + fanOut)).squareRoot()
        case .normal(let s): s
        }
    }
}
