import Foundation
import Tape
import Layers
import Bilevel

/// Paper Table 3 and Fig. 9 on the shipped 8×8 digits (or MNIST with --mnist DIR): distill the training set
/// into 1 or 10 synthetic images with learned soft labels for a linear classifier, and compare cold start,
/// warm start and warm start + re-training by their accuracy on the real data. Second part: a linear
/// data-augmentation network tuned on a validation set with 50 training examples.
enum DigitsDemo: Subcommand {
    static let name = "digits"
    static let summary = "Table 3, Fig. 9: distilled digits with learned soft labels — cold vs warm vs warm + re-training"
    static let flags: [Flag] = [
        .option("images", "synthetic images: 1 or 10", default: "1"),
        .option("outer-steps", "outer steps (warm start)", default: "3000 (quick: 1500)"),
        .option("cold-outer-steps", "outer steps (cold start)", default: "200 (quick: 60)"),
        .option("inner-lr", "inner SGD step", default: "0.5"),
        .option("outer-lr", "outer Adam step", default: "0.05"),
        .option("unroll", "K, unrolled steps per hypergradient", default: "5"),
        .option("cold-inner-steps", "inner steps from w₀ (cold start, re-training)", default: "200 (quick: 100)"),
        .option("mnist", "folder with MNIST IDX files (train-images-idx3-ubyte, …) to use instead of the shipped digits"),
        .toggle("skip-augmentation", "skip the second part (augmentation network)"),
    ] + CheckpointOptions.flags

    static func run(_ args: Arguments, _ ctx: DemoContext) throws {
        let q = ctx.quick
        let images = try args.int("images", default: 1, in: 1...10)
        guard images == 1 || images == 10 else { throw UsageError("--images must be 1 or 10, got \(images)") }
        let steps = try args.int("outer-steps", default: q ? 1500 : 3000, in: 1...10_000_000)
        let coldSteps = try args.int("cold-outer-steps", default: q ? 60 : 200, in: 1...10_000_000)
        let innerLR = try args.double("inner-lr", default: 0.5, in: 1e-9...100)
        let outerLR = try args.double("outer-lr", default: 0.05, in: 1e-9...100)
        let k = try args.int("unroll", default: 5, in: 1...100_000)
        let coldInner = try args.int("cold-inner-steps", default: q ? 100 : 200, in: 1...10_000_000)
        let checkpoint = try CheckpointOptions(args)
        let (train, validation, test): (Dataset, Dataset, Dataset)
        if let dir = args.string("mnist") {
            do {
                let t = try IDX.loadMNIST(directory: URL(fileURLWithPath: dir), split: .train)
                let te = try IDX.loadMNIST(directory: URL(fileURLWithPath: dir), split: .test)
                var g = SeededGenerator(seed: ctx.seed)
                let p = g.permutation(t.count)
                (train, validation, test) = (t.subset(Array(p[0..<min(10_000, t.count)])), t.subset(Array(p[min(10_000, t.count)..<min(12_000, t.count)])), te)
            } catch let e as DataError { throw UsageError("--mnist: \(e.description)") }
        } else {
            (train, validation, test) = try Digits.load()
        }
        let d = train.featureCount, side = Int(Double(d).squareRoot())
        let model = LinearModel(inputs: d, outputs: 10)
        // Synthetic images start at the mean training image; labels start uniform (logits 0) for 1 image,
        // one class each for 10 images.
        let mean = Tensor((0..<d).map { j in (0..<train.count).reduce(0.0) { $0 + train.inputs[$1, j] } / Double(train.count) })
        let initial = Tensor(shape: [images, d], scalars: Array((0..<images).map { _ in mean.scalars }.joined()))
        let labels = (0..<images).map { $0 % 10 }
        let logits0 = images == 1 ? Tensor.zeros([1, 10]) : Loss.oneHot(labels, classes: 10)
        let problem = DatasetDistillation(model: model, real: train, initialSynthetic: initial, syntheticLabels: labels,
                                          softLabels: true, initialLabelLogits: logits0, weightsSeed: ctx.seed)
        let warmSolver = BilevelSolver(problem: problem, method: TruncatedUnrolling(steps: k, optimizer: SGD(learningRate: innerLR)),
                                       concept: WarmStart(optimizer: SGD(learningRate: innerLR)), outerOptimizer: Adam(learningRate: outerLR),
                                       maxOuterSteps: steps, lambdaStride: max(1, steps / 200), seed: ctx.seed)
        let coldSolver = BilevelSolver(problem: problem, method: TruncatedUnrolling(steps: k, optimizer: SGD(learningRate: innerLR)),
                                       concept: ColdStart(optimizer: SGD(learningRate: innerLR), steps: coldInner), outerOptimizer: Adam(learningRate: outerLR),
                                       maxOuterSteps: coldSteps, lambdaStride: max(1, coldSteps / 100), seed: ctx.seed)
        guard let runs = try WarmColdComparison.run(warm: warmSolver, cold: coldSolver,
                                                    retraining: ColdStart(optimizer: SGD(learningRate: innerLR), steps: coldInner),
                                                    ctx: ctx, checkpoint: checkpoint) else { return }
        let (warm, cold) = (runs.warm, runs.cold)
        let results = runs.solutions
        let rows = results.map { name, l, w in
            (name, problem.accuracy(weights: w, on: train), problem.accuracy(weights: w, on: test), problem.outerLoss(lambda: l, weights: w))
        }
        ctx.say("distilling \(train.count) training images into \(images) synthetic image(s) with learned soft labels (linear classifier)")
        ctx.say(table(["solution", "train accuracy", "test accuracy", "outer loss", "paper (MNIST, 1 image)"], rows.map {
            [$0.0, fmt($0.1, 3), fmt($0.2, 3), fmt($0.3), ["warm": "90.8 %", "cold": "30.7 %", "warm_retrained": "12.9 %"][$0.0]!]
        }))
        var entries: [(String, JSON)] = rows.map { ($0.0, .object([("train_accuracy", .number($0.1)), ("test_accuracy", .number($0.2)),
                                                                    ("outer_loss", .number($0.3))])) }
        entries.append(("synthetic_images", .array((0..<images).map { i in .numbers(Array(problem.syntheticInputs(warm.lambda).scalars[i * d..<(i + 1) * d])) })))
        entries.append(("soft_labels", .numbers(problem.syntheticLabelDistribution(warm.lambda).scalars)))
        try DigitsOutput.pictures(ctx: ctx, problem: problem, warm: warm, cold: cold, side: side)
        if !args.has("skip-augmentation") {
            entries.append(("augmentation", try DigitsAugmentation.run(train: train, validation: validation, test: test, ctx: ctx)))
        }
        try ctx.out.writeJSON(.object([("settings", .object([
            ("images", .int(images)), ("data", .string(args.string("mnist") == nil ? "uci-digits-8x8" : "mnist")),
            ("outer_steps", .int(steps)), ("cold_outer_steps", .int(coldSteps)), ("inner_lr", .number(innerLR)), ("outer_lr", .number(outerLR)),
            ("unroll", .int(k)), ("cold_inner_steps", .int(coldInner)), ("seed", .int(Int(ctx.seed))), ("quick", .bool(ctx.quick)),
        ]))] + entries))
        ctx.say("wrote \(ctx.out.url.path)/{result.json, synthetic_images.svg, soft_labels.svg, *.csv}")
    }
}

