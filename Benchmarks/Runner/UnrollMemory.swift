import Foundation
import Tape
import Layers

/// `Benchmarks --unroll-memory [K]`: differentiates K steps of SGD with momentum on the paper's 4 × 200 ReLU MLP
/// (dataset distillation of two learned points) with checkpoints every √K steps, and prints the time, the states
/// held at once and the peak resident memory — the "K = 10,000 steps in 2 GB" check.
enum UnrollMemory {
    static func run(steps k: Int) {
        let mlp = MLP(widths: [2, 200, 200, 200, 200, 2], activation: .relu)
        var g = SeededGenerator(seed: 0)
        let w0 = mlp.initialParameters(using: &g)
        let xSynthetic = Tensor(rows: [[0.3, -0.2], [1.5, 1.1]])
        let real = SyntheticData.rings(classes: 2, pointsPerClass: 50, noise: 0.1, seed: 0)
        let inner: InnerObjective = { l, w, _ in Loss.softmaxCrossEntropy(logits: mlp(l.reshaped([2, 2]), parameters: w), labels: [0, 1]) }
        let outer: (Variable, Variable) -> Variable = { _, w in
            Loss.softmaxCrossEntropy(logits: mlp(w.constant(real.inputs), parameters: w), labels: real.labels)
        }
        let interval = max(1, Int(Double(k).squareRoot()))
        let opt = SGD(learningRate: 0.001, momentum: 0.9)
        let unrolled = UnrolledOptimization(optimizer: opt, steps: k, checkpointInterval: interval)
        let start = Date()
        do {
            let (value, grads) = try unrolled.hypergradient(outer: outer, inner: inner, lambda: xSynthetic.reshaped([4]),
                                                            from: opt.initialState(weights: w0))
            let seconds = Date().timeIntervalSince(start)
            let stateMB = Double(w0.count * (2 + opt.stateCount) * 8) / 1e6
            print("unrolled K = \(k) SGD-momentum steps of a 4 × 200 ReLU MLP (\(w0.count) weights), checkpoint every \(interval) steps")
            print("  outer loss \(value), ‖dJ/dλ‖ = \(grads.lambda.norm), \(String(format: "%.1f", seconds)) s")
            print("  states held at once: \(grads.peakStoredStates) × \(String(format: "%.2f", stateMB)) MB (without checkpoints: \(k) × \(String(format: "%.2f", stateMB)) MB = \(String(format: "%.0f", Double(k) * stateMB)) MB)")
            if let rss = peakResidentBytes() { print("  peak resident memory of the process: \(String(format: "%.0f", Double(rss) / 1e6)) MB") }
        } catch {
            fail("\(error)")
        }
    }
}
