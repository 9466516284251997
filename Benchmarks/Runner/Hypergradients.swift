import Foundation
import Tape
import Layers
import Bilevel

/// A hypergradient workload: one whole computation timed as a unit (a hypergradient, or a block of HVPs),
/// the data and our result that the peer harness (Benchmarks/peers/hypergradient_bench.py) loads to compute
/// the same thing and check it against ours before timing, and the FLOPs of its matrix products.
struct HypergradientWorkload {
    let name: String
    /// One run, as timed.
    let run: () -> Void
    /// The result of one run (the hypergradient; for hvp-block16 the 16 products, direction by direction).
    let result: () -> Tensor
    /// Matrix-product FLOPs of the least work the computation needs (the gradient linearized once, each product
    /// its tangent half), counted as the peer harness counts them (2mnk per product).
    let flops: Double
    /// What the peers load: arrays (row-major) and numbers.
    let arrays: [(String, Tensor)]
    let numbers: [String: Double]
    /// A note for the table (e.g. how the single HVP compares).
    var extra: () -> [String: Double] = { [:] }

    static let order = ["distill-cg10", "distill-neumann10", "distill-unrolled10", "fourier-exact", "hvp-block16"]

    /// The workload called `name` (one of `order`); the three distill workloads share one setup, made once.
    static func make(_ name: String, distill: inout Distill?) -> HypergradientWorkload {
        switch name {
        case "fourier-exact": return fourierExact()
        case "hvp-block16": return hvpBlock16()
        default:
            let d = distill ?? Distill()
            distill = d
            return self.distill(name, d)
        }
    }

    /// FLOPs of an MLP's products with layer products m_l = 2·B·inₗ·outₗ, F = Σ m_l: (gradient, the gradient
    /// linearized without the weights' own cotangents, one linearized product). A product's tangent half: the
    /// forward ḣW + hẆ (2F − m₀: the data has no tangent), the backward δ̇Wᵀ + δẆᵀ (2F − 2m₀: none into the data)
    /// and the weights' ḣᵀδ + hᵀδ̇ (2F − m₀).
    static func mlpFlops(_ widths: [Int], batch: Int) -> (gradient: Double, linearize: Double, product: Double) {
        let m = zip(widths, widths.dropFirst()).map { 2.0 * Double(batch * $0 * $1) }
        let f = m.reduce(0, +)
        return (3 * f - m[0], 2 * f - m[0], 6 * f - 4 * m[0])
    }

    // MARK: Dataset distillation with learned targets (the paper's 2 → 200 ×4 → 1 tanh MLP)

    /// The inner problem: the MLP fitted to 100 learned targets λ at fixed inputs (inner MSE), outer MSE on 100
    /// original points y = sin(x₁ + x₂). (λ, w): λ = the original function at the learned inputs plus noise, w 300
    /// steps of Adam on J_in from the Glorot start. α = 1/λ_max(H) is the Neumann step and the unrolled SGD rate.
    ///
    /// Conjugate gradients run on (H + ηI) v = ∂J_out/∂w with η = λ_max/10. Undamped, ten iterations are not
    /// well posed here: H is singular (121,401 weights, 100 targets), ∂J_out/∂w has a part in its null space, and a
    /// relative change of 1e-13 in b changed the tenth iterate by 7 % (1.8e-6 with η = λ_max/100, 5e-12 with
    /// λ_max/10; measured with JAX), so no implementation could be checked against another to 1e-10.
    struct Distill {
        let problem: TargetDistillation<MLP>
        let lambda: Tensor, weights: Tensor, alpha: Double
        let widths = [2, 200, 200, 200, 200, 1]
        var damping: Double { 0.1 / alpha }

        init() {
            var g = SeededGenerator(seed: 2027)
            let xs = Tensor.randomNormal([100, 2], using: &g), xo = Tensor.randomNormal([100, 2], using: &g)
            func target(_ x: Tensor, _ i: Int) -> Double { Foundation.sin(x[i, 0] + x[i, 1]) }
            let yo = Tensor(shape: [100, 1], scalars: (0..<100).map { target(xo, $0) })
            let mlp = MLP(widths: widths, activation: .tanh)
            problem = TargetDistillation(model: mlp, learnedInputs: xs, originalInputs: xo, originalTargets: yo)
            lambda = Tensor((0..<100).map { target(xs, $0) + 0.1 * g.nextNormal() })
            let adam = Adam(learningRate: 1e-3)
            var state = adam.initialState(weights: mlp.initialParameters(using: &g))
            let p = problem, l = lambda
            do {
                try adam.minimize({ w, _ in p.innerObjective(lambda: w.constant(l), weights: w, step: 0) }, state: &state, steps: 300)
            } catch { fail("distill: training the inner problem failed: \(error)") }
            weights = state.weights
            alpha = 1 / abs(LocalDerivatives(problem: problem, lambda: lambda, weights: weights).dominantEigenvalue(iterations: 50))
        }

