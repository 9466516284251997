import Foundation
import Tape
import Layers
import Bilevel

/// Paper Fig. 8 (PRIMER result 5, warm-start memory): an inner linear regression y = a·x + b on ONE synthetic
/// datapoint (xᵢ, yᵢ) whose input and target cycle through a list. Each solution set {w : a·xᵢ + b = yᵢ} is a
/// line in weight space and the lines intersect. Full warm start (gradient descent from the previous w to
/// convergence) projects w onto the current line — the Kaczmarz algorithm — and ends up fitting every
/// datapoint; cold start (from w₀ each time) only ever fits the current one.
enum KaczmarzDemo: Subcommand {
    static let name = "kaczmarz"
    static let summary = "Fig. 8: full warm start remembers every datapoint it cycled through (Kaczmarz); cold start does not"
    static let flags: [Flag] = [
        .option("points", "the cycled datapoints x:y,… (on a common line so that the solution sets intersect)", default: "-1:-0.5,0.5:1.75,2:4"),
        .option("cycles", "passes through the list", default: "30 (quick: 10)"),
        .option("inner-lr", "inner gradient-descent step, below 2/(max x² + 1)", default: "0.2 (at most 0.9 · 2/(max x² + 1))"),
        .option("tolerance", "inner convergence: ‖∂J_in/∂w‖ ≤ tolerance (≥ 1e-12)", default: "1e-12"),
    ]

