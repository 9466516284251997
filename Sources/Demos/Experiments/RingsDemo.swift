import Foundation
import Tape
import Layers
import Bilevel

/// Paper Fig. 7, 12, 13: distill concentric rings into one learned point per class. Partial warm start
/// (T inner SGD steps, one outer Adam step with a K-step unrolled hypergradient) reaches a high accuracy
/// on the real data because the network remembers the whole trajectory of the synthetic points; cold start
/// (train from w₀ every outer step, differentiated through that whole inner run) and re-training from scratch
/// on the final points do not. Both runs start from the same λ₀ and w₀ and take the same number of outer steps
/// (except in --quick mode, or when --cold-outer-steps says otherwise).
enum RingsDemo: Subcommand {
    static let name = "rings"
    static let summary = "Fig. 7, 12, 13: dataset distillation of rings — warm vs cold start vs warm + re-training"
    static let flags: [Flag] = [
        .option("classes", "2 or 3 rings", default: "2"),
        .toggle("soft-labels", "learn label logits too; with 3 classes, use two learned points"),
        .option("points-per-class", "real points per ring", default: "100 (quick: 60)"),
        .option("width", "hidden units per layer (the paper: 200)", default: "64"),
        .option("depth", "hidden layers (the paper: 4)", default: "2"),
        .option("inner-lr", "inner SGD step of warm start", default: "0.003"),
        .option("inner-steps", "T, inner SGD steps per outer step of warm start", default: "1"),
        .option("outer-lr", "outer Adam step", default: "0.1"),
        .option("unroll", "K, the unrolled steps of each warm-start hypergradient (cold start unrolls its whole inner run)", default: "5"),
        .option("outer-steps", "outer steps of the warm-start run", default: "3000 (quick: 2000)"),
        .option("cold-outer-steps", "outer steps of the cold-start run", default: "--outer-steps (quick: 200)"),
        .option("cold-inner-steps", "inner SGD steps from w₀ per cold outer step, and for re-training", default: "100"),
        .option("cold-inner-lr", "inner SGD step of cold start and re-training (use 0.02 for 4 × 200)", default: "0.1"),
        .option("init-gain", "initial weights N(0, g²/fan_in): 1 is LeCun (the default of JAX's Flax and Haiku), √2 is He", default: "1"),
        .option("point-init", "where the learned points start: origin (N(0, s²) around 0) or real (a real point of their class, plus N(0, s²))", default: "origin"),
        .option("point-std", "s, the spread of the learned points' start", default: "0.3"),
        .option("label-scale", "soft labels start at logits s·one-hot (s = 1: probability 0.58 for 3 classes)", default: "1"),
    ] + CheckpointOptions.flags

