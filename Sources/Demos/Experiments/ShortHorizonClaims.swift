import Foundation
import Bilevel

/// The lecture's statements on the short-horizon bias, each with our number and a verdict by a stated criterion.
struct Claims {
    struct Row { var claim: String; var ours: String; var verdict: String }
    var rows: [Row] = []

    init(settings: [ShortHorizon.Setting], comparisons: [[ShortHorizon.Comparison]], noises: [Double], constantHorizons: [Int],
         constants: [[(rate: Double, loss: Double)]], fits: [ShortHorizonOutput.Fit], crossLoss: [[Double]]) {
        func row(_ key: String) -> (ShortHorizon.Setting, [ShortHorizon.Comparison])? {
            settings.firstIndex { $0.key == key }.map { (settings[$0], comparisons[$0]) }
        }
        /// greedy ÷ searched − 1 at every horizon; a loss below 1e-15 of the starting loss counts as 0 (both solved).
        func excess(_ s: ShortHorizon.Setting, _ c: ShortHorizon.Comparison) -> Double {
            let floor = 1e-15 * s.problem.loss(s.problem.initialMoments)
            return (max(c.greedyLoss, floor)) / max(c.best.loss, floor) - 1
        }
        func list(_ s: ShortHorizon.Setting, _ cs: [ShortHorizon.Comparison]) -> String {
            cs.map { "T = \($0.horizon): \(fmt(excess(s, $0), 2))" }.joined(separator: ", ")
        }
        // Greedy optimal: no searched schedule beats it by more than 1e-6 (relative).
        func greedyOptimal(_ key: String, claim: String) {
            guard let (s, cs) = row(key) else { return }
            let worst = cs.map { excess(s, $0) }.max() ?? 0
            rows.append(Row(claim: claim, ours: "greedy ÷ best searched − 1: " + list(s, cs),
                            verdict: worst <= 1e-6 ? "holds: no searched schedule beats greedy"
                                : "does not hold: a searched schedule beats greedy by \(fmt(worst, 2)) (relative)"))
        }
        greedyOptimal("sgd_spherical_noisy", claim: "Spherical problem (SGD, noisy): the greedy schedule is optimal for every horizon")
        // Without noise and without the stability limit: greedy against the Krylov optimum, which bounds every schedule
        // (and plain SGD reaches it with rates 1/θⱼ, θⱼ the roots of CG's polynomial; tested).
        for key in ["sgd_ill_noise_free", "momentum_ill_noise_free"] {
            guard let (s, cs) = row(key) else { continue }
            let gaps = cs.map { c -> Double in
                let floor = 1e-15 * s.problem.loss(s.problem.initialMoments)
                return max(c.unconstrainedGreedyLoss!, floor) / max(c.krylovOptimum!, floor) - 1
            }
            rows.append(Row(claim: "Without noise greedy is optimal even when ill-conditioned (\(s.momentum ? "momentum" : "plain SGD"); steps not limited to the stable region)",
                            ours: "greedy ÷ Krylov optimum − 1: " + zip(cs, gaps).map { "T = \($0.horizon): \(fmt($1, 2))" }.joined(separator: ", "),
                            verdict: (gaps.max() ?? 0) <= 1e-6 ? "holds: greedy (α, β) is conjugate gradient, the best any schedule can do"
                                : "does not hold: the Krylov optimum is \(fmt(1 + (gaps.max() ?? 0), 3))× lower" +
                                  (s.momentum ? "" : ", and plain SGD reaches it with rates 1/θⱼ (θⱼ the roots of CG's polynomial, up to 1/h_min)")))
        }
        greedyOptimal("sgd_ill_noise_free", claim: "Without noise greedy is optimal even when ill-conditioned (plain SGD, stable region)")
        greedyOptimal("momentum_ill_noise_free", claim: "Without noise greedy is optimal even when ill-conditioned (momentum, stable region)")
        greedyOptimal("momentum_spherical_noisy", claim: "(our check) Spherical problem with momentum and noise: greedy (α, β) is optimal")
        for key in ["sgd_ill_noisy", "momentum_ill_noisy"] {
            guard let (s, cs) = row(key), let last = cs.last else { continue }
            let e = excess(s, last)
            rows.append(Row(claim: "Ill-conditioned and noisy (\(s.momentum ? "momentum" : "SGD")): greedy is not optimal at long horizons",
                            ours: "greedy ÷ best searched − 1: " + list(s, cs),
                            verdict: e > 0.01 ? "holds: greedy ends \(fmt(100 * e, 3)) % above the searched schedule at T = \(last.horizon)"
                                : "does not hold at T = \(last.horizon) (excess \(fmt(e, 2)))"))
            let half = max(1, last.horizon / 2)
            let g = last.greedy.rates.prefix(half).reduce(0, +) / Double(half), f = last.best.rates.prefix(half).reduce(0, +) / Double(half)
            rows.append(Row(claim: "Greedy decays the rate too early; the schedule for the long horizon keeps a larger rate early on (\(s.momentum ? "momentum" : "SGD"))",
                            ours: "mean αₜ over the first half of T = \(last.horizon): greedy \(fmt(g)), searched \(fmt(f))",
                            verdict: f > g ? "holds" : "does not hold"))
        }
        if let strong = constants.last, let quiet = constants.first, constants.count >= 2 {
            let falls = zip(strong, strong.dropFirst()).allSatisfy { $1.rate <= $0.rate * (1 + 1e-9) }
            let differs = zip(strong, quiet).contains { abs($0.rate / $1.rate - 1) > 0.05 }
            let show = { (r: [(rate: Double, loss: Double)]) in zip(constantHorizons, r).map { "\($0): \(fmt($1.rate, 3))" }.joined(separator: ", ") }
            rows.append(Row(claim: "The best constant rate depends on the noise; with strong noise it falls as the horizon grows",
                            ours: "best constant α by T, σ² = \(fmt(noises.first!)): \(show(quiet)); σ² = \(fmt(noises.last!)): \(show(strong))",
                            verdict: falls && differs ? "holds" : "does not hold (strong-noise rate \(falls ? "falls" : "does not fall"), \(differs ? "differs" : "does not differ") from the noise-free one)"))
        }
        if fits.count >= 2 {
            let late = fits.map { $0.best.initialRate * pow(1 + 10_000 / $0.best.timeScale, -$0.best.power) }
            let rising = zip(late, late.dropFirst()).allSatisfy { $1 >= $0 }
            rows.append(Row(claim: "Offline schedule α₀/(1 + k/K)^β: the shorter the horizon it is fitted on, the faster it decays",
                            ours: "α at k = 10⁴ by fitted horizon: " + zip(fits, late).map { "\($0.horizon): \(fmt($1, 3))" }.joined(separator: ", "),
                            verdict: rising ? "holds" : "does not hold"))
            let short = crossLoss[0].last!, long = crossLoss.last!.last!
            rows.append(Row(claim: "A schedule tuned on a short horizon is worse on the long one (the short-horizon bias)",
                            ours: "loss at T = \(fits.last!.horizon): fitted for \(fits[0].horizon) → \(fmt(short)), fitted for \(fits.last!.horizon) → \(fmt(long))",
                            verdict: short > long * 1.01 ? "holds: \(fmt(short / long, 3))× worse" : "does not hold"))
        }
    }

    var markdown: String {
        "| lecture's statement | ours | verdict |\n|---|---|---|\n" + rows.map { "| \($0.claim) | \($0.ours) | \($0.verdict) |" }.joined(separator: "\n") + "\n"
    }
}
