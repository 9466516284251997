import Foundation
import Testing
import Tape
import Layers
import Bilevel
@testable import Demos

/// The digits demo (paper Table 3, Fig. 9): a fair cold start, the paper's column, the augmentation network's inputs,
/// and the MNIST path on generated IDX files.
@Suite("digits demo")
struct DigitsDemoTests {
    /// Cold start must not begin at a stationary point of J_in (w₀ = 0 with a uniform soft label would: the classifier's
    /// prediction is the label, so the gradient is zero and cold start's first training does nothing), and its
    /// hypergradient at λ₀ must not vanish either.
    @Test(arguments: [1, 10])
    func coldStartDoesNotBeginAtAStationaryPoint(images: Int) throws {
        let train = try Digits.load().train
        let p = DigitsDemo.problem(train: train, images: images, initScale: DigitsDemo.defaultInitScale, seed: 0)
        var g = SeededGenerator(seed: 0)
        let w0 = p.initialWeights(using: &g)
        let inner = gradient(of: { v in p.innerObjective(lambda: v[0], weights: v[1], step: 0) }, at: [p.initialLambda, w0], wrt: [1])[0]
        #expect(inner.norm > 1e-3, "‖∂J_in/∂w‖ at (λ₀, w₀) = \(inner.norm)")
        let hg = try ConvergedTrainingHypergradient().hypergradient(of: p, lambda: p.initialLambda, weights: w0,
                                                                    context: HypergradientContext(initialWeights: w0))
        #expect(hg.gradient.norm > 1e-3, "cold start's hypergradient at λ₀ = \(hg.gradient.norm)")
        let converged = try #require(p.solveInner(lambda: p.initialLambda, from: w0))
        #expect((converged - w0).norm > 1e-3, "cold start's first training must move w₀")
    }

    func accuracy(_ r: [String: Any], _ key: String, _ field: String = "test_accuracy") -> Double {
        number((r[key] as? [String: Any])?[field]) ?? .nan
    }

