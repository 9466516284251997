import Foundation
import Tape
import Layers
import Bilevel

/// The short-horizon bias (lecture, PRIMER section 4) on the noisy quadratic model: the greedy schedule
/// against the schedule optimal for the whole horizon, on a spherical and an ill-conditioned noisy problem,
/// and the schedule α_k = α₀/(1 + k/K₀)^β meta-learned by unrolled differentiation for several horizons.
enum ShortHorizon: Subcommand {
    static let name = "short-horizon"
    static let summary = "Lecture: greedy vs horizon-optimal learning-rate schedules; meta-learned decay vs horizon"
    static let flags: [Flag] = [
        .option("horizons", "horizons T for greedy vs optimal", default: "1,3,10,30,100,300,1000 (quick: 1,10,30,100)"),
        .option("meta-horizons", "horizons for the meta-learned α₀, β", default: "100,1000,5000 (quick: 30,100,300)"),
        .option("condition", "condition number of the ill-conditioned problem", default: "1000"),
        .option("noise", "noise scale σ² (cᵢ = σ² hᵢ; spherical: c = σ²)", default: "0.1"),
        .option("iterations", "Adam iterations of each schedule optimization", default: "400 (quick: 200)"),
    ]

    static func run(_ args: Arguments, _ ctx: DemoContext) throws {
        let q = ctx.quick
        let horizons = try args.ints("horizons", default: q ? [1, 10, 30, 100] : [1, 3, 10, 30, 100, 300, 1000], in: 1...100_000)
        let metaHorizons = try args.ints("meta-horizons", default: q ? [30, 100, 300] : [100, 1000, 5000], in: 1...1_000_000)
        let kappa = try args.double("condition", default: 1000, in: 1...1e9)
        let s2 = try args.double("noise", default: 0.1, in: 0...1e6)
        let iterations = try args.int("iterations", default: q ? 200 : 400, in: 1...1_000_000)
        let problems = [("spherical", NoisyQuadratic.spherical(noise: s2)), ("ill-conditioned", NoisyQuadratic.illConditioned(condition: kappa, noiseScale: s2))]
        var rows: [[String]] = [], entries: [(String, JSON)] = []
        var lossPlot = Plot(title: "Expected loss after T steps: greedy vs horizon-optimal schedule", xLabel: "horizon T", yLabel: "expected loss",
                            xLog: true, yLog: true)
        var schedulePlot = Plot(title: "Schedules for the longest horizon (ill-conditioned problem)", xLabel: "step", yLabel: "learning rate α", yLog: true)
        let progress = ctx.progress("schedules")
        var done = 0
        for (pi, (name, nqm)) in problems.enumerated() {
            var greedy: [Double] = [], optimal: [Double] = []
            for t in horizons {
                let g = nqm.greedySchedule(steps: t)
                let o = try nqm.optimizedSchedule(steps: t, iterations: iterations)
                greedy.append(nqm.loss(after: g))
                optimal.append(min(nqm.loss(after: o), nqm.loss(after: g)))
                rows.append([name, "\(t)", fmt(greedy.last!), fmt(optimal.last!), fmt(greedy.last! / optimal.last! - 1, 3)])
                if name == "ill-conditioned" && t == horizons.max()! {
                    let steps = (0..<t).map(Double.init)
                    schedulePlot.line("greedy", steps, g, color: Plot.color(0))
                    schedulePlot.line("optimal for T = \(t)", steps, o, color: Plot.color(1))
                    try ctx.out.writeColumns("schedules.csv", [("step", steps), ("greedy", g), ("optimal", o)])
                }
                done += 1
                progress.report(done, of: 2 * horizons.count)
            }
            try ctx.out.writeColumns("loss_vs_horizon_\(name).csv", [("horizon", horizons.map(Double.init)), ("greedy", greedy), ("optimal", optimal)])
            lossPlot.line("\(name): greedy", horizons.map(Double.init), greedy, color: Plot.color(2 * pi), dashed: true)
            lossPlot.line("\(name): horizon-optimal", horizons.map(Double.init), optimal, color: Plot.color(2 * pi))
            entries.append((name.replacingOccurrences(of: "-", with: "_"), .object([
                ("horizons", .array(horizons.map(JSON.int))), ("greedy_loss", .numbers(greedy)), ("optimal_loss", .numbers(optimal)),
                ("curvatures", .numbers(nqm.curvatures)), ("noise", .numbers(nqm.noise))])))
        }
        ctx.say(table(["problem", "horizon T", "greedy loss", "optimal loss", "greedy excess"], rows))
        // Meta-learned inverse-time decay on the ill-conditioned problem.
        let nqm = problems[1].1
        let k0 = 10.0
        var meta: [(Int, Double, Double)] = []
        for t in metaHorizons {
            let r = try nqm.metaLearnInverseTimeDecay(horizon: t, k0: k0, initialRate: 0.5, iterations: iterations)
            meta.append((t, r.rate, r.power))
        }
        ctx.say("\nmeta-learned α_k = α₀ / (1 + k/\(Int(k0)))^β on the ill-conditioned problem (unrolled through the horizon):")
        ctx.say(table(["horizon", "α₀", "β", "α at step 100"], meta.map { ["\($0.0)", fmt($0.1), fmt($0.2), fmt($0.1 * pow(1 + 100 / k0, -$0.2))] }))
        var metaPlot = Plot(title: "Meta-learned schedules α_k = α₀/(1 + k/K₀)^β by horizon", xLabel: "step k", yLabel: "learning rate", xLog: true, yLog: true)
        let ks = (0..<200).map { pow(10, 4 * Double($0) / 199) }
        for (i, m) in meta.enumerated() { metaPlot.line("horizon \(m.0)", ks, ks.map { m.1 * pow(1 + $0 / k0, -m.2) }, color: Plot.color(i)) }
        try ctx.out.write(lossPlot.svg(), to: "loss_vs_horizon.svg")
        try ctx.out.write(schedulePlot.svg(), to: "schedules.svg")
        try ctx.out.write(metaPlot.svg(), to: "meta_schedules.svg")
        try ctx.out.writeCSV("meta_learned.csv", header: ["horizon", "alpha0", "beta"], rows: meta.map { [Double($0.0), $0.1, $0.2] })
        try ctx.out.writeJSON(.object([
            ("settings", .object([("noise_convention", .string("m' = (1 - a h)^2 m + a^2 c, c = variance of the gradient noise")),
                                  ("condition", .number(kappa)), ("noise_scale", .number(s2)), ("iterations", .int(iterations)),
                                  ("k0", .number(k0)), ("seed", .int(Int(ctx.seed))), ("quick", .bool(ctx.quick))])),
        ] + entries + [("meta_learned", .array(meta.map { .object([("horizon", .int($0.0)), ("alpha0", .number($0.1)), ("beta", .number($0.2))]) }))]))
        ctx.say("wrote \(ctx.out.url.path)/{result.json, loss_vs_horizon.svg, schedules.svg, meta_schedules.svg, *.csv}")
    }
}
