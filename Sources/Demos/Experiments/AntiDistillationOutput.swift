import Foundation
import Tape
import Layers
import Bilevel

/// Files of the anti-distillation demo: result.json, CSVs and five pictures.
enum AntiDistillationOutput {
    typealias Outcome = AntiDistillation.Outcome

    static func write<M: Model>(_ problem: TargetDistillation<M>, ctx: DemoContext, setup: AntiDistillation.Setup, chosen: [Outcome],
                                grid: [Outcome], kGrid: [Int], cgGrid: [Int], etaGrid: [Double], settings: AntiDistillation.Settings,
                                bound: Double) throws {
        // 1. Learned points and fitted curves.
        let curveX = (0..<401).map { -Double.pi + 2 * Double.pi * Double($0) / 400 }
        let curveT = Tensor(shape: [401, 1], scalars: curveX)
        var curveColumns: [(String, [Double])] = [("x", curveX)]
        var pointColumns: [(String, [Double])] = [("x", setup.learnedX)]
        var layers: [(spec: MethodSpec, style: Plot.Style, fit: [Double], points: [Double])] = []
        for (o, style) in zip(chosen, MethodSpec.styles(chosen.map(\.spec))) {
            guard let l = o.lambda, let w = o.weights else { continue }
            let fit = problem.predict(curveT, weights: w)
            layers.append((o.spec, style, fit, l.scalars))
            curveColumns.append((o.spec.label, fit))
            pointColumns.append((o.spec.label, l.scalars))
        }
        // The legend (grouped by family) in a panel beside the curves.
        var plot = Plot(title: "Anti-distillation: learned targets and fitted curves (\(modelTitle(setup)))", xLabel: "x", yLabel: "y", height: 520,
                        legend: .right)
        // One colour per family (Neumann, CG, damped, unrolled), one dash per member; the learned points in the
        // method's style. Exact last, black and dashed: a method that reaches the same answer (CG with enough
        // iterations) would hide it.
        for (spec, familyStyle, fit, points) in layers.sorted(by: { ($0.spec.kind == .exact ? 1 : 0) < ($1.spec.kind == .exact ? 1 : 0) }) {
            let exact = spec.kind == .exact, style = exact ? Self.exactStyle : familyStyle
            plot.line(exact ? "exact (dashed, on top)" : spec.label, curveX, fit, style: style, width: exact ? 1.8 : 1.6,
                      group: exact ? "reference" : spec.family)
            plot.points(nil, setup.learnedX, points, style: style, size: exact ? 2.5 : 3.5)
        }
        plot.points("original point", setup.original.map(\.0), setup.original.map(\.1), style: Plot.Style(color: "#ffd700", marker: .star),
                    size: 7, group: "reference")
        try ctx.out.write(plot.svg(), to: "points_and_fits.svg")
        try ctx.out.writeColumns("fits.csv", curveColumns)
        try ctx.out.writeColumns("learned_points.csv", pointColumns)

        // 2. Norms at convergence against K. Neumann and unrolling coincide on a quadratic inner problem: Neumann is
        // drawn wide and light, unrolling thin and dashed on top, so both stay visible.
        let exact = grid.first { $0.spec.kind == .exact && $0.lambda != nil }
        func norms(_ runs: [Outcome]) -> (l: [Double], w: [Double]) { (runs.map { $0.lambda?.norm ?? .nan }, runs.map { $0.weights?.norm ?? .nan }) }
        let styles: [(MethodSpec.Kind, String, String, Double, Bool, [Int])] = [
            (.neumann, "Neumann", "#9ecae1", 6, false, kGrid), (.unrolled, "unrolled (= Neumann here; dashed on top)", Plot.color(3), 1.8, true, kGrid),
            (.cg, "CG", Plot.color(1), 2, false, cgGrid)]
        let all = (norms(grid).l + norms(grid).w).filter { $0.isFinite && $0 > 0 }
        let (lo, hi) = (all.min() ?? 0.1, all.max() ?? 10)
        var kPlot = Plot(title: "‖λ‖ (falls with K) and ‖w‖ (grows with K) at convergence", xLabel: "K (Neumann terms / CG iterations / unrolled steps)",
                         yLabel: "norm", xLog: true, yLog: true, yRange: (lo / 8)...(hi * 1.6), height: 480)
        var kColumns: [(String, [Double])] = [("K", kGrid.map(Double.init))]
        for (kind, name, color, width, dashed, ks) in styles {
            let runs = ks.compactMap { k in grid.first { $0.spec.kind == kind && $0.spec.k == k } }
            let (ln, wn) = norms(runs)
            let x = runs.map { Double($0.spec.k!) }
            kPlot.line(name, x, ln, color: color, width: width, dashed: dashed)
            kPlot.line(nil, x, wn, color: color, width: width, dashed: dashed)
            if kind == .cg {
                kPlot.points(nil, x, ln, color: color, size: 2.5)
                kPlot.points(nil, x, wn, color: color, size: 2.5)
            }
            if let first = runs.first(where: { $0.failure != nil }), let k = first.spec.k, let y = ln.last(where: \.isFinite) {
                kPlot.label("\(kind.rawValue) K ≥ \(k): stopped (see result.json)", x: Double(k), y: y, color: color)
            }
            if kind != .cg { kColumns += [("lambda_norm_\(kind.rawValue)", ln), ("w_norm_\(kind.rawValue)", wn)] }
        }
        if let exact, let l = exact.lambda, let w = exact.weights, let kMax = (kGrid + cgGrid).max() {
            kPlot.line("exact (pseudoinverse)", [1, Double(kMax)], [l.norm, l.norm], color: "#000000", width: 1.2, dashed: true)
            kPlot.line(nil, [1, Double(kMax)], [w.norm, w.norm], color: "#000000", width: 1.2, dashed: true)
            // Labelled a little before halfway along the log axis (so the text runs rightwards), where the truncated
            // curves have left K = 1 and not yet reached the exact values; at K = 1 a curve can start just above the
            // line and cross the label.
            let middle = Foundation.pow(Double(kMax), 0.45)
            kPlot.label("‖w‖ exact", x: middle, y: w.norm, color: "#000000")
            kPlot.label("‖λ‖ exact", x: middle, y: l.norm, color: "#000000")
        }
        kPlot.legendCorner = .bottomRight
        try ctx.out.write(kPlot.svg(), to: "norms_vs_K.svg")
        try ctx.out.writeColumns("norms_vs_K.csv", kColumns)

        // 3. CG against K: distance to the exact answer (log scale; 0 is drawn at the 1e-16 floor).
        let cgRuns = cgGrid.compactMap { k in grid.first { $0.spec.kind == .cg && $0.spec.k == k } }
        if let exact, let el = exact.lambda, let ew = exact.weights {
            let dl = cgRuns.map { o in o.lambda.map { max(($0 - el).norm / el.norm, 1e-16) } ?? .nan }
            let dw = cgRuns.map { o in o.weights.map { max(($0 - ew).norm / ew.norm, 1e-16) } ?? .nan }
            let ks = cgRuns.map { Double($0.spec.k!) }
            var cgPlot = Plot(title: "Truncated CG vs the exact hypergradient's answer", xLabel: "CG iterations K", yLabel: "relative distance to exact",
                              yLog: true, yRange: 1e-17...10)
            cgPlot.line("‖λ_K − λ_exact‖ / ‖λ_exact‖", ks, dl, color: Plot.color(0))
            cgPlot.points(nil, ks, dl, color: Plot.color(0), size: 3)
            cgPlot.line("‖w_K − w_exact‖ / ‖w_exact‖", ks, dw, color: Plot.color(1), dashed: true)
            cgPlot.points(nil, ks, dw, color: Plot.color(1), size: 3, marker: .square)
            if let k = zip(ks, dl).first(where: { $0.1 < 1e-12 })?.0 { cgPlot.label("below 1e-12 (rounding) from K = \(Int(k)) on", x: k, y: 1e-10) }
            if let k = cgRuns.first(where: { $0.failure != nil })?.spec.k {
                cgPlot.label("K ≥ \(k): stopped as diverging (see result.json)", x: Double(k), y: 1e-3, color: "#b2182b")
            }
            cgPlot.legendCorner = .topRight
            try ctx.out.write(cgPlot.svg(), to: "cg_vs_K.svg")
            try ctx.out.writeColumns("cg_vs_K.csv", [("K", ks), ("lambda_relative_distance", dl), ("w_relative_distance", dw),
                                                     ("lambda_norm", norms(cgRuns).l), ("w_norm", norms(cgRuns).w)])
        }

        // 4. Norms against η.
        let dampedRuns = etaGrid.compactMap { e in grid.first { $0.spec.kind == .damped && $0.spec.eta == e } }
        let (dl, dw) = norms(dampedRuns)
        var ePlot = Plot(title: "‖λ‖ (grows with η) and ‖w‖ (falls with η) at convergence", xLabel: "damping η", yLabel: "norm",
                         xLog: true, yLog: true, yRange: (lo / 8)...(hi * 1.6))
        ePlot.line("damped", etaGrid, dl, color: Plot.color(2))
        ePlot.line(nil, etaGrid, dw, color: Plot.color(2))
        if let exact, let l = exact.lambda, let w = exact.weights, let a = etaGrid.min(), let b = etaGrid.max() {
            ePlot.line("exact (pseudoinverse)", [a, b], [l.norm, l.norm], color: "#000000", width: 1.2, dashed: true)
            ePlot.line(nil, [a, b], [w.norm, w.norm], color: "#000000", width: 1.2, dashed: true)
            // At the largest η, where the damped curves are farthest from the exact values (at the smallest η the
            // damped ‖w‖ runs just under the exact line, through a label there).
            ePlot.label("‖w‖ exact", x: b, y: w.norm, color: "#000000")
            ePlot.label("‖λ‖ exact", x: b, y: l.norm, color: "#000000")
        }
        ePlot.legendCorner = .bottomLeft
        try ctx.out.write(ePlot.svg(), to: "norms_vs_eta.svg")
        try ctx.out.writeColumns("norms_vs_eta.csv", [("eta", etaGrid), ("lambda_norm", dl), ("w_norm", dw)])

        // 5. Outer dynamics: ‖λ_k‖ along the run.
        var dPlot = Plot(title: "Outer dynamics: ‖λ_k‖ per outer step (\(modelTitle(setup)); " + (settings.outerLR.map { "SGD, lr \(fmt($0))" } ?? "line search") + ")",
                         xLabel: "outer step k", yLabel: "‖λ_k‖", xLog: true)
        for (o, style) in zip(chosen, MethodSpec.styles(chosen.map(\.spec))) where !o.lambdaNorms.isEmpty {
            let exact = o.spec.kind == .exact
            dPlot.line(o.spec.label + (o.failure != nil ? " (stopped)" : ""), (1...o.lambdaNorms.count).map(Double.init), o.lambdaNorms,
                       style: exact ? Self.exactStyle : style, width: 1.6, group: exact ? "reference" : o.spec.family)
        }
        // Beside the plot: up to 16 rows do not fit a corner without covering the early steps of some curve.
        dPlot.legend = .right
        try ctx.out.write(dPlot.svg(), to: "outer_dynamics.svg")

        try ctx.out.writeJSON(resultJSON(ctx: ctx, setup: setup, chosen: chosen, grid: grid, settings: settings, bound: bound))
        try ctx.out.write(summaryMarkdown(chosen), to: "summary.md")
        ctx.say("wrote \(ctx.out.url.path)/{result.json, points_and_fits.svg, norms_vs_K.svg, cg_vs_K.svg, norms_vs_eta.svg, outer_dynamics.svg, *.csv}")
    }

