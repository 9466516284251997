import Foundation
import Tape
import Layers
import Bilevel

/// Paper Table 3 and Fig. 9 on the shipped 8×8 digits (or MNIST with --mnist DIR): distill the training set
/// into 1 or 10 synthetic images with learned soft labels for a linear classifier, and compare warm start, cold start
/// and warm start + re-training by their accuracy on the real data. Second part: a data-augmentation network.
///
/// The comparison is built to be fair (docs/demos/digits.md): both runs start from the same λ₀ and the same w₀ (a small
/// random classifier, so J_in's gradient at the start is not zero), take the same number of outer steps with the same
/// outer optimizer, and each hypergradient is the derivative of the inner update its algorithm performs — warm start's
/// K unrolled steps from the current w, cold start's whole training from w₀ to convergence (closed form, no truncation).
enum DigitsDemo: Subcommand {
    static let name = "digits"
    static let summary = "Table 3, Fig. 9: distilled digits with learned soft labels — warm vs cold vs warm + re-training"
    static let flags: [Flag] = [
        .option("images", "synthetic images: 1 or 10", default: "1"),
        .option("outer-steps", "outer steps, the same for warm and cold start", default: "3000 (quick: 1500)"),
        .option("inner-lr", "warm start's inner SGD step (and its unrolled hypergradient's)", default: "0.5"),
        .option("outer-lr", "outer Adam step (warm and cold)", default: "0.05"),
        .option("unroll", "K, inner steps unrolled from the current w for warm start's hypergradient", default: "5"),
        .option("cold-hypergradient", "cold start's hypergradient: converged (the exact derivative of training to convergence) " +
                "or truncated (K unrolled steps from the converged w: the biased shortcut, for comparison)", default: "converged"),
        .option("init-scale", "σ of the classifier's initial weights w₀ ~ N(0, σ²), bias 0 (warm, cold and re-training)",
                default: "\(defaultInitScale)"),
        .option("mnist", "folder with MNIST IDX files (train-images-idx3-ubyte, …) to use instead of the shipped digits"),
        .toggle("skip-augmentation", "skip the second part (augmentation network)"),
    ] + DigitsAugmentation.flags + CheckpointOptions.flags

    /// σ of w₀ **(ours)**: small, so that warm start is not trapped early (docs/demos/digits.md), but not 0, so that the
    /// start is not a stationary point of J_in.
    static let defaultInitScale = 0.01

    /// The paper's Table 3 (MNIST, linear classifier): test accuracy in % of warm, cold and warm + re-train.
    static func paperAccuracy(images: Int) -> [String: Double] {
        images == 1 ? ["warm": 90.8, "cold": 30.7, "warm_retrained": 12.9] : ["warm": 97.5, "cold": 89.1, "warm_retrained": 17.1]
    }

    /// The distillation problem both runs share. λ₀: one image at the mean training image with a uniform soft label
    /// (logits 0), or ten images, one training example of each class drawn with `seed`, with logits one-hot(class)
    /// **(ours)**. w₀ ~ N(0, initScale²) for W, b = 0, from `seed`: with initScale > 0 the soft label is not the
    /// classifier's prediction at the start, so J_in's gradient is not zero there.
    static func problem(train: Dataset, images: Int, initScale: Double, seed: UInt64) -> DatasetDistillation<LinearModel> {
        let d = train.featureCount, classes = train.classCount
        let model = LinearModel(inputs: d, outputs: classes, initialization: .normal(standardDeviation: initScale))
        let initial: Tensor, logits: Tensor, labels: [Int]
        if images == 1 {
            let mean = (0..<d).map { j in (0..<train.count).reduce(0.0) { $0 + train.inputs[$1, j] } / Double(train.count) }
            (initial, logits, labels) = (Tensor(shape: [1, d], scalars: mean), .zeros([1, classes]), [0])
        } else {
            var g = SeededGenerator(seed: seed &+ 11)
            labels = (0..<images).map { $0 % classes }
            let byClass = Dictionary(grouping: 0..<train.count) { train.labels[$0] }
            let picks = labels.map { c -> Int in
                let members = byClass[c] ?? []
                precondition(!members.isEmpty, "the training set has no example of class \(c)")
                return members[g.nextInt(below: members.count)]
            }
            initial = train.subset(picks).inputs
            logits = Loss.oneHot(labels, classes: classes)
        }
        return DatasetDistillation(model: model, real: train, initialSynthetic: initial, syntheticLabels: labels,
                                   softLabels: true, initialLabelLogits: logits, weightsSeed: seed)
    }

    /// Train / validation / test sets: the shipped 8×8 split, or MNIST from `dir` (10,000 training and 2,000 validation
    /// images drawn with `seed` from the IDX training file, the IDX test file as test set).
    static func data(mnist dir: String?, seed: UInt64) throws -> (train: Dataset, validation: Dataset, test: Dataset) {
        guard let dir else { return try Digits.load() }
        do {
            let t = try IDX.loadMNIST(directory: URL(fileURLWithPath: dir), split: .train)
            let test = try IDX.loadMNIST(directory: URL(fileURLWithPath: dir), split: .test)
            guard t.count >= 1_000 else { throw UsageError("--mnist: \(dir) has \(t.count) training images; the demo needs at least 1,000") }
            var g = SeededGenerator(seed: seed)
            let p = g.permutation(t.count), n = min(10_000, t.count - t.count / 6)
            return (t.subset(Array(p[0..<n])), t.subset(Array(p[n..<min(n + 2_000, t.count)])), test)
        } catch let e as DataError { throw UsageError("--mnist: \(e.description)") }
    }

