import Tape
import Layers

/// A model whose initial parameters are another model's scaled by one factor: an MLP built with He initialization
/// (std √(2/fan_in)) and `gain` g starts with std g/√fan_in — g = √2 is He, g = 1 is LeCun normal (the default of
/// JAX's Flax and Haiku dense layers; PyTorch's default is g = 1/√3 with uniform weights). Biases start at zero either
/// way. For a ReLU network of L layers the initial outputs scale like (g/√2)^L.
struct GainInitialized<M: Model>: Model {
    let base: M
    let gain: Double
    var layout: ParameterLayout { base.layout }

    func initialParameters(using generator: inout SeededGenerator) -> Tensor {
        (gain / 2.0.squareRoot()) * base.initialParameters(using: &generator)
    }

    func callAsFunction(_ x: Variable, parameters w: Variable) -> Variable { base(x, parameters: w) }
}
