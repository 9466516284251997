import Tape

/// A fully connected layer y = x W + b: x is (batch, inputs), W (inputs, outputs), b (outputs).
/// Parameters "weight" and "bias", in that order.
public struct Dense: Model {
    /// Input width: x is (batch, inputs).
    public let inputs: Int
    /// Output width: y is (batch, outputs).
    public let outputs: Int
    /// The rule that sets the standard deviation of the initial W.
    public let initialization: Initialization
    /// "weight" (inputs, outputs) then "bias" (outputs), inputs · outputs + outputs scalars.
    public let layout: ParameterLayout

    /// A layer mapping `inputs` features to `outputs` (both positive); Glorot initialization by default.
    public init(inputs: Int, outputs: Int, initialization: Initialization = .glorot) {
        require(inputs > 0 && outputs > 0, "Dense: sizes must be positive, got \(inputs) → \(outputs)")
        self.inputs = inputs
        self.outputs = outputs
        self.initialization = initialization
        layout = ParameterLayout([("weight", [inputs, outputs]), ("bias", [outputs])])
    }

    /// W ~ N(0, σ²) with σ from the initialization rule, b = 0.
    public func initialParameters(using g: inout SeededGenerator) -> Tensor {
        let s = initialization.standardDeviation(fanIn: inputs, fanOut: outputs)
        return layout.flatten([.randomNormal([inputs, outputs], standardDeviation: s, using: &g), .zeros([outputs])])
    }

    /// y = x W + b for x (batch, inputs) and the flat parameter vector w: (batch, outputs).
    public func callAsFunction(_ x: Variable, parameters w: Variable) -> Variable {
        let p = layout.tensors(of: w)
        return apply(x, weight: p[0], bias: p[1])
    }

    /// x W + b with the layer's tensors already split out.
    public func apply(_ x: Variable, weight: Variable, bias: Variable) -> Variable {
        require(x.shape.cols == inputs, "Dense: input of shape \(x.shape) does not match \(inputs) inputs (weight (\(inputs), \(outputs)))")
        return x.matmul(weight) + bias
    }
}

/// A multilayer perceptron: Dense layers of the given widths with `activation` between them and
/// none after the last. widths = [inputs, hidden₁, …, outputs]; parameters "layerK.weight", "layerK.bias".
public struct MLP: Model {
    /// [inputs, hidden₁, …, outputs].
    public let widths: [Int]
    /// The nonlinearity applied after every layer but the last.
    public let activation: Activation
    /// The Dense layers, widths[k] → widths[k + 1].
    public let layers: [Dense]
    /// "layer0.weight", "layer0.bias", "layer1.weight", … in layer order.
    public let layout: ParameterLayout

    /// - Parameters: widths [inputs, hidden…, outputs] (at least two entries); initialization defaults
    ///   to He for ReLU and Glorot otherwise.
    public init(widths: [Int], activation: Activation = .relu, initialization: Initialization? = nil) {
        require(widths.count >= 2, "MLP: need at least [inputs, outputs], got \(widths)")
        let initRule = initialization ?? (activation == .relu ? .he : .glorot)
        self.widths = widths
        self.activation = activation
        layers = zip(widths, widths.dropFirst()).map { Dense(inputs: $0, outputs: $1, initialization: initRule) }
        var l = ParameterLayout()
        for (k, d) in layers.enumerated() { l.append(contentsOf: d.layout, prefix: "layer\(k).") }
        layout = l
    }

    /// A network with `depth` hidden layers of `width` units.
    public init(inputs: Int, hidden width: Int, depth: Int, outputs: Int, activation: Activation = .relu,
                initialization: Initialization? = nil) {
        self.init(widths: [inputs] + Array(repeating: width, count: depth) + [outputs],
                  activation: activation, initialization: initialization)
    }

    /// Each layer's initial parameters (W ~ N(0, σ²), b = 0), concatenated in layer order.
    public func initialParameters(using g: inout SeededGenerator) -> Tensor {
        Tensor(layers.flatMap { $0.initialParameters(using: &g).scalars })
    }

    /// The network output for x (batch, inputs): (batch, outputs), no activation after the last layer.
    public func callAsFunction(_ x: Variable, parameters w: Variable) -> Variable {
        let p = layout.tensors(of: w)
        var h = x
        for (k, d) in layers.enumerated() {
            h = d.apply(h, weight: p[2 * k], bias: p[2 * k + 1])
            if k < layers.count - 1 { h = activation(h) }
        }
        return h
    }
}

/// An affine model y = x W + b (multi-class logits when outputs > 1). Initialized at zero by default,
/// which makes a convex training problem start from the minimum-norm point.
public struct LinearModel: LinearInParameters {
    /// Input width d: x is (batch, d).
    public let inputs: Int
    /// Output width: y is (batch, outputs).
    public let outputs: Int
    /// Rule for a random start (nil: start at W = 0, b = 0).
    public let initialization: Initialization?
    /// "weight" (inputs, outputs) then "bias" (outputs).
    public let layout: ParameterLayout

    /// - Parameter initialization: nil (default) starts at W = 0, b = 0.
    public init(inputs: Int, outputs: Int = 1, initialization: Initialization? = nil) {
        require(inputs > 0 && outputs > 0, "LinearModel: sizes must be positive, got \(inputs) → \(outputs)")
        self.inputs = inputs
        self.outputs = outputs
        self.initialization = initialization
        layout = ParameterLayout([("weight", [inputs, outputs]), ("bias", [outputs])])
    }

    /// Zeros, or a Dense layer's random start when `initialization` is set.
    public func initialParameters(using g: inout SeededGenerator) -> Tensor {
        guard let initialization else { return .zeros([layout.count]) }
        return Dense(inputs: inputs, outputs: outputs, initialization: initialization).initialParameters(using: &g)
    }

    /// y = x W + b for x (batch, inputs): (batch, outputs).
    public func callAsFunction(_ x: Variable, parameters w: Variable) -> Variable {
        let p = layout.tensors(of: w)
        return Dense(inputs: inputs, outputs: outputs).apply(x, weight: p[0], bias: p[1])
    }

    /// Φ = [x, 1], shape (n, inputs + 1), for a one-output model (w = [W, b] flat): f(x; w) = Φ·w.
    public func featureMatrix(_ x: Tensor) -> Tensor {
        require(outputs == 1, "LinearModel.featureMatrix: needs one output (Φ·w is one value per example), this model has \(outputs)")
        require(x.rank == 2 && x.shape.cols == inputs, "LinearModel.featureMatrix: inputs of shape \(x.shape) do not match \(inputs) inputs")
        let n = x.shape.rows
        var phi = Tensor.zeros([n, inputs + 1])
        for i in 0..<n { for j in 0..<inputs { phi[i, j] = x[i, j] }; phi[i, inputs] = 1 }
        return phi
    }
}
