import Foundation
import Tape
import Layers
import Bilevel

/// Paper Fig. 6: the filters g(μ) that Neumann (K terms, step α), damping (η = 1/(αK)) and truncated CG
/// apply to the eigenvalues μ of the inner Hessian, next to the exact 1/μ.
enum SpectralFilterDemo: Subcommand {
    static let name = "spectral-filter"
    static let summary = "Fig. 6: Neumann, damped and CG filters over the Hessian's eigenvalues, next to 1/μ"
    static let flags: [Flag] = [
        .option("terms", "Neumann terms / CG iterations K (comma-separated)", default: "10,100 (quick: 10)"),
        .option("step", "Neumann step α", default: "1"),
        .option("eigenvalues", "number of log-spaced eigenvalues in [min, 1]", default: "60 (quick: 30)"),
        .option("min-eigenvalue", "smallest eigenvalue", default: "1e-4"),
    ]

    static func run(_ args: Arguments, _ ctx: DemoContext) throws {
        let ks = try args.ints("terms", default: ctx.quick ? [10] : [10, 100], in: 1...100_000)
        let alpha = try args.double("step", default: 1, in: 1e-12...1)
        let count = try args.int("eigenvalues", default: ctx.quick ? 30 : 60, in: 2...2000)
        let lo = try args.double("min-eigenvalue", default: 1e-4, in: 1e-12...0.5)
        let mu = (0..<count).map { pow(10, log10(lo) * (1 - Double($0) / Double(count - 1))) }

        var plot = Plot(title: "Spectral filters of hypergradient approximations (α = \(fmt(alpha)))",
                        xLabel: "eigenvalue μ of the inner Hessian", yLabel: "filter g(μ)", xLog: true, yLog: true)
        plot.line("exact 1/μ", mu, mu.map(SpectralFilter.exact), color: "#000000", width: 2.5)
        var columns: [(String, [Double])] = [("mu", mu), ("exact", mu.map(SpectralFilter.exact))]
        var runs: [JSON] = []
        var rows: [[String]] = []
        for (i, k) in ks.enumerated() {
            let eta = 1 / (alpha * Double(k))
            let neumann = try SpectralFilter.measure(NeumannSeries(terms: k, step: alpha, stabilityCheckIterations: 0), eigenvalues: mu)
            let damped = try SpectralFilter.measure(DampedInverse(damping: eta), eigenvalues: mu)
            let cg = try SpectralFilter.measure(TruncatedConjugateGradient(iterations: k), eigenvalues: mu)
            // K unrolled SGD steps from the inner solution: the same filter as K Neumann terms (PRIMER section 2).
            let unrolled = try SpectralFilter.measure(TruncatedUnrolling(steps: k, optimizer: SGD(learningRate: alpha)), eigenvalues: mu)
            let closed = mu.map { SpectralFilter.neumann($0, terms: k, step: alpha) }
            let maxDev = zip(neumann, closed).map { abs($0 - $1) / $1 }.max() ?? 0
            let unrolledDev = zip(unrolled, neumann).map { abs($0 - $1) / $1 }.max() ?? 0
            plot.line("Neumann K=\(k)", mu, neumann, color: Plot.color(3 * i))
            let every = Array(stride(from: 0, to: mu.count, by: max(1, mu.count / 15)))
            plot.points("unrolled K=\(k) (markers)", every.map { mu[$0] }, every.map { unrolled[$0] }, color: Plot.color(3 * i), size: 3, marker: .square)
            plot.line("damped η=1/(αK)=\(fmt(eta, 3))", mu, damped, color: Plot.color(3 * i + 1), dashed: true)
            plot.line("CG K=\(k)", mu, cg, color: Plot.color(3 * i + 2), width: 1.5)
            columns += [("neumann_K\(k)", neumann), ("damped_eta\(fmt(eta, 3))", damped), ("cg_K\(k)", cg), ("unrolled_K\(k)", unrolled)]
            // Where the filters cut: the smallest μ at which Neumann reaches half of 1/μ.
            let cut = zip(mu, neumann).first { $0.1 >= 0.5 / $0.0 }?.0 ?? .nan
            rows.append(["\(k)", fmt(eta, 3), fmt(neumann.first!), fmt(damped.first!), fmt(cg.first!), fmt(1 / mu.first!), fmt(cut, 3), fmt(maxDev, 2), fmt(unrolledDev, 2)])
            runs.append(.object([("K", .int(k)), ("eta", .number(eta)), ("neumann", .numbers(neumann)), ("damped", .numbers(damped)),
                                 ("cg", .numbers(cg)), ("unrolled", .numbers(unrolled)),
                                 ("neumann_closed_form_max_relative_deviation", .number(maxDev)),
                                 ("unrolled_vs_neumann_max_relative_deviation", .number(unrolledDev))]))
        }
        ctx.say(table(["K", "η=1/(αK)", "Neumann g(μmin)", "damped g(μmin)", "CG g(μmin)", "1/μmin", "Neumann half-cut μ", "|meas−closed|", "|unrolled−Neumann|"], rows))
        try ctx.out.write(plot.svg(), to: "filters.svg")
        try ctx.out.writeColumns("filters.csv", columns)
        try ctx.out.writeJSON(.object([
            ("settings", .object([("step", .number(alpha)), ("terms", .array(ks.map(JSON.int))), ("eigenvalues", .numbers(mu)), ("seed", .int(Int(ctx.seed)))])),
            ("runs", .array(runs)),
        ]))
        ctx.say("wrote \(ctx.out.url.path)/{result.json, filters.csv, filters.svg}")
    }
}
