import Foundation
import Tape
import Layers
import Bilevel

/// Files of the short-horizon demo: result.json, CSVs, three pictures and `claims.md`, the lecture's statements
/// with our numbers and a verdict by the criteria written beside each (docs/demos/short-horizon.md splices it in).
enum ShortHorizonOutput {
    typealias Fit = (horizon: Int, all: [NoisyQuadratic.DecaySchedule], best: NoisyQuadratic.DecaySchedule)

    static func write(ctx: DemoContext, settings: [ShortHorizon.Setting], comparisons: [[ShortHorizon.Comparison]], horizons: [Int],
                      noises: [Double], constantHorizons: [Int], constants: [[(rate: Double, loss: Double)]], offline: [Int], fits: [Fit],
                      crossLoss: [[Double]], starts: [(Double, Double, Double)], config: [(String, JSON)]) throws {
        // 1. greedy ÷ best searched, by horizon, one line per setting.
        var ratioPlot = Plot(title: "Greedy loss ÷ best searched loss after T steps (1 = greedy is as good)", xLabel: "horizon T",
                             yLabel: "greedy ÷ searched", xLog: true, yLog: true)
        let hs = horizons.map(Double.init)
        for (i, (s, row)) in zip(settings, comparisons).enumerated() {
            let ratios = row.map { $0.greedyLoss / $0.best.loss }
            ratioPlot.line(s.label, hs, ratios, color: Plot.color(i), width: 2, dashed: s.momentum)
            ratioPlot.points(nil, hs, ratios, color: Plot.color(i), size: 3, marker: s.momentum ? .square : .circle)
            try ctx.out.writeColumns("greedy_vs_searched_\(s.key).csv", [("horizon", hs), ("greedy_loss", row.map(\.greedyLoss)),
                                                                          ("searched_loss", row.map(\.best.loss))])
        }
        ratioPlot.legendCorner = .topLeft
        try ctx.out.write(ratioPlot.svg(), to: "greedy_vs_searched.svg")

        // 2. Schedules at the longest horizon, ill-conditioned and noisy: greedy vs searched, SGD and momentum.
        var schedulePlot = Plot(title: "Rates for T = \(horizons.max()!) (ill-conditioned, noisy)", xLabel: "step t", yLabel: "rate αₜ", yLog: true)
        var columns: [(String, [Double])] = []
        for (i, key) in ["sgd_ill_noisy", "momentum_ill_noisy"].enumerated() {
            guard let si = settings.firstIndex(where: { $0.key == key }), let c = comparisons[si].last else { continue }
            let steps = (0..<c.horizon).map(Double.init)
            if columns.isEmpty { columns.append(("step", steps)) }
            // SGD wide underneath, momentum thin on top: the two greedy schedules nearly coincide.
            let width = settings[si].momentum ? 1.6 : 4.0
            schedulePlot.line("greedy (\(settings[si].momentum ? "momentum, thin" : "SGD, wide"))", steps, c.greedy.rates, color: Plot.color(2 * i),
                              width: width, dashed: true)
            schedulePlot.line("searched (\(settings[si].momentum ? "momentum" : "SGD"))", steps, c.best.rates, color: Plot.color(2 * i + 1), width: width)
            columns += [("greedy_rate_\(key)", c.greedy.rates), ("greedy_momentum_\(key)", c.greedy.momenta),
                        ("searched_rate_\(key)", c.best.rates), ("searched_momentum_\(key)", c.best.momenta)]
        }
        if let p = settings.first(where: { $0.key == "sgd_ill_noisy" })?.problem, let t = horizons.max() {
            schedulePlot.line("stable limit 2/h_max (SGD)", [0, Double(t - 1)], [p.rateLimit(), p.rateLimit()], color: "#000000", width: 1, dashed: true)
        }
        // Room below the curves for the legend.
        let rates = columns.dropFirst().filter { $0.0.contains("_rate_") }.flatMap(\.1).filter { $0 > 0 }
        if let lo = rates.min(), let hi = rates.max() { schedulePlot.yRange = (lo / 30)...(hi * 1.5) }
        schedulePlot.legendCorner = .bottomLeft
        try ctx.out.write(schedulePlot.svg(), to: "schedules.svg")
        try ctx.out.writeColumns("schedules.csv", columns)

        // 3. Offline schedules by horizon.
        var metaPlot = Plot(title: "Offline schedules α₀/(1 + k/K)^β fitted per horizon", xLabel: "step k", yLabel: "rate α_k", xLog: true, yLog: true)
        let last = Double(offline.max() ?? 1)
        let ks = (0..<200).map { pow(last, Double($0) / 199) - 1 + 1e-9 }.map { max($0, 1) }
        for (i, f) in fits.enumerated() {
            metaPlot.line("fitted for T = \(f.horizon)", ks, ks.map { f.best.initialRate * pow(1 + $0 / f.best.timeScale, -f.best.power) }, color: Plot.color(i))
        }
        metaPlot.legendCorner = .bottomLeft
        try ctx.out.write(metaPlot.svg(), to: "offline_schedules.svg")
        try ctx.out.writeCSV("offline_schedules.csv", header: ["horizon", "alpha0", "K", "beta", "loss"],
                             rows: fits.map { [Double($0.horizon), $0.best.initialRate, $0.best.timeScale, $0.best.power, $0.best.loss] })

        // 4. result.json.
        let perStep: [JSON] = zip(settings, comparisons).map { s, row in
            .object([("key", .string(s.key)), ("label", .string(s.label)), ("momentum", .bool(s.momentum)),
                     ("curvatures", .numbers(s.problem.curvatures)), ("noise", .numbers(s.problem.noise)),
                     ("horizons", .array(row.map { .int($0.horizon) })), ("greedy_loss", .numbers(row.map(\.greedyLoss))),
                     ("searched_loss", .numbers(row.map(\.best.loss))),
                     ("searched_loss_by_start", .array(row.map { .numbers($0.found.map(\.loss)) })),
                     ("greedy_max_rate_over_limit", .numbers(row.map(\.greedyStabilityRatio))),
                     ("unconstrained_greedy_loss", row.first?.krylovOptimum == nil ? .null : .numbers(row.map { $0.unconstrainedGreedyLoss! })),
                     ("krylov_optimum", row.first?.krylovOptimum == nil ? .null : .numbers(row.map { $0.krylovOptimum! }))])
        }
        let constantJSON: [JSON] = zip(noises, constants).map { n, row in
            .object([("noise_scale", .number(n)), ("horizons", .array(constantHorizons.map(JSON.int))),
                     ("best_rate", .numbers(row.map(\.rate))), ("loss", .numbers(row.map(\.loss)))])
        }
        let offlineJSON: [JSON] = zip(fits, crossLoss).map { f, losses in
            .object([("horizon", .int(f.horizon)), ("alpha0", .number(f.best.initialRate)), ("K", .number(f.best.timeScale)),
                     ("beta", .number(f.best.power)), ("loss", .number(f.best.loss)),
                     ("loss_at_horizons", .numbers(losses)),
                     ("starts", .array(f.all.map { .object([("alpha0", .number($0.initialRate)), ("K", .number($0.timeScale)),
                                                            ("beta", .number($0.power)), ("loss", .number($0.loss))]) }))])
        }
        let settingsJSON: JSON = .object(config + [
            ("noise_convention", .string("g = h theta + eps, Var eps_i = c_i per step; m' = (1 - a h)^2 m + a^2 c (SGD), momentum: see docs")),
            ("stable_region", .string("0 <= beta <= max_momentum, alpha * h_max < 2 (1 + beta) at every step")),
            ("offline_starts", .array(starts.map { .numbers([$0.0, $0.1, $0.2]) })), ("offline_horizons", .array(offline.map(JSON.int))),
        ])
        let claims = Claims(settings: settings, comparisons: comparisons, noises: noises, constantHorizons: constantHorizons,
                            constants: constants, fits: fits, crossLoss: crossLoss)
        try ctx.out.writeJSON(.object([("settings", settingsJSON), ("per_step", .array(perStep)), ("constant_rates", .array(constantJSON)),
                                       ("offline", .array(offlineJSON)), ("claims", .array(claims.rows.map { r in
                                           .object([("claim", .string(r.claim)), ("ours", .string(r.ours)), ("verdict", .string(r.verdict))]) }))]))
        try ctx.out.write(claims.markdown, to: "claims.md")
        ctx.say("\n" + claims.markdown)
        ctx.say("wrote \(ctx.out.url.path)/{result.json, claims.md, greedy_vs_searched.svg, schedules.svg, offline_schedules.svg, *.csv}")
    }
}