    static func run(_ args: Arguments, _ ctx: DemoContext) throws {
        let q = ctx.quick
        let classes = try args.int("classes", default: 2, in: 2...3)
        let soft = args.has("soft-labels")
        let perClass = try args.int("points-per-class", default: q ? 60 : 100, in: 2...100_000)
        let width = try args.int("width", default: 64, in: 1...4096)
        let depth = try args.int("depth", default: 2, in: 1...16)
        let innerLR = try args.double("inner-lr", default: 0.003, in: 1e-9...10)
        let innerSteps = try args.int("inner-steps", default: 1, in: 1...100_000)
        let outerLR = try args.double("outer-lr", default: 0.1, in: 1e-9...10)
        let k = try args.int("unroll", default: 5, in: 1...100_000)
        let steps = try args.int("outer-steps", default: q ? 2000 : 3000, in: 1...10_000_000)
        // Quick mode only (a smoke test under 30 s) gives cold start fewer outer steps than warm start.
        let coldSteps = try args.int("cold-outer-steps", default: q ? 200 : steps, in: 1...10_000_000)
        let coldInner = try args.int("cold-inner-steps", default: 100, in: 1...10_000_000)
        let coldLR = try args.double("cold-inner-lr", default: 0.1, in: 1e-9...10)
        let gain = try args.double("init-gain", default: 1, in: 1e-6...100)
        let pointInit = try args.choice("point-init", default: "origin", from: ["origin", "real"])
        let pointStd = try args.double("point-std", default: 0.3, in: 0...10)
        let labelScale = try args.double("label-scale", default: 1, in: 0...100)
        let checkpoint = try CheckpointOptions(args)

        let real = SyntheticData.rings(classes: classes, pointsPerClass: perClass, noise: 0.1, seed: ctx.seed)
        let learned = soft && classes == 3 ? 2 : classes
        var g = SeededGenerator(seed: ctx.seed &+ 1)
        let labels = (0..<learned).map { $0 % classes }
        var initial = Tensor.randomNormal([learned, 2], standardDeviation: pointStd, using: &g)
        if pointInit == "real" {
            let first = real.firstExamplePerClass()
            for (p, c) in labels.enumerated() { for j in 0..<2 { initial[p, j] += real.inputs[first[c], j] } }
        }
        let model = GainInitialized(base: MLP(widths: [2] + Array(repeating: width, count: depth) + [classes], activation: .relu), gain: gain)
        let problem = DatasetDistillation(model: model, real: real, initialSynthetic: initial, syntheticLabels: labels, softLabels: soft,
                                          initialLabelLogits: labelScale * Loss.oneHot(labels, classes: classes), weightsSeed: ctx.seed &+ 2)
        let method = TruncatedUnrolling(steps: k, optimizer: SGD(learningRate: innerLR))
        let warmSolver = BilevelSolver(problem: problem, method: method, concept: WarmStart(optimizer: SGD(learningRate: innerLR), stepsPerOuterStep: innerSteps),
                                       outerOptimizer: Adam(learningRate: outerLR), maxOuterSteps: steps, lambdaStride: max(1, steps / 400), seed: ctx.seed)
        // Cold start's hypergradient is the exact gradient of its own objective λ ↦ J_out(w_T(λ)): full unrolling of the
        // T inner steps from w₀ (every √T-th state kept), so the comparison is warm vs cold, not truncation.
        let coldSolver = BilevelSolver(problem: problem, method: FullUnrolling(steps: coldInner, optimizer: SGD(learningRate: coldLR),
                                                                               checkpointInterval: max(1, Int(Double(coldInner).squareRoot()))),
                                       concept: ColdStart(optimizer: SGD(learningRate: coldLR), steps: coldInner),
                                       outerOptimizer: Adam(learningRate: outerLR), maxOuterSteps: coldSteps,
                                       lambdaStride: max(1, coldSteps / 100), seed: ctx.seed)
        guard let runs = try WarmColdComparison.run(warm: warmSolver, cold: coldSolver,
                                                    retraining: ColdStart(optimizer: SGD(learningRate: coldLR), steps: coldInner),
                                                    ctx: ctx, checkpoint: checkpoint) else { return }
        let (warm, cold) = (runs.warm, runs.cold)
        let rows = runs.solutions
        let results = rows.map { name, l, w in (name, problem.outerLoss(lambda: l, weights: w), problem.accuracy(weights: w, on: real)) }
        ctx.say(table(["solution", "outer loss (real data)", "accuracy (real data)"], results.map { [$0.0, fmt($0.1), fmt($0.2, 3)] }))
        try RingsOutput.write(ctx: ctx, problem: problem, warm: warm, cold: cold, retrainedWeights: runs.retrainedWeights, results: results,
                              settings: [("classes", .int(classes)), ("soft_labels", .bool(soft)), ("learned_points", .int(learned)),
                                         ("points_per_class", .int(perClass)), ("width", .int(width)), ("depth", .int(depth)),
                                         ("inner_lr", .number(innerLR)), ("inner_steps", .int(innerSteps)), ("outer_lr", .number(outerLR)), ("unroll", .int(k)),
                                         ("init_gain", .number(gain)), ("point_init", .string(pointInit)), ("point_std", .number(pointStd)),
                                         ("label_scale", .number(labelScale)),
                                         ("outer_steps", .int(steps)), ("cold_outer_steps", .int(coldSteps)),
                                         ("cold_inner_steps", .int(coldInner)), ("cold_inner_lr", .number(coldLR)),
                                         ("seed", .int(Int(ctx.seed))), ("quick", .bool(ctx.quick))])
    }
}