enum DigitsOutput {
    static func pictures<M: Model>(ctx: DemoContext, problem: DatasetDistillation<M>, warm: BilevelRun, cold: BilevelRun, side: Int) throws {
        let k = problem.syntheticLabels.count, d = problem.real.featureCount
        var imgs: [[Double]] = [], captions: [String] = []
        for (name, run) in [("warm", warm), ("cold", cold)] {
            let x = problem.syntheticInputs(run.lambda), q = problem.syntheticLabelDistribution(run.lambda)
            for i in 0..<k {
                imgs.append(Array(x.scalars[i * d..<(i + 1) * d]))
                let top = (0..<10).max { q[i, $0] < q[i, $1] }!
                captions.append("\(name): \(top) (\(Int((q[i, top] * 100).rounded())) %)")
            }
        }
        try ctx.out.writeCSV("synthetic_images.csv", header: ["image"] + (0..<d).map { "pixel\($0)" },
                             rows: imgs.enumerated().map { [Double($0.offset)] + $0.element })
        try ctx.out.write(imageGridSVG(title: "Synthetic images (top soft label)", images: imgs, side: side, captions: captions,
                                       columns: min(5, k), cell: 14), to: "synthetic_images.svg")
        // Soft labels of the first synthetic image over the warm-start run: stacked areas.
        let steps = warm.trajectory.lambdas.map { Double($0.step) }
        let dists = warm.trajectory.lambdas.map { problem.syntheticLabelDistribution($0.lambda) }
        var plot = Plot(title: "Soft label of synthetic image 0 during warm start", xLabel: "outer step", yLabel: "probability (stacked)",
                        yRange: 0...1)
        var lower = Array(repeating: 0.0, count: steps.count)
        var columns: [(String, [Double])] = [("step", steps)]
        for c in 0..<10 {
            let p = dists.map { $0[0, c] }
            let upper = zip(lower, p).map(+)
            plot.layers.append(.band(name: "class \(c)", xs: steps, lower: lower, upper: upper, color: Plot.color(c)))
            lower = upper
            columns.append(("p\(c)", p))
        }
        try ctx.out.write(plot.svg(), to: "soft_labels.svg")
        try ctx.out.writeColumns("soft_labels.csv", columns)
        try ctx.out.writeColumns("warm_trajectory.csv", [("step", warm.trajectory.step.map(Double.init)), ("outer_loss", warm.trajectory.outerLoss),
                                                         ("train_accuracy", warm.trajectory.metrics.map { $0["accuracy"] ?? .nan })])
    }
}