    /// The inner model as a picture's title names it, so the variants on the docs page (F = 10 or 4, amplitudes
    /// 0.5^k or linear, MLP) are told apart: "Fourier, F = 10, aₖ = 0.5^k", "MLP 1-10-10-1 ReLU".
    static func modelTitle(_ setup: AntiDistillation.Setup) -> String {
        guard setup.model == "fourier" else { return setup.model == "mlp" ? "MLP 1-10-10-1 ReLU" : setup.model }
        let amplitudes: String
        switch setup.features.profile {
        case .exponential(let r): amplitudes = "aₖ = \(fmt(r))^k"
        case .linear: amplitudes = "linear aₖ"
        case .custom: amplitudes = "own aₖ"
        }
        return "Fourier, F = \(setup.features.frequencies), \(amplitudes)"
    }

    /// The exact method's look in every picture: black, dashed (drawn last, on top).
    static let exactStyle = Plot.Style(color: "#000000", dash: .dashed)

    /// The summary table as markdown (docs/demos/anti-distillation.md splices it in; tools/regenerate-docs.sh).
    static func summaryMarkdown(_ chosen: [Outcome]) -> String {
        var s = "| method | ‖λ‖ | ‖w‖ | outer loss | outer steps | converged | ‖∂J_in/∂w‖ at w |\n|---|---|---|---|---|---|---|\n"
        for o in chosen {
            if let l = o.lambda, let w = o.weights {
                s += "| \(o.spec.label) | \(fmt(l.norm)) | \(fmt(w.norm)) | \(fmt(o.outerLoss, 2)) | \(o.outerSteps) | \(o.converged ? "yes" : "no (cap)") | \(fmt(o.innerGradientNorm, 2)) |\n"
            } else {
                s += "| \(o.spec.label) | — | — | — | \(o.outerSteps) | stopped: \(o.failure ?? "") | — |\n"
            }
        }
        return s
    }

