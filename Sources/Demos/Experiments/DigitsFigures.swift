import Foundation
import Tape
import Layers
import Bilevel

/// The digits demo's pictures and curves: Fig. 9a (accuracy over outer steps of warm start, cold start, and a classifier
/// re-trained from w₀ on the warm λ of that step), Fig. 9b (the final soft label of cold start beside warm start's), the
/// synthetic images, and the warm soft label over the run.
enum DigitsFigures {
    /// Writes the SVGs and CSVs; returns the result.json entries for the images, labels and curves.
    static func write(ctx: DemoContext, problem: DatasetDistillation<LinearModel>, runs: WarmColdComparison,
                      side: Int) throws -> [(String, JSON)] {
        let (warm, cold) = (runs.warm, runs.cold)
        let k = problem.syntheticLabels.count, d = problem.real.featureCount, classes = problem.real.classCount
        // Fig. 9a. Re-training along the warm run: the converged classifier from w₀ at each recorded warm λ.
        let w0 = warm.state.initialWeights
        let retrainSteps = warm.trajectory.lambdas.map { Double($0.step) }
        let retrainAccuracy = try warm.trajectory.lambdas.map { step, lambda -> Double in
            guard let w = problem.solveInner(lambda: lambda, from: w0) else {
                throw DemoError("digits: no converged re-training at warm step \(step) (synthetic images linearly dependent)")
            }
            return problem.accuracy(weights: w, on: problem.real)
        }
        func accuracy(_ run: BilevelRun) -> [Double] { run.trajectory.metrics.map { $0["accuracy"] ?? .nan } }
        // With ten images warm and cold start sit near 1 from the start and no corner is free: the legend goes beside.
        var plot = Plot(title: "Fig. 9a: accuracy on the \(problem.real.count) real training images", xLabel: "outer step",
                        yLabel: "accuracy", yRange: 0...1, legend: k == 1 ? .auto : .right)
        plot.line("warm start", warm.trajectory.step.map(Double.init), accuracy(warm), color: Plot.color(0))
        plot.line("cold start", cold.trajectory.step.map(Double.init), accuracy(cold), color: Plot.color(1))
        plot.line("warm λ, re-trained from w₀", retrainSteps, retrainAccuracy, color: Plot.color(2), dashed: true)
        plot.legendCorner = .topLeft
        try ctx.out.write(plot.svg(), to: "accuracy.svg")
        try ctx.out.writeColumns("accuracy_warm_cold.csv", [("step", warm.trajectory.step.map(Double.init)), ("warm", accuracy(warm)),
                                                            ("cold", accuracy(cold))])
        try ctx.out.writeColumns("accuracy_retrained.csv", [("step", retrainSteps), ("retrained", retrainAccuracy)])

        // Fig. 9b: the final soft labels of synthetic image 0, warm and cold side by side.
        let warmLabels = problem.syntheticLabelDistribution(warm.lambda), coldLabels = problem.syntheticLabelDistribution(cold.lambda)
        var bars = Plot(title: "Fig. 9b: final soft label of synthetic image 0", xLabel: "class", yLabel: "probability",
                        xRange: -0.6...Double(classes) - 0.4, yRange: 0...1)
        bars.xTickSpacing = 40   // a labelled tick under every class
        for (s, (name, q)) in [("warm start", warmLabels), ("cold start", coldLabels)].enumerated() {
            for c in 0..<classes {
                let x = Double(c) + (s == 0 ? -0.36 : 0.02)
                bars.layers.append(.band(name: c == 0 ? name : nil, xs: [x, x + 0.34], lower: [0, 0], upper: [q[0, c], q[0, c]],
                                         color: Plot.color(s)))
            }
        }
        try ctx.out.write(bars.svg(), to: "soft_label_final.svg")

        // The synthetic images of both runs, captioned with their top soft-label class.
        var pictures: [[Double]] = [], captions: [String] = []
        for (name, run, q) in [("warm", warm, warmLabels), ("cold", cold, coldLabels)] {
            let x = problem.syntheticInputs(run.lambda)
            for i in 0..<k {
                pictures.append(Array(x.scalars[i * d..<(i + 1) * d]))
                let top = (0..<classes).max { q[i, $0] < q[i, $1] }!
                captions.append("\(name): \(top) (\(Int((q[i, top] * 100).rounded())) %)")
            }
        }
        try ctx.out.writeCSV("synthetic_images.csv", header: ["image"] + (0..<d).map { "pixel\($0)" },
                             rows: pictures.enumerated().map { [Double($0.offset)] + $0.element })
        try ctx.out.write(imageGridSVG(title: k == 1 ? "Synthetic image: warm, cold" : "Synthetic images: warm (rows 1–2), cold (rows 3–4)", images: pictures, side: side,
                                       captions: captions, columns: k == 1 ? 2 : min(5, k), cell: side > 8 ? 4 : 14), to: "synthetic_images.svg")

        // The soft label of image 0 over the warm run: stacked areas.
        let steps = warm.trajectory.lambdas.map { Double($0.step) }
        let dists = warm.trajectory.lambdas.map { problem.syntheticLabelDistribution($0.lambda) }
        var stacked = Plot(title: "Soft label of synthetic image 0 during warm start", xLabel: "outer step",
                           yLabel: "probability (stacked)", yRange: 0...1)
        var lower = Array(repeating: 0.0, count: steps.count)
        var columns: [(String, [Double])] = [("step", steps)]
        for c in 0..<classes {
            let p = dists.map { $0[0, c] }
            let upper = zip(lower, p).map(+)
            stacked.layers.append(.band(name: "class \(c)", xs: steps, lower: lower, upper: upper, color: Plot.color(c)))
            lower = upper
            columns.append(("p\(c)", p))
        }
        try ctx.out.write(stacked.svg(), to: "soft_labels.svg")
        try ctx.out.writeColumns("soft_labels.csv", columns)

        func rows(_ t: Tensor) -> JSON { .array((0..<t.shape.rows).map { i in .numbers(Array(t.scalars[i * t.shape.cols..<(i + 1) * t.shape.cols])) }) }
        return [("synthetic_images", rows(problem.syntheticInputs(warm.lambda))), ("soft_labels", rows(warmLabels)),
                ("cold_soft_labels", rows(coldLabels)),
                // Fig. 9a's curves as series for `collect` (a "step" array is the x axis of the series beside it).
                ("accuracy_curves", .object([("step", .numbers(warm.trajectory.step.map(Double.init))), ("warm", .numbers(accuracy(warm))),
                                             ("cold", .numbers(accuracy(cold)))])),
                ("retrained_curve", .object([("step", .numbers(retrainSteps)), ("accuracy", .numbers(retrainAccuracy))]))]
    }
}