/// Pictures and files of the rings demo (also used by solution-concepts).
enum RingsOutput {
    /// Decision regions of a classifier on [lo, hi]², the real data, and optionally a trajectory of the learned points.
    static func boundaryPlot<M: Model>(_ title: String, problem: DatasetDistillation<M>, weights: Tensor, lambdas: [Tensor],
                                       range: ClosedRange<Double>, resolution n: Int = 70) -> Plot {
        var grid: [Double] = []
        for j in 0..<n { for i in 0..<n {
            grid += [range.lowerBound + (Double(i) + 0.5) * (range.upperBound - range.lowerBound) / Double(n),
                     range.lowerBound + (Double(j) + 0.5) * (range.upperBound - range.lowerBound) / Double(n)]
        } }
        let logits = problem.model.predict(Tensor(shape: [n * n, 2], scalars: grid), parameters: weights)
        let colors = (0..<(n * n)).map { lightColor(Loss.predictedClass(logits, row: $0), strength: 0.35) }
        var plot = Plot(title: title, xLabel: "x₁", yLabel: "x₂", xRange: range, yRange: range, width: 520, height: 500)
        plot.layers.append(.cells(x0: range.lowerBound, x1: range.upperBound, y0: range.lowerBound, y1: range.upperBound, nx: n, ny: n, colors: colors))
        let real = problem.real
        for c in 0..<real.classCount {
            let idx = real.labels.indices.filter { real.labels[$0] == c }
            plot.points(nil, idx.map { real.inputs[$0, 0] }, idx.map { real.inputs[$0, 1] }, color: Plot.color(c), size: 2.2)
        }
        guard let last = lambdas.last else { return plot }
        let k = problem.syntheticInputs(last).shape.rows
        let dist = problem.syntheticLabelDistribution(last)
        for p in 0..<k {
            let xs = lambdas.map { problem.syntheticInputs($0)[p, 0] }, ys = lambdas.map { problem.syntheticInputs($0)[p, 1] }
            let cls = argmax(dist, row: p)
            plot.line(nil, xs, ys, color: "#222222", width: 1.2)
            plot.points(nil, [xs.last!], [ys.last!], color: Plot.color(cls), size: 6, marker: .star)
        }
        return plot
    }

    /// The outer loss on the real data along both runs.
    static func lossCurves(warm: BilevelRun, cold: BilevelRun) -> Plot {
        var curve = Plot(title: "Outer loss on the real data during the run", xLabel: "outer step", yLabel: "cross-entropy (real data)")
        curve.line("warm (partial)", warm.trajectory.step.map(Double.init), warm.trajectory.outerLoss, color: Plot.color(0))
        curve.line("cold", cold.trajectory.step.map(Double.init), cold.trajectory.outerLoss, color: Plot.color(1))
        return curve
    }

    /// The class with the largest entry in row r.
    static func argmax(_ t: Tensor, row r: Int) -> Int { (0..<t.shape.cols).max { t[r, $0] < t[r, $1] } ?? 0 }

    /// Fig. 13's label-switch trace: each learned point's soft-label probabilities over the recorded outer steps
    /// (soft_labels.svg, soft_labels_warm.csv). Returns, per point, how often its most likely class changed.
    static func softLabelTrace<M: Model>(ctx: DemoContext, problem: DatasetDistillation<M>, run: BilevelRun) throws -> [Int] {
        let steps = run.trajectory.lambdas.map { Double($0.step) }
        let dists = run.trajectory.lambdas.map { problem.syntheticLabelDistribution($0.lambda) }
        guard let first = dists.first else { return [] }
        let (points, classes) = (first.shape.rows, first.shape.cols)
        var plot = Plot(title: "Soft labels of the learned points during warm start", xLabel: "outer step", yLabel: "probability",
                        yRange: 0...1, legend: .right)   // beside: the curves fill every corner of 0…1
        var columns: [(String, [Double])] = [("step", steps)]
        for p in 0..<points {
            for c in 0..<classes {
                let series = dists.map { $0[p, c] }
                plot.line("point \(p + 1): class \(c)", steps, series, color: Plot.color(c), width: p == 0 ? 2.2 : 1.6, dashed: p > 0)
                columns.append(("point\(p)_class\(c)", series))
            }
        }
        try ctx.out.write(plot.svg(), to: "soft_labels.svg")
        try ctx.out.writeColumns("soft_labels_warm.csv", columns)
        return (0..<points).map { p in
            let winners = dists.map { argmax($0, row: p) }
            return zip(winners, winners.dropFirst()).filter { $0 != $1 }.count
        }
    }

