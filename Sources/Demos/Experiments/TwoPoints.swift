import Foundation
import Tape
import Layers
import Bilevel

/// Paper Fig. 11c (PRIMER result 7): a line y = a·x + b trained on two learned points (targets λ₁, λ₂ at
/// fixed x₁, x₂), fit to one original point. The valid outer solutions form a line in λ-space; exact and
/// truncated hypergradients converge to different points of it.
enum TwoPoints: Subcommand {
    static let name = "two-points"
    static let summary = "Fig. 11c: outer trajectories of exact and Neumann hypergradients on the line of valid solutions"
    static let flags: [Flag] = [
        .option("learned-x", "x₁,x₂ of the two learned points", default: "0.5,2"),
        .option("original", "the original point x:y", default: "3:2"),
        .option("start", "λ₀ = λ₁,λ₂", default: "0,0"),
        .option("neumann", "Neumann K values", default: "1,2,5,10,100"),
        .option("inner-lr", "Neumann step α", default: "1/λ_max(H)"),
        .option("outer-lr", "outer SGD learning rate", default: "0.02"),
        .option("outer-steps", "outer steps", default: "3000 (quick: 1500)"),
    ]

    static func run(_ args: Arguments, _ ctx: DemoContext) throws {
        let xs = try args.doubles("learned-x", default: [0.5, 2], in: -100...100)!
        guard xs.count == 2, xs[0] != xs[1] else { throw UsageError("--learned-x needs two different values") }
        let orig = try AntiDistillation.parseOriginal(args.string("original") ?? "3:2")
        guard orig.count == 1 else { throw UsageError("--original takes one point x:y") }
        let start = try args.doubles("start", default: [0, 0], in: -1e6...1e6)!
        guard start.count == 2 else { throw UsageError("--start needs two values λ₁,λ₂") }
        let ks = try args.ints("neumann", default: [1, 2, 5, 10, 100], in: 1...1_000_000)
        let outerLR = try args.double("outer-lr", default: 0.02, in: 1e-9...100)
        let steps = try args.int("outer-steps", default: ctx.quick ? 1500 : 3000, in: 1...10_000_000)

        let problem = TargetDistillation(model: LinearModel(inputs: 1), learnedInputs: Tensor(shape: [2, 1], scalars: xs),
                                         originalInputs: Tensor(shape: [1, 1], scalars: [orig[0].0]),
                                         originalTargets: Tensor(shape: [1, 1], scalars: [orig[0].1]), initialLambda: Tensor(start))
        // H = (2/2) ΦᵀΦ with Φ = [x, 1].
        let phi = Tensor(rows: [[xs[0], 1], [xs[1], 1]])
        let lmax = LinearAlgebra.symmetricEigen(phi.matmul(phi, transposeSelf: true)).values.max()!
        let alpha = try args.double("inner-lr", default: 1 / lmax, in: 1e-12...1e6)
        let concept = ColdStart(optimizer: SGD(learningRate: alpha), steps: 0)
        var specs = [MethodSpec(kind: .exact)] + ks.map { MethodSpec(kind: .neumann, k: $0) }
        specs = specs.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }

        var results: [(MethodSpec, [[Double]])] = []
        for spec in specs {
            func go<M: HypergradientMethod>(_ m: M) throws -> [[Double]] {
                let solver = BilevelSolver(problem: problem, method: m, concept: concept, outerOptimizer: SGD(learningRate: outerLR),
                                           maxOuterSteps: steps, tolerance: 1e-12, lambdaStride: max(1, steps / 300))
                return try solver.run().trajectory.lambdas.map { $0.lambda.scalars }
            }
            results.append((spec, try go(spec.method(innerStep: alpha))))
        }
        // The line of valid outer solutions: rᵀλ = y° with r = Φ⁻ᵀ [x°, 1] (the fit passes the original point).
        let det = xs[0] - xs[1]
        let r = [(orig[0].0 - xs[1]) / det, (xs[0] - orig[0].0) / det]
        let closest = zip(start, r).map { $0 + $1 * (orig[0].1 - (r[0] * start[0] + r[1] * start[1])) / (r[0] * r[0] + r[1] * r[1]) }
        ctx.say("valid outer solutions: \(fmt(r[0])) λ₁ + \(fmt(r[1])) λ₂ = \(fmt(orig[0].1)); closest to λ₀: (\(fmt(closest[0])), \(fmt(closest[1])))")
        ctx.say(table(["method", "final λ₁", "final λ₂", "distance to closest", "on the line (residual)"], results.map { spec, traj in
            let f = traj.last!
            return [spec.label, fmt(f[0]), fmt(f[1]), fmt(hypot(f[0] - closest[0], f[1] - closest[1]), 3),
                    fmt(abs(r[0] * f[0] + r[1] * f[1] - orig[0].1), 2)]
        }))
        try writeOutputs(ctx: ctx, problem: problem, results: results, r: r, y: orig[0].1, closest: closest, alpha: alpha, concept: concept,
                         settings: [("learned_x", .numbers(xs)), ("original", .numbers([orig[0].0, orig[0].1])), ("start", .numbers(start)),
                                    ("inner_lr", .number(alpha)), ("outer_lr", .number(outerLR)), ("outer_steps", .int(steps)),
                                    ("seed", .int(Int(ctx.seed))), ("quick", .bool(ctx.quick))])
    }

    static func writeOutputs(ctx: DemoContext, problem: TargetDistillation<LinearModel>, results: [(MethodSpec, [[Double]])], r: [Double], y: Double,
                             closest: [Double], alpha: Double, concept: ColdStart<SGD>, settings: [(String, JSON)]) throws {
        let all = results.flatMap { $0.1 }
        let lo = min(all.map { min($0[0], $0[1]) }.min()!, closest.min()!) - 0.5, hi = max(all.map { max($0[0], $0[1]) }.max()!, closest.max()!) + 0.5
        var plot = Plot(title: "Two learned points: outer trajectories", xLabel: "λ₁", yLabel: "λ₂", xRange: lo...hi, yRange: lo...hi, width: 620, height: 560)
        // Hypergradient field of the exact method on a grid.
        var fx: [Double] = [], fy: [Double] = [], fdx: [Double] = [], fdy: [Double] = []
        let n = 13, step = (hi - lo) / Double(n)
        var vectors: [(Double, Double, Double, Double)] = []
        for i in 0..<n { for j in 0..<n {
            let l = Tensor([lo + (Double(i) + 0.5) * step, lo + (Double(j) + 0.5) * step])
            let w = problem.solveInner(lambda: l, from: .zeros([2]))
            let g = try ExactHypergradient().hypergradient(of: problem, lambda: l, weights: w).gradient
            vectors.append((l.scalars[0], l.scalars[1], -g.scalars[0], -g.scalars[1]))
        } }
        let longest = vectors.map { hypot($0.2, $0.3) }.max() ?? 1
        for v in vectors where longest > 0 {
            fx.append(v.0); fy.append(v.1); fdx.append(0.8 * step * v.2 / longest); fdy.append(0.8 * step * v.3 / longest)
        }
        plot.layers.append(.arrows(xs: fx, ys: fy, dxs: fdx, dys: fdy, color: "#b0b0b0"))
        // The solution line r₁λ₁ + r₂λ₂ = y.
        if abs(r[1]) > 1e-12 {
            plot.line("valid outer solutions", [lo, hi], [lo, hi].map { (y - r[0] * $0) / r[1] }, color: "#000000", width: 1.5, dashed: true)
        }
        // Exact last, dashed and on top: Neumann with a large K follows nearly the same path and would hide it.
        let order = results.indices.filter { results[$0].0.kind != .exact } + results.indices.filter { results[$0].0.kind == .exact }
        for i in order {
            let (spec, traj) = results[i]
            let isExact = spec.kind == .exact
            plot.line(isExact ? "exact (dashed, drawn on top)" : spec.label, traj.map { $0[0] }, traj.map { $0[1] },
                      color: isExact ? "#000000" : Plot.color(i), width: isExact ? 2 : 4, dashed: isExact)
            plot.points(nil, [traj.last![0]], [traj.last![1]], color: isExact ? "#000000" : Plot.color(i), size: isExact ? 3.5 : 6,
                        marker: isExact ? .square : .circle)
        }
        plot.points("closest to λ₀", [closest[0]], [closest[1]], color: "#ffd700", size: 6, marker: .star)
        plot.legendCorner = .bottomRight   // the solution line leaves through the top right
        try ctx.out.write(plot.svg(), to: "trajectories.svg")
        for (spec, traj) in results {
            try ctx.out.writeCSV("trajectory_\(spec.kind.rawValue)\(spec.k.map { "_K\($0)" } ?? "").csv", header: ["lambda1", "lambda2"], rows: traj)
        }
        try ctx.out.writeJSON(.object([
            ("settings", .object(settings + [("solution_line", .numbers(r + [y])), ("closest_solution", .numbers(closest))])),
            ("runs", .array(results.map { spec, traj in
                .object([("method", .string(spec.kind.rawValue)), ("K", spec.k.map(JSON.int) ?? .null),
                         ("trajectory", .array(traj.map(JSON.numbers))), ("final", .numbers(traj.last!))])
            })),
        ]))
        ctx.say("wrote \(ctx.out.url.path)/{result.json, trajectories.svg, trajectory_*.csv}")
    }
}