    /// One image, --quick (1,500 outer steps). Seeds 0–4 of this setting gave warm 0.47–0.78 on the training images at
    /// step 1,500 (0.60–0.77 test accuracy at 3,000) against cold start's 0.17–0.22, and re-training 0.08–0.20 — so warm
    /// above both is asserted, cold above re-training is not (seed 0 at 3,000 steps: 0.210 vs 0.202).
    @Test func oneImageWarmStartFarAboveColdStartAndReTraining() throws {
        let (status, out) = runDemo(["digits", "--quick"])
        #expect(status == 0)
        let r = try readResult(out)
        let (warm, cold, retrained) = (accuracy(r, "warm"), accuracy(r, "cold"), accuracy(r, "warm_retrained"))
        #expect(warm > cold + 0.2 && warm > retrained + 0.2, "warm \(warm), cold \(cold), re-trained \(retrained)")
        #expect(cold > 0.15, "cold start must leave chance behind: \(cold)")
        let aug = try #require(r["augmentation"] as? [String: Any])
        let (augWarm, augBase, augRetrained) = (accuracy(aug, "warm", "validation_accuracy"), accuracy(aug, "baseline", "validation_accuracy"),
                                                accuracy(aug, "warm_retrained", "validation_accuracy"))
        #expect(augWarm > augBase && augWarm > augRetrained, "augmentation: warm \(augWarm), none \(augBase), re-trained \(augRetrained)")
        for f in ["accuracy.svg", "soft_label_final.svg", "synthetic_images.svg", "soft_labels.svg", "accuracy_retrained.csv"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), "missing \(f)")
        }
    }

    /// Ten images, 300 outer steps. Seeds 0–4: warm 0.946–0.960, cold 0.85–0.96, re-trained 0.10–0.19 test accuracy; only
    /// the collapse of re-training is robust (cold beat warm in 2 of 5 seeds here).
    @Test func tenImagesReTrainingCollapses() throws {
        let (status, out) = runDemo(["digits", "--images", "10", "--outer-steps", "300", "--skip-augmentation"])
        #expect(status == 0)
        let r = try readResult(out)
        let (warm, cold, retrained) = (accuracy(r, "warm"), accuracy(r, "cold"), accuracy(r, "warm_retrained"))
        #expect(warm > retrained + 0.5 && cold > retrained + 0.5 && retrained < 0.3, "warm \(warm), cold \(cold), re-trained \(retrained)")
    }

    /// The table's paper column and result.json's "paper" follow --images (the paper's 10-image numbers under --images 10).
    @Test func paperColumnFollowsTheNumberOfImages() throws {
        for (images, warm, cold, retrained) in [(1, 90.8, 30.7, 12.9), (10, 97.5, 89.1, 17.1)] {
            let console = CapturedConsole()
            let out = freshFolder()
            let status = DemoCLI.run(["digits", "--images", "\(images)", "--outer-steps", "3", "--skip-augmentation", "--out", out.path],
                                     console: console.console())
            #expect(status == 0, "\(console.err)")
            let r = try readResult(out)
            let paper = try #require(r["paper"] as? [String: Any])
            for (key, value) in [("warm", warm), ("cold", cold), ("warm_retrained", retrained)] {
                #expect(abs((number(paper[key + "_test_accuracy"]) ?? .nan) - value / 100) < 1e-12, "\(key): \(paper)")
            }
            let header = "paper (MNIST, \(images) image\(images == 1 ? "" : "s"))"
            #expect(console.out.contains(header), "table header \(header) missing")
            for value in [warm, cold, retrained] { #expect(console.out.contains(String(format: "%.1f %%", value))) }
            let other = images == 1 ? "97.5 %" : "90.8 %"
            #expect(!console.out.contains(other), "the other setting's paper number \(other) is printed")
        }
    }

    /// The augmentation part's baseline gets the same inner step as warm start unless asked otherwise: a smaller step for
    /// cold start, re-training and the no-augmentation baseline alone would handicap them.
    @Test func augmentationColdStartGetsWarmStartsInnerStep() throws {
        for (extra, expected) in [([String](), 0.3), (["--aug-cold-inner-lr", "0.05"], 0.05)] {
            let out = freshFolder()
            let console = CapturedConsole()
            let status = DemoCLI.run(["digits", "--outer-steps", "2", "--aug-steps", "2", "--aug-width", "4", "--aug-cold-inner-steps", "3",
                                      "--aug-inner-lr", "0.3", "--out", out.path] + extra, console: console.console())
            #expect(status == 0, "\(console.err)")
            let settings = try #require((try readResult(out)["augmentation"] as? [String: Any])?["settings"] as? [String: Any])
            #expect(number(settings["inner_lr"]) == 0.3 && number(settings["cold_inner_lr"]) == expected, "\(extra): \(settings)")
            #expect(console.out.contains("(step \(fmt(expected)))"), "the table's note names cold start's step")
        }
    }

    /// The augmentation network feeds the classifier its augmented inputs only: with the linear augmentation
    /// a(x) = x + xA + b at A = −I, b = 0 every input maps to 0, so J_in cannot depend on the training images — it would if
    /// the clean images were trained on as well.
    @Test func augmentationNetworkReplacesTheClassifiersInputs() throws {
        var g = SeededGenerator(seed: 4)
        let labels = (0..<12).map { $0 % 3 }
        let a = Dataset(inputs: .randomNormal([12, 5], using: &g), labels: labels, classCount: 3)
        let b = Dataset(inputs: .randomNormal([12, 5], using: &g), labels: labels, classCount: 3)
        let network = DigitsAugmentation.Network(inputs: 5, width: 0, seed: 1)
        let classifier = LinearModel(inputs: 5, outputs: 3)
        let w = Tensor.randomNormal([classifier.layout.count], using: &g)
        let collapse = network.linear.layout.flatten([-1 * Tensor.identity(5), .zeros([5])])
        func innerLoss(_ train: Dataset, _ lambda: Tensor) -> Double {
            DigitsAugmentation.problem(network: network, classifier: classifier, train: train, validation: a, weightDecay: 0.01,
                                       initialWeights: w).innerLoss(lambda: lambda, weights: w)
        }
        #expect(abs(innerLoss(a, collapse) - innerLoss(b, collapse)) < 1e-12)
        #expect(abs(innerLoss(a, network.initialLambda) - innerLoss(b, network.initialLambda)) > 1e-3, "at λ₀ = identity the inputs matter")
        // The MLP network starts within about 1 % of the identity.
        let mlp = DigitsAugmentation.Network(inputs: 5, width: 8, seed: 1)
        let moved = evaluate({ v in mlp(v[0], v[0].constant(mlp.initialLambda)) }, at: [a.inputs])
        #expect((moved - a.inputs).norm / a.inputs.norm < 0.05)
    }

    /// `--mnist DIR` end to end on generated IDX files of MNIST's shape (28 × 28; 12,000 training images, of which the
    /// demo takes 10,000 for training and 2,000 for validation; 300 test images).
    @Test func mnistFolderRunsEndToEnd() throws {
        let dir = freshFolder()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try writeIDX(dir, prefix: "train", count: 12_000, seed: 1)
        try writeIDX(dir, prefix: "t10k", count: 300, seed: 2)
        let out = freshFolder()
        let console = CapturedConsole()
        let status = DemoCLI.run(["digits", "--mnist", dir.path, "--outer-steps", "2", "--aug-steps", "2", "--aug-width", "4",
                                  "--aug-cold-inner-steps", "3", "--out", out.path], console: console.console())
        #expect(status == 0, "\(console.err)")
        let r = try readResult(out)
        let settings = try #require(r["settings"] as? [String: Any])
        #expect(settings["data"] as? String == "mnist")
        #expect(number(settings["features"]) == 784 && number(settings["training_images"]) == 10_000 && number(settings["test_images"]) == 300)
        let images = try #require(r["synthetic_images"] as? [[Any]])
        #expect(images.count == 1 && images[0].count == 784)
        let aug = try #require(r["augmentation"] as? [String: Any])
        #expect(number((aug["warm"] as? [String: Any])?["validation_accuracy"]) != nil)
        for f in ["accuracy.svg", "soft_label_final.svg", "synthetic_images.svg", "soft_labels.svg"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), "missing \(f)")
        }
        // A folder without the files is a usage error naming the file.
        let c2 = CapturedConsole()
        #expect(DemoCLI.run(["digits", "--mnist", out.path, "--out", freshFolder().path], console: c2.console()) == 2)
        #expect(c2.err.contains("train-images-idx3-ubyte"))
    }

    /// Writes `prefix`-images-idx3-ubyte (count × 28 × 28, class-dependent bright blocks plus noise) and the labels.
    func writeIDX(_ dir: URL, prefix: String, count: Int, seed: UInt64) throws {
        func header(_ values: [Int]) -> [UInt8] { values.flatMap { v in [24, 16, 8, 0].map { UInt8((v >> $0) & 255) } } }
        var g = SeededGenerator(seed: seed)
        let labels = (0..<count).map { _ in g.nextInt(below: 10) }
        var pixels = [UInt8](repeating: 0, count: count * 784)
        for (i, c) in labels.enumerated() {
            for p in 0..<784 {
                let row = p / 28, inBlock = row / 3 == c
                pixels[i * 784 + p] = UInt8(min(255, (inBlock ? 180 : 0) + g.nextInt(below: 60)))
            }
        }
        try Data(header([0x803, count, 28, 28]) + pixels).write(to: dir.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
        try Data(header([0x801, count]) + labels.map(UInt8.init)).write(to: dir.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
    }
}
