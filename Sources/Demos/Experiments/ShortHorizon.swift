import Foundation
import Tape
import Layers
import Bilevel

/// The short-horizon bias (lecture, PRIMER section 4) on the noisy quadratic model, with the closed-form
/// second-moment recursion: greedy against searched per-step schedules for plain SGD and SGD with momentum,
/// spherical and ill-conditioned, with and without noise; the best constant rate by horizon; and the offline
/// schedule α_k = α₀/(1 + k/K)^β (α₀, K, β learned) for several horizons. Every schedule stays in the stable region.
enum ShortHorizon: Subcommand {
    static let name = "short-horizon"
    static let summary = "Lecture: greedy vs searched schedules (SGD and momentum, with and without noise); offline decay vs horizon"
    static let flags: [Flag] = [
        .option("horizons", "horizons T for greedy vs searched per-step schedules", default: "1,3,10,30,100,300,1000 (quick: 1,10,30,100)"),
        .option("offline-horizons", "horizons for the offline schedule α₀/(1 + k/K)^β", default: "100,1000,5000,20000 (quick: 100,1000)"),
        .option("constant-horizons", "horizons for the best constant rate", default: "10,100,1000,5000,20000 (quick: 10,100,1000)"),
        .option("condition", "condition number κ of the ill-conditioned problem (curvatures log-spaced in [1/κ, 1], 20 coordinates)", default: "1000"),
        .option("noise", "noise scale σ² (cᵢ = σ² hᵢ; spherical: c = σ²)", default: "0.1"),
        .option("strong-noise", "a second, strong noise scale for the best-constant-rate rows", default: "10"),
        .option("max-momentum", "largest momentum β a schedule may use (stable region: β < 1, α·h_max < 2(1 + β))", default: "0.999"),
        .option("iterations", "Adam iterations of each per-step schedule search (per start)", default: "2000 (quick: 300)"),
        .option("offline-iterations", "Adam iterations of each offline-schedule fit (per start)", default: "600 (quick: 200)"),
    ]

    /// One problem and optimizer family of the per-step comparison.
    struct Setting {
        var key: String
        var label: String
        var problem: NoisyQuadratic
        var momentum: Bool
    }

    /// Greedy against the searched schedules of one setting at one horizon.
    struct Comparison {
        var horizon: Int
        var greedy: (rates: [Double], momenta: [Double])
        var greedyLoss: Double
        var found: [NoisyQuadratic.ScheduleResult]
        var best: NoisyQuadratic.ScheduleResult { found.min { $0.loss < $1.loss }! }
        /// Largest αₜ·h_max / (2(1 + βₜ)) of the greedy schedule: ≤ 1 inside the stable region.
        var greedyStabilityRatio: Double
        /// Noise-free problems only: greedy without the stability limit, and the Krylov optimum (no schedule can beat it).
        var unconstrainedGreedyLoss: Double?
        var krylovOptimum: Double?
    }