    static func write<M: Model>(ctx: DemoContext, problem: DatasetDistillation<M>, warm: BilevelRun, cold: BilevelRun, retrainedWeights: Tensor,
                                results: [(String, Double, Double)], settings: [(String, JSON)]) throws {
        let r = 3.6
        let warmTraj = warm.trajectory.lambdas.map(\.lambda), coldTraj = cold.trajectory.lambdas.map(\.lambda)
        try ctx.out.write(boundaryPlot("Warm start (accuracy \(fmt(results[0].2, 3)))", problem: problem, weights: warm.weights, lambdas: warmTraj, range: -r...r).svg(), to: "warm.svg")
        try ctx.out.write(boundaryPlot("Cold start (accuracy \(fmt(results[1].2, 3)))", problem: problem, weights: cold.weights, lambdas: coldTraj, range: -r...r).svg(), to: "cold.svg")
        try ctx.out.write(boundaryPlot("Warm start + re-training (accuracy \(fmt(results[2].2, 3)))", problem: problem, weights: retrainedWeights,
                                       lambdas: [warm.lambda], range: -r...r).svg(), to: "warm_retrained.svg")
        try ctx.out.write(lossCurves(warm: warm, cold: cold).svg(), to: "outer_loss.svg")
        try ctx.out.writeColumns("warm_trajectory.csv", [("step", warm.trajectory.step.map(Double.init)), ("outer_loss", warm.trajectory.outerLoss),
                                                         ("accuracy", warm.trajectory.metrics.map { $0["accuracy"] ?? .nan }),
                                                         ("lambda_norm", warm.trajectory.lambdaNorm), ("w_distance", warm.trajectory.weightsDistance)])
        try ctx.out.writeColumns("cold_trajectory.csv", [("step", cold.trajectory.step.map(Double.init)), ("outer_loss", cold.trajectory.outerLoss),
                                                         ("accuracy", cold.trajectory.metrics.map { $0["accuracy"] ?? .nan })])
        try ctx.out.writeCSV("learned_points_warm.csv", header: ["step"] + (0..<warm.lambda.count).map { "lambda\($0)" },
                             rows: warm.trajectory.lambdas.map { [Double($0.step)] + $0.lambda.scalars })
        var entries: [(String, JSON)] = [("settings", .object(settings))]
        // Warm and cold start also report the best accuracy and lowest outer loss their runs passed through: the final
        // numbers alone would hide a run that was good midway and then drifted (cold start at a large outer step does).
        let runs = ["warm": warm, "cold": cold]
        for (name, loss, acc) in results {
            var fields: [(String, JSON)] = [("outer_loss", .number(loss)), ("accuracy", .number(acc))]
            if let run = runs[name] {
                let accuracies = run.trajectory.metrics.compactMap { $0["accuracy"] }
                fields += [("max_accuracy_along_run", .number(accuracies.max() ?? .nan)),
                           ("min_outer_loss_along_run", .number(run.trajectory.outerLoss.min() ?? .nan))]
            }
            entries.append((name, .object(fields)))
        }
        entries.append(("learned_points", .object([("warm", .numbers(problem.syntheticInputs(warm.lambda).scalars)),
                                                   ("cold", .numbers(problem.syntheticInputs(cold.lambda).scalars))])))
        if problem.softLabels {
            entries.append(("soft_labels_warm", .numbers(problem.syntheticLabelDistribution(warm.lambda).scalars)))
            let switches = try softLabelTrace(ctx: ctx, problem: problem, run: warm)
            entries.append(("label_switches_warm", .array(switches.map { .int($0) })))
            ctx.say("soft labels at the end (warm): \(problem.syntheticLabelDistribution(warm.lambda).scalars.map { fmt($0, 2) }); " +
                    "changes of each point's most likely class: \(switches)")
        }
        try ctx.out.writeJSON(.object(entries))
        ctx.say("wrote \(ctx.out.url.path)/{result.json, warm.svg, cold.svg, warm_retrained.svg, outer_loss.svg\(problem.softLabels ? ", soft_labels.svg" : ""), *.csv}")
    }
}
