import Foundation
import Tape
import Layers
import Bilevel

/// Pictures and CSV files of the `strongly-convex` demo.
enum StronglyConvexOutput {
    /// Data space: the original points, each concept's fitted curve f(x) = φ(x)·w and the paths of its learned points.
    static func write(ctx: DemoContext, problem: LearnedPointsRegression, runs: [StronglyConvex.ConceptRun], file: String) throws {
        let title = problem.ridge > 0 ? "Strongly convex inner problem (δ = \(fmt(problem.ridge))): one solution, three concepts agree"
                                      : "Overparameterized inner problem (δ = 0): the concepts disagree"
        var plot = Plot(title: title, xLabel: "x", yLabel: "y", xRange: -Double.pi...Double.pi, yRange: -2...2, width: 680, height: 460,
                        legendCorner: .bottomRight)
        plot.points("original points", problem.originalInputs.scalars, problem.originalTargets.scalars, color: "#999999", size: 3)
        let grid = (0...200).map { -Double.pi + 2 * Double.pi * Double($0) / 200 }
        for (i, r) in runs.enumerated() {
            plot.line("\(r.name): f(x), outer loss \(fmt(problem.outerLoss(lambda: r.run.lambda, weights: r.run.weights), 3))",
                      grid, problem.curve(grid, weights: r.run.weights), color: Plot.color(i), width: 2, dashed: i == 2)
            for p in 0..<problem.pointCount {
                let xs = r.lambdas.map { problem.points($0).x[p] }, ys = r.lambdas.map { problem.points($0).y[p] }
                plot.line(nil, xs, ys, color: Plot.color(i), width: 0.8)
                plot.points(nil, [xs.last!], [ys.last!], color: Plot.color(i), size: 7, marker: .star)
            }
        }
        try ctx.out.write(plot.svg(), to: "\(file).svg")
        var columns: [(String, [Double])] = [("step", r0Steps(runs))]
        for r in runs {
            let key = r.name.split(separator: " ").first.map(String.init) ?? r.name
            for p in 0..<problem.pointCount {
                columns.append(("\(key)_x\(p)", r.lambdas.map { problem.points($0).x[p] }))
                columns.append(("\(key)_y\(p)", r.lambdas.map { problem.points($0).y[p] }))
            }
        }
        try ctx.out.writeColumns("\(file)_lambdas.csv", columns)
    }

    /// Outer steps 0 … N of the λ paths.
    private static func r0Steps(_ runs: [StronglyConvex.ConceptRun]) -> [Double] { (0..<(runs.first?.lambdas.count ?? 0)).map(Double.init) }

    /// ‖λ_k^full − λ_k^cold‖ and ‖λ_k^partial − λ_k^full‖ along the run, for both inner problems (log scale; 0 drawn at 1e-16).
    static func distances(ctx: DemoContext, regimes: [(label: String, runs: [StronglyConvex.ConceptRun])]) throws {
        var plot = Plot(title: "Distance between the concepts' outer variables λ_k", xLabel: "outer step k", yLabel: "‖λ_a − λ_b‖",
                        yLog: true)   // legend: a free corner, else beside (the curves run along the bottom to the end)
        var columns: [(String, [Double])] = []
        for (i, regime) in regimes.enumerated() {
            let (cold, full, partial) = (regime.runs[0].lambdas, regime.runs[1].lambdas, regime.runs[2].lambdas)
            let steps = (0..<cold.count).map(Double.init)
            let fc = zip(full, cold).map { ($0 - $1).norm }, pf = zip(partial, full).map { ($0 - $1).norm }
            plot.line("\(regime.label): full warm vs cold", steps, fc.map { max($0, 1e-16) }, color: Plot.color(2 * i))
            plot.line("\(regime.label): partial vs full warm", steps, pf.map { max($0, 1e-16) }, color: Plot.color(2 * i + 1), dashed: true)
            if columns.isEmpty { columns.append(("step", steps)) }
            let key = i == 0 ? "strongly_convex" : "overparameterized"
            columns += [("\(key)_full_vs_cold", fc), ("\(key)_partial_vs_full", pf)]
        }
        try ctx.out.write(plot.svg(), to: "distance.svg")
        try ctx.out.writeColumns("distance.csv", columns)
    }
}
