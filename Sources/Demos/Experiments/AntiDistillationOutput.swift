import Foundation
import Tape
import Layers
import Bilevel

/// Files of the anti-distillation demo: result.json, CSVs and three pictures.
enum AntiDistillationOutput {
    static func write<M: Model>(_ problem: TargetDistillation<M>, ctx: DemoContext, setup: AntiDistillation.Setup,
                                chosen: [AntiDistillation.Outcome], grid: [AntiDistillation.Outcome], kGrid: [Int], etaGrid: [Double],
                                alpha: Double, outerLR: Double?, outerSteps: Int, innerSteps: Int?) throws {
        // 1. Learned points and fitted curves.
        let curveX = (0..<401).map { -Double.pi + 2 * Double.pi * Double($0) / 400 }
        let curveT = Tensor(shape: [401, 1], scalars: curveX)
        var plot = Plot(title: "Anti-distillation: learned targets and fitted curves (\(setup.model))", xLabel: "x", yLabel: "y")
        var curveColumns: [(String, [Double])] = [("x", curveX)]
        var pointColumns: [(String, [Double])] = [("x", setup.learnedX)]
        for (i, o) in chosen.enumerated() where o.failure == nil {
            let c = Plot.color(i)
            let fit = problem.predict(curveT, weights: o.run.weights)
            plot.line(o.spec.label, curveX, fit, color: c, width: 1.6)
            plot.points(nil, setup.learnedX, o.run.lambda.scalars, color: c, size: 3.5)
            curveColumns.append((o.spec.label, fit))
            pointColumns.append((o.spec.label, o.run.lambda.scalars))
        }
        plot.points("original point", setup.original.map(\.0), setup.original.map(\.1), color: "#ffd700", size: 7, marker: .star)
        try ctx.out.write(plot.svg(), to: "points_and_fits.svg")
        try ctx.out.writeColumns("fits.csv", curveColumns)
        try ctx.out.writeColumns("learned_points.csv", pointColumns)

        // 2. Norms at convergence against K and against η.
        let exact = grid.first { $0.spec.kind == .exact }
        var kPlot = Plot(title: "Norms at convergence vs K", xLabel: "K (terms / iterations / unrolled steps)", yLabel: "norm", xLog: true, yLog: true)
        var kColumns: [(String, [Double])] = [("K", kGrid.map(Double.init))]
        for (i, kind) in [MethodSpec.Kind.neumann, .cg, .unrolled].enumerated() {
            let runs = kGrid.compactMap { k in grid.first { $0.spec.kind == kind && $0.spec.k == k } }
            let ln = runs.map { $0.failure == nil ? $0.run.lambda.norm : .nan }, wn = runs.map { $0.failure == nil ? $0.run.weights.norm : .nan }
            kPlot.line("‖λ‖ \(kind.rawValue)", kGrid.map(Double.init), ln, color: Plot.color(i))
            kPlot.line("‖w‖ \(kind.rawValue)", kGrid.map(Double.init), wn, color: Plot.color(i), dashed: true)
            if kind == .unrolled {   // identical to Neumann on this quadratic problem: markers keep both visible
                kPlot.points(nil, kGrid.map(Double.init), ln, color: Plot.color(i), size: 3.5, marker: .square)
                kPlot.points(nil, kGrid.map(Double.init), wn, color: Plot.color(i), size: 3.5, marker: .square)
            }
            let failed = runs.filter { $0.failure != nil }.compactMap(\.spec.k)
            if let first = failed.first, let y = ln.compactMap({ $0.isFinite ? $0 : nil }).last {
                kPlot.layers.append(.label(x: Double(first), y: y, text: "\(kind.rawValue) K ≥ \(first): ascent direction, not run", color: Plot.color(i)))
            }
            kColumns += [("lambda_norm_\(kind.rawValue)", ln), ("w_norm_\(kind.rawValue)", wn)]
        }
        if let exact, let lo = kGrid.min(), let hi = kGrid.max() {
            kPlot.line("‖λ‖ exact", [Double(lo), Double(hi)], [exact.run.lambda.norm, exact.run.lambda.norm], color: "#000000", width: 1.2)
            kPlot.line("‖w‖ exact", [Double(lo), Double(hi)], [exact.run.weights.norm, exact.run.weights.norm], color: "#000000", width: 1.2, dashed: true)
        }
        try ctx.out.write(kPlot.svg(), to: "norms_vs_K.svg")
        try ctx.out.writeColumns("norms_vs_K.csv", kColumns)
        var ePlot = Plot(title: "Norms at convergence vs damping η", xLabel: "η", yLabel: "norm", xLog: true, yLog: true)
        let dampedRuns = etaGrid.compactMap { e in grid.first { $0.spec.kind == .damped && $0.spec.eta == e } }
        ePlot.line("‖λ‖ damped", etaGrid, dampedRuns.map { $0.run.lambda.norm }, color: Plot.color(0))
        ePlot.line("‖w‖ damped", etaGrid, dampedRuns.map { $0.run.weights.norm }, color: Plot.color(0), dashed: true)
        if let exact, let lo = etaGrid.min(), let hi = etaGrid.max() {
            ePlot.line("‖λ‖ exact", [lo, hi], [exact.run.lambda.norm, exact.run.lambda.norm], color: "#000000", width: 1.2)
            ePlot.line("‖w‖ exact", [lo, hi], [exact.run.weights.norm, exact.run.weights.norm], color: "#000000", width: 1.2, dashed: true)
        }
        try ctx.out.write(ePlot.svg(), to: "norms_vs_eta.svg")
        try ctx.out.writeColumns("norms_vs_eta.csv", [("eta", etaGrid), ("lambda_norm", dampedRuns.map { $0.run.lambda.norm }),
                                                      ("w_norm", dampedRuns.map { $0.run.weights.norm })])

        // 3. result.json.
        func runJSON(_ o: AntiDistillation.Outcome) -> JSON {
            if let failure = o.failure {
                return .object([("method", .string(o.spec.kind.rawValue)), ("K", o.spec.k.map(JSON.int) ?? .null), ("eta", JSON.optional(o.spec.eta)),
                                ("lambda", .null), ("w", .null), ("lambda_norm", .null), ("w_norm", .null), ("outer_loss", .null),
                                ("outer_steps", .int(0)), ("converged", .bool(false)), ("outer_lr", .null), ("failure", .string(failure))])
            }
            return .object([("method", .string(o.spec.kind.rawValue)), ("K", o.spec.k.map(JSON.int) ?? .null), ("eta", JSON.optional(o.spec.eta)),
                     ("lambda", .numbers(o.run.lambda.scalars)), ("w", .numbers(o.run.weights.scalars)),
                     ("lambda_norm", .number(o.run.lambda.norm)), ("w_norm", .number(o.run.weights.norm)),
                     ("outer_loss", .number(o.outerLoss)), ("outer_steps", .int(o.run.outerSteps)), ("converged", .bool(o.run.converged)),
                     ("outer_lr", .number(o.rate))])
        }
        let settings: JSON = .object([
            ("model", .string(setup.model)), ("frequencies", .int(setup.features.frequencies)),
            ("amplitudes", .numbers(setup.features.amplitudes)), ("amplitude_profile", .string(setup.features.profile.description)),
            ("learned_x", .numbers(setup.learnedX)),
            ("original", .array(setup.original.map { JSON.numbers([$0.0, $0.1]) })),
            ("inner_lr", .number(alpha)), ("outer_lr", outerLR.map(JSON.number) ?? .string("auto")),
            ("outer_steps_cap", .int(outerSteps)), ("inner_solve", innerSteps.map { JSON.string("\($0) GD steps") } ?? .string("closed form")),
            ("convergence_tolerance", .number(1e-10)), ("seed", .int(Int(ctx.seed))), ("quick", .bool(ctx.quick)),
        ])
        try ctx.out.writeJSON(.object([("settings", settings), ("runs", .array(chosen.map(runJSON))), ("grid", .array(grid.map(runJSON)))]))
        ctx.say("wrote \(ctx.out.url.path)/{result.json, points_and_fits.svg, norms_vs_K.svg, norms_vs_eta.svg, *.csv}")
    }
}