        var arrays: [(String, Tensor)] {
            [("learned_inputs", problem.learnedInputs), ("original_inputs", problem.originalInputs),
             ("original_targets", problem.originalTargets.reshaped([100])), ("lambda", lambda), ("w", weights)]
        }
    }

    static func distill(_ name: String, _ d: Distill) -> HypergradientWorkload {
        let workspace = BilevelWorkspace()
        let context = HypergradientContext(initialWeights: d.weights, innerStep: 0, workspace: workspace)
        let method: any HypergradientMethod = switch name {
        case "distill-cg10": TruncatedConjugateGradient(iterations: 10, damping: d.damping)
        case "distill-neumann10": NeumannSeries(terms: 10, step: d.alpha, stabilityCheckIterations: 0)
        default: TruncatedUnrolling(steps: 10, optimizer: SGD(learningRate: d.alpha))
        }
        func once() -> Hypergradient {
            do { return try method.hypergradient(of: d.problem, lambda: d.lambda, weights: d.weights, context: context) }
            catch { fail("\(name): \(error)") }
        }
        let first = once()
        // Every peer runs exactly ten iterations: ours must not have stopped early.
        if name == "distill-cg10" && first.diagnostics.status != ConjugateGradient.Status.iterationLimit.description {
            fail("\(name): conjugate gradients stopped early (\(first.diagnostics.status)); the peers run all ten iterations")
        }
        let fl = mlpFlops(d.widths, batch: 100)
        let flops = switch name {
        case "distill-cg10": fl.gradient + fl.linearize + 11 * fl.product          // ∂J_out/∂w; 10 H·v and Mᵀv
        case "distill-neumann10": fl.gradient + fl.linearize + 10 * fl.product     // 9 H·v and Mᵀv
        default: 11 * fl.gradient + 10 * fl.product   // 10 inner gradients, ∂J_out/∂w_K; 10 reverse steps (Hₜa, Mₜᵀa)
        }
        return HypergradientWorkload(name: name, run: { _ = once() }, result: { once().gradient }, flops: flops,
                                     arrays: d.arrays, numbers: ["alpha": d.alpha, "iterations": 10, "damping": d.damping])
    }

    // MARK: Anti-distillation, exact hypergradient

    /// The Fourier problem of PRIMER result 6 (21 features, amplitudes 0.5ᵏ, 13 learned points equally spaced
    /// in (−π, π), one original point (0.5, 1)) at λ = sin of the learned x and w its min-norm inner solution:
    /// the exact hypergradient (dense Hessian, its pseudoinverse with cut-off 1e-10 · max|μ|, Mᵀv).
    static func fourierExact() -> HypergradientWorkload {
        let features = FourierFeatures(frequencies: 10, profile: .paperDefault)
        let xs = Tensor(shape: [13, 1], scalars: (0..<13).map { -Double.pi + 2 * Double.pi * (Double($0) + 0.5) / 13 })
        let problem = TargetDistillation(model: FourierRegressor(features: features), learnedInputs: xs,
                                         originalInputs: Tensor(shape: [1, 1], scalars: [0.5]), originalTargets: Tensor([1.0]))
        let lambda = Tensor(xs.scalars.map { Foundation.sin($0) })
        let w = problem.solveInner(lambda: lambda, from: .zeros([21]))
        let workspace = BilevelWorkspace()
        let context = HypergradientContext(initialWeights: w, innerStep: 0, workspace: workspace)
        func once() -> Tensor {
            do { return try ExactHypergradient().hypergradient(of: problem, lambda: lambda, weights: w, context: context).gradient }
            catch { fail("fourier-exact: \(error)") }
        }
        // 21 products of the 13 × 21 feature matrix each way, and Mᵀv; the eigendecomposition is not counted.
        let product = 4 * 2.0 * 13 * 21
        var workload = HypergradientWorkload(name: "fourier-exact", run: { _ = once() }, result: once, flops: 22 * product,
                                             arrays: [("learned_inputs", xs), ("original_inputs", problem.originalInputs),
                                                      ("original_targets", Tensor([1.0])), ("amplitudes", Tensor(features.amplitudes)),
                                                      ("lambda", lambda), ("w", w)],
                                             numbers: ["relative_tolerance": 1e-10])
        workload.extra = { denseHessianTimes(problem, lambda, w) }
        return workload
    }