    static func run(_ args: Arguments, _ ctx: DemoContext) throws {
        let images = try args.int("images", default: 1, in: 1...10)
        guard images == 1 || images == 10 else { throw UsageError("--images must be 1 or 10, got \(images)") }
        let steps = try args.int("outer-steps", default: ctx.quick ? 1500 : 3000, in: 1...10_000_000)
        let innerLR = try args.double("inner-lr", default: 0.5, in: 1e-9...100)
        let outerLR = try args.double("outer-lr", default: 0.05, in: 1e-9...100)
        let k = try args.int("unroll", default: 5, in: 1...100_000)
        let initScale = try args.double("init-scale", default: defaultInitScale, in: 0...10)
        let coldChoice = try args.choice("cold-hypergradient", default: "converged", from: ["converged", "truncated"])
        let augmentation = try DigitsAugmentation.Settings(args, quick: ctx.quick)
        let checkpoint = try CheckpointOptions(args)
        let (train, validation, test) = try data(mnist: args.string("mnist"), seed: ctx.seed)
        let problem = problem(train: train, images: images, initScale: initScale, seed: ctx.seed)

        let warmMethod = TruncatedUnrolling(steps: k, optimizer: SGD(learningRate: innerLR))
        let warmSolver = BilevelSolver(problem: problem, method: warmMethod, concept: WarmStart(optimizer: SGD(learningRate: innerLR)),
                                       outerOptimizer: Adam(learningRate: outerLR), maxOuterSteps: steps,
                                       lambdaStride: max(1, steps / 200), seed: ctx.seed)
        func compare<M: HypergradientMethod>(cold method: M) throws -> WarmColdComparison? {
            let coldSolver = BilevelSolver(problem: problem, method: method, concept: ConvergedTraining(),
                                           outerOptimizer: Adam(learningRate: outerLR), maxOuterSteps: steps,
                                           lambdaStride: max(1, steps / 200), seed: ctx.seed)
            return try WarmColdComparison.run(warm: warmSolver, cold: coldSolver, retraining: ConvergedTraining(), ctx: ctx, checkpoint: checkpoint)
        }
        let coldMethod = coldChoice == "converged" ? ConvergedTrainingHypergradient().name : "\(warmMethod.name) from the converged w"
        guard let runs = try coldChoice == "converged" ? compare(cold: ConvergedTrainingHypergradient()) : compare(cold: warmMethod) else { return }
        let paper = paperAccuracy(images: images)
        let how = [
            "warm": ("1 SGD step per outer step from the previous w", "\(warmMethod.name) from the current w"),
            "cold": ("trained to convergence from w₀ (closed form)", coldMethod),
            "warm_retrained": ("trained to convergence from w₀ on the final warm λ", "—"),
        ]
        let rows = runs.solutions.map { name, l, w in
            (name: name, train: problem.accuracy(weights: w, on: train), test: problem.accuracy(weights: w, on: test),
             loss: problem.outerLoss(lambda: l, weights: w))
        }
        ctx.say("distilling \(train.count) training images into \(images) synthetic image(s) with learned soft labels " +
                "(linear classifier, w₀ ~ N(0, \(fmt(initScale))²), \(steps) outer steps each)")
        ctx.say(table(["solution", "inner weights", "hypergradient", "train acc.", "test acc.", "outer loss", "paper (MNIST, \(images) image\(images == 1 ? "" : "s"))"],
                      rows.map { [$0.name, how[$0.name]!.0, how[$0.name]!.1, fmt($0.train, 3), fmt($0.test, 3), fmt($0.loss),
                                  String(format: "%.1f %%", paper[$0.name]!)] }))
        var entries: [(String, JSON)] = rows.map { r in
            (r.name, .object([("train_accuracy", .number(r.train)), ("test_accuracy", .number(r.test)), ("outer_loss", .number(r.loss)),
                              ("inner_weights", .string(how[r.name]!.0)), ("hypergradient", .string(how[r.name]!.1))]))
        }
        entries.append(("paper", .object([("source", .string("Vicol et al. 2022, Table 3, MNIST, \(images) synthetic image(s)"))] +
                                         paper.sorted { $0.key < $1.key }.map { ($0.key + "_test_accuracy", .number($0.value / 100)) })))
        entries += try DigitsFigures.write(ctx: ctx, problem: problem, runs: runs, side: Int(Double(train.featureCount).squareRoot()))
        if !args.has("skip-augmentation") {
            entries.append(("augmentation", try DigitsAugmentation.run(augmentation, train: train, validation: validation, test: test,
                                                                       initScale: initScale, ctx: ctx)))
        }
        try ctx.out.writeJSON(.object([("settings", .object([
            ("images", .int(images)), ("data", .string(args.string("mnist") == nil ? "uci-digits-8x8" : "mnist")),
            ("features", .int(train.featureCount)), ("training_images", .int(train.count)), ("test_images", .int(test.count)),
            ("outer_steps", .int(steps)), ("inner_lr", .number(innerLR)), ("outer_lr", .number(outerLR)), ("unroll", .int(k)),
            ("init_scale", .number(initScale)), ("cold_hypergradient", .string(coldChoice)), ("seed", .int(Int(ctx.seed))), ("quick", .bool(ctx.quick)),
        ]))] + entries))
        ctx.say("wrote \(ctx.out.url.path)/{result.json, accuracy.svg, soft_label_final.svg, synthetic_images.svg, soft_labels.svg, *.csv}")
    }
}
