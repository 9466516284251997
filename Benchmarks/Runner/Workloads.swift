import Foundation
import Tape

/// A benchmark problem: a scalar loss of a list of parameter tensors, the point, and a direction.
struct Workload {
    let name: String
    let parameters: [Tensor]
    let direction: [Tensor]
    let loss: ([Variable]) -> Variable
    /// The data the loss holds as constants (inputs, targets), for the peers.
    let constants: [Tensor]
    /// Matrix-multiply FLOPs of one gradient and one HVP, counted as the peer harness counts them
    /// (../shared/peers/hvp_bench.py), so GFLOP/s are comparable.
    let gradientFlops: Double
    let hvpFlops: Double
    /// Doubles in the parameters plus every forward activation (for the memory target).
    let parameterAndActivationDoubles: Int

    var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// L hidden tanh layers of width H, linear scalar output, mean squared error over B examples.
    static func mlp(_ name: String, inputs: Int, hidden: Int, layers: Int, batch: Int, seed: UInt64 = 0) -> Workload {
        var g = SeededGenerator(seed: seed)
        let dims = [inputs] + Array(repeating: hidden, count: layers) + [1]
        var params: [Tensor] = []
        for (i, o) in zip(dims, dims.dropFirst()) {
            params.append(Tensor.randomNormal([i, o], standardDeviation: 1 / Double(i).squareRoot(), using: &g))
            params.append(Tensor.randomNormal([o], standardDeviation: 0.1, using: &g))
        }
        let x = Tensor.randomNormal([batch, inputs], using: &g)
        let y = Tensor(shape: [batch, 1], scalars: (0..<batch).map { i in
            Foundation.sin((0..<inputs).reduce(0.0) { $0 + x.scalars[i * inputs + $1] })
        })
        let direction = params.map { Tensor.randomNormal($0.shape, using: &g) }
        let count = dims.count - 1
        let loss: ([Variable]) -> Variable = { p in
            var h = p[0].constant(x)
            for l in 0..<count {
                h = h.matmul(p[2 * l]) + p[2 * l + 1]
                if l < count - 1 { h = h.tanh() }
            }
            return (h - y).squared().mean()
        }
        let products = zip(dims, dims.dropFirst()).map { 2.0 * Double(batch * $0 * $1) }
        let f = products.reduce(0, +)
        let activations = batch * inputs + dims.dropFirst().reduce(0) { $0 + 2 * batch * $1 }
        return Workload(name: name, parameters: params, direction: direction, loss: loss, constants: [x, y],
                        gradientFlops: 3 * f - products[0], hvpFlops: 9 * f - 5 * products[0],
                        parameterAndActivationDoubles: params.reduce(0) { $0 + $1.count } + activations)
    }

    /// Linear regression on 1 + 2K features [1, sin kx, cos kx] of N points, mean squared error.
    static func fourier(_ name: String, frequencies k: Int, points n: Int, seed: UInt64 = 0) -> Workload {
        var g = SeededGenerator(seed: seed)
        let p = 1 + 2 * k
        var phi = Tensor.zeros([n, p]), y = Tensor.zeros([n, 1])
        for i in 0..<n {
            let x = -Double.pi + 2 * Double.pi * Double(i) / Double(n - 1)
            phi[i, 0] = 1
            for f in 1...k { phi[i, f] = Foundation.sin(Double(f) * x); phi[i, k + f] = Foundation.cos(Double(f) * x) }
            y[i, 0] = (Foundation.sin(x) >= 0 ? 1 : -1) + 0.1 * g.nextNormal()
        }
        let w = Tensor.randomNormal([p, 1], standardDeviation: 0.1, using: &g)
        let loss: ([Variable]) -> Variable = { v in (v[0].constant(phi).matmul(v[0]) - y).squared().mean() }
        let m = 2.0 * Double(n * p)
        return Workload(name: name, parameters: [w], direction: [Tensor.randomNormal([p, 1], using: &g)], loss: loss,
                        constants: [phi, y], gradientFlops: 2 * m, hvpFlops: 4 * m, parameterAndActivationDoubles: p + n * p + 2 * n)
    }

    /// The five workloads, named as in the peer harness.
    static let all: [String: @Sendable () -> Workload] = [
        "tiny-mlp": { mlp("tiny-mlp", inputs: 2, hidden: 10, layers: 2, batch: 13) },
        "paper-mlp": { mlp("paper-mlp", inputs: 2, hidden: 200, layers: 4, batch: 100) },
        "mnist-mlp": { mlp("mnist-mlp", inputs: 784, hidden: 256, layers: 2, batch: 256) },
        "large-mlp": { mlp("large-mlp", inputs: 512, hidden: 1024, layers: 3, batch: 1024) },
        "fourier": { fourier("fourier", frequencies: 10, points: 13) },
    ]
    static let order = ["tiny-mlp", "fourier", "paper-mlp", "mnist-mlp", "large-mlp"]
}