    /// The dense Hessian of the Fourier problem's J_in at (λ, w) as `LocalDerivatives.denseHessian()` makes it (the
    /// gradient linearized once, the 21 columns in one block), beside the way it was made before issue 17: one fresh
    /// products-only HVP per column on a kept tape, then the same symmetrization. Both checked equal bit for bit.
    static func denseHessianTimes<P: BilevelProblem>(_ problem: P, _ lambda: Tensor, _ w: Tensor) -> [String: Double] {
        let tape = Tape(), columnsTape = Tape(), n = w.count
        func blocked() -> Tensor { LocalDerivatives(problem: problem, lambda: lambda, weights: w, tape: tape).denseHessian() }
        var products: [Tensor] = []
        func columns() -> Tensor {
            var h = Tensor.zeros([n, n]), e = Tensor.zeros([n])
            for j in 0..<n {
                e.scalars[j] = 1
                columnsTape.hessianVectorProduct(of: { x in problem.innerObjective(lambda: x[0], weights: x[1], step: 0) },
                                                 at: [lambda, w], along: [nil, e], into: &products)
                for i in 0..<n { h.scalars[i * n + j] = products[1].scalars[i] }
                e.scalars[j] = 0
            }
            for i in 0..<n { for j in (i + 1)..<n {
                let s = 0.5 * (h.scalars[i * n + j] + h.scalars[j * n + i])
                h.scalars[i * n + j] = s; h.scalars[j * n + i] = s
            } }
            return h
        }
        guard blocked() == columns() else { fail("fourier-exact: the blocked dense Hessian differs from the column-by-column one") }
        let new = Timing.measure(minSeconds: 0.3) { _ = blocked() }, old = Timing.measure(minSeconds: 0.3) { _ = columns() }
        return ["dense_hessian_us": new.medianSeconds * 1e6, "dense_hessian_columns_us": old.medianSeconds * 1e6]
    }

    // MARK: 16 HVPs of paper-mlp at one point

    /// paper-mlp's loss at its point (the single-HVP workload's), 16 seeded directions, in one call: the gradient
    /// linearized, then one sweep of 16 directions.
    static func hvpBlock16() -> HypergradientWorkload {
        let w = Workload.all["paper-mlp"]!()
        var g = SeededGenerator(seed: 16)
        let directions: [[Tensor?]] = (0..<16).map { _ in w.parameters.map { Tensor.randomNormal($0.shape, using: &g) } }
        let tape = Tape()
        func once() -> [[Tensor]] {
            tape.linearizedGradient(of: w.loss, at: w.parameters).hessianMatrixProduct(along: directions)
        }
        let single = Tape()
        var products: [Tensor] = []
        let singleTiming = Timing.measure(minSeconds: 0.3) {
            single.hessianVectorProduct(of: w.loss, at: w.parameters, along: directions[0].map { $0! }, into: &products)
        }
        // Linearizing (what a hypergradient pays once), and one product of a linearization made once (what each
        // CG or Neumann iteration costs).
        let linearizeTape = Tape()
        let linearizeTiming = Timing.measure(minSeconds: 0.3) { _ = linearizeTape.linearizedGradient(of: w.loss, at: w.parameters) }
        let linearized = Tape().linearizedGradient(of: w.loss, at: w.parameters)
        var replayed: [Tensor] = []
        let linearizedTiming = Timing.measure(minSeconds: 0.3) { linearized.hessianVectorProduct(along: directions[0], into: &replayed) }
        let fl = mlpFlops([2, 200, 200, 200, 200, 1], batch: 100)
        var arrays: [(String, Tensor)] = w.parameters.enumerated().map { ("p\($0)", $1) }
        arrays += [("x", w.constants[0]), ("y", w.constants[1])]
        arrays.append(("directions", Tensor(directions.flatMap { $0.flatMap { $0!.scalars } })))
        var workload = HypergradientWorkload(name: "hvp-block16", run: { _ = once() },
                                             result: { Tensor(once().flatMap { $0.flatMap(\.scalars) }) },
                                             flops: fl.linearize + 16 * fl.product, arrays: arrays,
                                             numbers: ["directions": 16, "parameter_tensors": Double(w.parameters.count)])
        workload.extra = { ["single_hvp_us": singleTiming.medianSeconds * 1e6, "linearized_hvp_us": linearizedTiming.medianSeconds * 1e6,
                            "linearize_us": linearizeTiming.medianSeconds * 1e6] }
        return workload
    }

    // MARK: Data for the peers

    /// Writes DIR/NAME.json (the arrays' shapes and offsets, the numbers, our result's name) and DIR/NAME.bin (the
    /// arrays and our result, float64 little-endian), each written whole under a temporary name and renamed.
    func export(to directory: String) throws {
        var all = arrays
        all.append(("ours_result", result()))
        var bin = Data()
        var entries: [String] = []
        for (name, t) in all {
            entries.append("\"\(name)\": {\"offset\": \(bin.count / 8), \"shape\": [\(t.shape.dimensions.map(String.init).joined(separator: ", "))]}")
            t.scalars.withUnsafeBytes { bin.append(contentsOf: $0) }
        }
        let numbersJSON = numbers.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
        let json = "{\"workload\": \"\(name)\", \"dtype\": \"float64\", \"bin\": \"\(name).bin\",\n \"numbers\": {\(numbersJSON)},\n \"arrays\": {\n  "
            + entries.joined(separator: ",\n  ") + "}}\n"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (file, data) in [("\(name).bin", bin), ("\(name).json", Data(json.utf8))] {
            try data.write(to: URL(fileURLWithPath: "\(directory)/\(file)"), options: .atomic)
        }
    }
}