    static func resultJSON(ctx: DemoContext, setup: AntiDistillation.Setup, chosen: [Outcome], grid: [Outcome],
                           settings: AntiDistillation.Settings, bound: Double) -> JSON {
        func runJSON(_ o: Outcome, trajectory: Bool) -> JSON {
            var fields: [(String, JSON)] = [
                ("method", .string(o.spec.kind.rawValue)), ("K", o.spec.k.map(JSON.int) ?? .null), ("eta", JSON.optional(o.spec.eta)),
                ("lambda", o.lambda.map { .numbers($0.scalars) } ?? .null), ("w", o.weights.map { .numbers($0.scalars) } ?? .null),
                ("lambda_norm", JSON.optional(o.lambda?.norm)), ("w_norm", JSON.optional(o.weights?.norm)),
                ("outer_loss", o.lambda == nil ? .null : .number(o.outerLoss)), ("outer_steps", .int(o.outerSteps)),
                ("converged", .bool(o.converged)), ("outer_lr", o.rate.isFinite ? .number(o.rate) : .null),
                ("inner_gradient_norm", o.lambda == nil ? .null : .number(o.innerGradientNorm)), ("solve_status", .string(o.solveStatus)),
                ("failure", o.failure.map(JSON.string) ?? .null),
            ]
            if trajectory {
                let stride = max(1, o.lambdaNorms.count / 200)
                fields.append(("lambda_norm_trajectory", .numbers(Swift.stride(from: 0, to: o.lambdaNorms.count, by: stride).map { o.lambdaNorms[$0] }
                    .filter(\.isFinite))))
            }
            return .object(fields)
        }
        let config: JSON = .object([
            ("model", .string(setup.model)), ("frequencies", .int(setup.features.frequencies)),
            ("amplitudes", .numbers(setup.features.amplitudes)), ("amplitude_profile", .string(setup.features.profile.description)),
            ("learned_x", .numbers(setup.learnedX)), ("original", .array(setup.original.map { JSON.numbers([$0.0, $0.1]) })),
            ("inner_lr", .number(settings.alpha)), ("outer_optimizer", .string(settings.outerLR == nil ? "line search (auto)" : "sgd")),
            ("outer_lr", settings.outerLR.map(JSON.number) ?? .string("auto")), ("outer_steps_cap", .int(settings.outerSteps)),
            ("inner_solve", settings.innerSteps.map { JSON.string("\($0) SGD steps from w0") } ?? .string("closed form")),
            ("lambda_bound", bound.isFinite ? .number(bound) : .null), ("convergence_tolerance", .number(1e-10)),
            ("seed", .int(Int(ctx.seed))), ("quick", .bool(ctx.quick)),
        ])
        return .object([("settings", config), ("runs", .array(chosen.map { runJSON($0, trajectory: true) })),
                        ("grid", .array(grid.map { runJSON($0, trajectory: false) }))])
    }
}