    static func run(_ args: Arguments, _ ctx: DemoContext) throws {
        let points = try Arguments.parsePairs(args.string("points") ?? "-1:-0.5,0.5:1.75,2:4", flag: "points", x: -100...100, y: -1e6...1e6)
        guard points.count >= 2 else { throw UsageError("--points needs at least two datapoints") }
        let cycles = try args.int("cycles", default: ctx.quick ? 10 : 30, in: 1...100_000)
        // Gradient descent on ½(a·x + b − y)² converges iff lr < 2/(x² + 1), the Hessian's one non-zero eigenvalue;
        // below 1e-3 it would take more than the inner step cap to reach the tolerance.
        let stable = 2 / (points.map { $0.0 * $0.0 + 1 }.max() ?? 1)
        let lr = try args.double("inner-lr", default: min(0.2, 0.9 * stable), in: 1e-3...10)
        guard lr < stable else { throw UsageError("--inner-lr \(lr) makes inner gradient descent diverge on these points: use a value below 2/(max x² + 1) = \(fmt(stable))") }
        // Below 1e-12 the gradient norm would stop at round-off before reaching the tolerance.
        let tol = try args.double("tolerance", default: 1e-12, in: 1e-12...1)
        // λ = (x, y) of the current datapoint; J_in = ½ (a·x + b − y)².
        let problem = ClosureProblem(initialLambda: Tensor([points[0].0, points[0].1]), initialWeights: .zeros([2]),
            inner: { l, w, _ in
                let x = l.slice(alongAxis: 0, start: 0, count: 1), y = l.slice(alongAxis: 0, start: 1, count: 1)
                return (w.slice(alongAxis: 0, start: 0, count: 1) * x + w.slice(alongAxis: 0, start: 1, count: 1) - y).squared().sum() * 0.5
            }, outer: { _, w in w.sum() })
        let warm = WarmStart.full(optimizer: SGD(learningRate: lr), maxSteps: 200_000, gradientTolerance: tol)
        let cold = ColdStart(optimizer: SGD(learningRate: lr), steps: 200_000, gradientTolerance: tol)
        var warmState = warm.initialInnerState(weights: .zeros([2])), coldState = cold.initialInnerState(weights: .zeros([2]))
        var warmPath = [[0.0, 0.0]], coldPath = [[0.0, 0.0]]
        var warmResidual: [Double] = [], coldResidual: [Double] = []
        var perPoint: [[Double]] = []
        func residuals(_ w: Tensor) -> [Double] { points.map { abs(w.scalars[0] * $0.0 + w.scalars[1] - $0.1) } }
        let progress = ctx.progress("cycles")
        for c in 0..<cycles {
            for p in points {
                let l = Tensor([p.0, p.1])
                try warm.updateInner(problem, lambda: l, state: &warmState, initialWeights: .zeros([2]))
                try cold.updateInner(problem, lambda: l, state: &coldState, initialWeights: .zeros([2]))
                warmPath.append(warmState.weights.scalars)
                coldPath.append(coldState.weights.scalars)
            }
            let rw = residuals(warmState.weights), rc = residuals(coldState.weights)
            warmResidual.append(rw.max()!)
            coldResidual.append(rc.max()!)
            perPoint.append([Double(c + 1)] + rw + rc)
            progress.report(c + 1, of: cycles)
        }
        ctx.say(table(["after cycle", "warm: max residual", "cold: max residual"], [0, min(2, cycles - 1), cycles - 1].map {
            ["\($0 + 1)", fmt(warmResidual[$0], 3), fmt(coldResidual[$0], 3)]
        }))
        ctx.say("warm start ends at w = (\(fmt(warmState.weights.scalars[0])), \(fmt(warmState.weights.scalars[1]))): it fits every datapoint; cold start only the last one")

        // Pictures: weight space with the solution lines and both paths; residuals per cycle.
        let all = warmPath + coldPath
        let lo = min(all.map { $0.min()! }.min()!, -0.5) - 0.3, hi = max(all.map { $0.max()! }.max()!, 1) + 0.3
        var plot = Plot(title: "Weight space: solution lines a·xᵢ + b = yᵢ and inner iterates", xLabel: "a (slope)", yLabel: "b (intercept)",
                        xRange: lo...hi, yRange: lo...hi, width: 600, height: 560, legendCorner: .bottomRight)
        for (i, p) in points.enumerated() {
            plot.line("a·\(p.0 < 0 ? "(\(fmt(p.0, 3)))" : fmt(p.0, 3)) + b = \(fmt(p.1, 3))", [lo, hi], [lo, hi].map { p.1 - $0 * p.0 }, color: Plot.color(i + 2), width: 1.2, dashed: true)
        }
        plot.line("full warm start (Kaczmarz)", warmPath.map { $0[0] }, warmPath.map { $0[1] }, color: Plot.color(0), width: 2)
        plot.points(nil, warmPath.map { $0[0] }, warmPath.map { $0[1] }, color: Plot.color(0), size: 3)
        plot.points("cold start", coldPath.map { $0[0] }, coldPath.map { $0[1] }, color: Plot.color(1), size: 5, marker: .square)
        try ctx.out.write(plot.svg(), to: "weight_space.svg")
        var rplot = Plot(title: "Largest residual over the datapoints after each cycle", xLabel: "cycle", yLabel: "max |a·xᵢ + b − yᵢ|", yLog: true)
        let cyc = (1...cycles).map(Double.init)
        rplot.line("full warm start", cyc, warmResidual.map { max($0, 1e-16) }, color: Plot.color(0))
        rplot.line("cold start", cyc, coldResidual.map { max($0, 1e-16) }, color: Plot.color(1))
        try ctx.out.write(rplot.svg(), to: "residuals.svg")
        try ctx.out.writeCSV("residuals.csv", header: ["cycle"] + points.indices.map { "warm_point\($0)" } + points.indices.map { "cold_point\($0)" }, rows: perPoint)
        try ctx.out.writeCSV("paths.csv", header: ["warm_a", "warm_b", "cold_a", "cold_b"], rows: zip(warmPath, coldPath).map { $0 + $1 })
        try ctx.out.writeJSON(.object([
            ("settings", .object([("points", .array(points.map { JSON.numbers([$0.0, $0.1]) })), ("cycles", .int(cycles)), ("inner_lr", .number(lr)),
                                  ("tolerance", .number(tol)), ("seed", .int(Int(ctx.seed))), ("quick", .bool(ctx.quick))])),
            ("warm", .object([("final_w", .numbers(warmState.weights.scalars)), ("max_residual_per_cycle", .numbers(warmResidual)),
                              ("final_residuals", .numbers(residuals(warmState.weights)))])),
            ("cold", .object([("final_w", .numbers(coldState.weights.scalars)), ("max_residual_per_cycle", .numbers(coldResidual)),
                              ("final_residuals", .numbers(residuals(coldState.weights)))])),
        ]))
        ctx.say("wrote \(ctx.out.url.path)/{result.json, weight_space.svg, residuals.svg, residuals.csv, paths.csv}")
    }
}