    static func run(_ args: Arguments, _ ctx: DemoContext) throws {
        let q = ctx.quick
        let horizons = try args.ints("horizons", default: q ? [1, 10, 30, 100] : [1, 3, 10, 30, 100, 300, 1000], in: 1...100_000)
        let offline = try args.ints("offline-horizons", default: q ? [100, 1000] : [100, 1000, 5000, 20000], in: 1...1_000_000)
        let constantHorizons = try args.ints("constant-horizons", default: q ? [10, 100, 1000] : [10, 100, 1000, 5000, 20000], in: 1...10_000_000)
        let kappa = try args.double("condition", default: 1000, in: 1...1e9)
        let s2 = try args.double("noise", default: 0.1, in: 0...1e6)
        let strong = try args.double("strong-noise", default: 10, in: 0...1e6)
        let maxMomentum = try args.double("max-momentum", default: 0.999, in: 0...0.999999)
        let iterations = try args.int("iterations", default: q ? 300 : 2000, in: 1...1_000_000)
        let offlineIterations = try args.int("offline-iterations", default: q ? 200 : 600, in: 1...1_000_000)

        let sph = NoisyQuadratic.spherical(noise: s2)
        let ill = NoisyQuadratic.illConditioned(condition: kappa, noiseScale: s2)
        let clean = NoisyQuadratic.illConditioned(condition: kappa, noiseScale: 0)
        let settings = [
            Setting(key: "sgd_spherical_noisy", label: "SGD, spherical, noisy", problem: sph, momentum: false),
            Setting(key: "sgd_ill_noise_free", label: "SGD, ill-conditioned, noise-free", problem: clean, momentum: false),
            Setting(key: "sgd_ill_noisy", label: "SGD, ill-conditioned, noisy", problem: ill, momentum: false),
            Setting(key: "momentum_spherical_noisy", label: "momentum, spherical, noisy", problem: sph, momentum: true),
            Setting(key: "momentum_ill_noise_free", label: "momentum, ill-conditioned, noise-free", problem: clean, momentum: true),
            Setting(key: "momentum_ill_noisy", label: "momentum, ill-conditioned, noisy", problem: ill, momentum: true),
        ]
        let progress = ctx.progress("schedules")
        var comparisons: [[Comparison]] = []
        for (si, setting) in settings.enumerated() {
            var row: [Comparison] = []
            for (hi, t) in horizons.enumerated() {
                progress.report(si * horizons.count + hi, of: settings.count * horizons.count, "\(setting.label), T = \(t)")
                row.append(compare(setting, horizon: t, maxMomentum: maxMomentum, iterations: iterations))
            }
            comparisons.append(row)
        }
        progress.report(settings.count * horizons.count, of: settings.count * horizons.count)
        ctx.say(table(["setting", "T", "greedy loss", "best searched loss", "greedy ÷ best − 1", "searched losses by start"],
                      zip(settings, comparisons).flatMap { s, row in row.map { c in
                          [s.label, "\(c.horizon)", fmt(c.greedyLoss), fmt(c.best.loss), fmt(c.greedyLoss / c.best.loss - 1, 3),
                           c.found.map { fmt($0.loss, 3) }.joined(separator: " ")]
                      } }))

        // Best constant rate by horizon, for plain SGD on the ill-conditioned problem at three noise levels.
        let noises = [0, s2, strong]
        let constants = noises.map { sigma in
            let p = NoisyQuadratic.illConditioned(condition: kappa, noiseScale: sigma)
            return constantHorizons.map { p.bestConstantRate(steps: $0) }
        }
        ctx.say("\nbest constant SGD rate by horizon (ill-conditioned problem; stable range α < \(fmt(ill.rateLimit())))")
        ctx.say(table(["σ²"] + constantHorizons.map { "T = \($0)" }, zip(noises, constants).map { n, row in [fmt(n)] + row.map { fmt($0.rate) } }))

        // The offline schedule α_k = α₀/(1 + k/K)^β, fitted per horizon from three starts; each fit evaluated at every horizon.
        let cap = ill.rateLimit()
        let starts = [(0.5 * cap, 10.0, 0.5), (0.1 * cap, 100.0, 1.0), (0.9 * cap, 1000.0, 0.3)]
        let offlineProgress = ctx.progress("offline schedules")
        var fits: [(horizon: Int, all: [NoisyQuadratic.DecaySchedule], best: NoisyQuadratic.DecaySchedule)] = []
        for (i, t) in offline.enumerated() {
            offlineProgress.report(i, of: offline.count, "T = \(t)")
            let all = ill.fitInverseTimeDecay(horizon: t, starts: starts.map { (initialRate: $0.0, timeScale: $0.1, power: $0.2) },
                                              iterations: offlineIterations)
            fits.append((t, all, all.min { $0.loss < $1.loss }!))
        }
        offlineProgress.report(offline.count, of: offline.count)
        let crossLoss = fits.map { f in offline.map { ill.loss(after: f.best.rates(steps: $0)) } }
        ctx.say("\noffline schedule α_k = α₀/(1 + k/K)^β on the ill-conditioned noisy problem (best of \(starts.count) starts); " +
                "loss of each fitted schedule at every horizon:")
        ctx.say(table(["fitted for T", "α₀", "K", "β", "α at k = 100", "α at k = 10000"] + offline.map { "loss at \($0)" },
                      zip(fits, crossLoss).map { f, losses in
                          ["\(f.horizon)", fmt(f.best.initialRate), fmt(f.best.timeScale), fmt(f.best.power),
                           fmt(f.best.initialRate * pow(1 + 100 / f.best.timeScale, -f.best.power)),
                           fmt(f.best.initialRate * pow(1 + 10000 / f.best.timeScale, -f.best.power))] + losses.map { fmt($0) }
                      }))
        try ShortHorizonOutput.write(ctx: ctx, settings: settings, comparisons: comparisons, horizons: horizons, noises: noises,
                                     constantHorizons: constantHorizons, constants: constants, offline: offline, fits: fits,
                                     crossLoss: crossLoss, starts: starts,
                                     config: [("condition", .number(kappa)), ("noise_scale", .number(s2)), ("strong_noise_scale", .number(strong)),
                                              ("max_momentum", .number(maxMomentum)), ("iterations", .int(iterations)),
                                              ("offline_iterations", .int(offlineIterations)), ("seed", .int(Int(ctx.seed))), ("quick", .bool(q))])
    }

    /// Greedy and the searched schedules from four starts that are *not* greedy: constant rates at 10 %, 50 % and
    /// 90 % of the stable limit (momenta 0, 0.5, 0.9 with momentum) and an inverse-time decay from 50 %.
    static func compare(_ s: Setting, horizon t: Int, maxMomentum: Double, iterations: Int) -> Comparison {
        let p = s.problem
        let greedy = p.greedySchedule(steps: t, momentum: s.momentum, maxMomentum: maxMomentum)
        let fractions: [(Double, Double)] = s.momentum ? [(0.1, 0), (0.5, 0.5), (0.9, min(0.9, maxMomentum))] : [(0.1, 0), (0.5, 0), (0.9, 0)]
        var starts: [(rates: [Double], momenta: [Double]?)] = fractions.map { f, b in
            (Array(repeating: f * p.rateLimit(momentum: b), count: t), s.momentum ? Array(repeating: b, count: t) : nil)
        }
        let b = s.momentum ? min(0.5, maxMomentum) : 0
        starts.append(((0..<t).map { 0.5 * p.rateLimit(momentum: b) / (1 + Double($0) / 10) }, s.momentum ? Array(repeating: b, count: t) : nil))
        let found = p.optimizeSchedule(starts: starts, momentum: s.momentum, maxMomentum: maxMomentum, iterations: iterations)
        let ratio = zip(greedy.rates, greedy.momenta).map { $0 / p.rateLimit(momentum: $1) }.max() ?? 0
        let noiseFree = p.noise.allSatisfy { $0 == 0 }
        let free = noiseFree ? p.greedySchedule(steps: t, momentum: s.momentum, maxMomentum: maxMomentum, stable: false) : nil
        return Comparison(horizon: t, greedy: greedy, greedyLoss: p.loss(after: greedy.rates, momenta: s.momentum ? greedy.momenta : nil),
                          found: found, greedyStabilityRatio: ratio,
                          unconstrainedGreedyLoss: free.map { p.loss(after: $0.rates, momenta: s.momentum ? $0.momenta : nil) },
                          krylovOptimum: noiseFree ? p.krylovOptimum(steps: t) : nil)
    }
}
