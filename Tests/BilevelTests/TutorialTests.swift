import Foundation
import Testing
import Tape
import Layers
import Bilevel

// BEGIN TUTORIAL
/// Per-feature L2 penalties as hyperparameters: feature j gets the penalty 10·σ(λⱼ) (bounded, so the inner
/// step size stays stable). The inner problem is ridge regression with penalty ½ Σⱼ 10σ(λⱼ) wⱼ², the outer
/// problem the error on a validation set.
struct PerFeatureRidge: BilevelProblem {
    let train: Dataset
    let validation: Dataset

    var initialLambda: Tensor { .zeros([train.featureCount]) }

    func initialWeights(using generator: inout SeededGenerator) -> Tensor { .zeros([train.featureCount]) }

    func innerObjective(lambda: Variable, weights w: Variable, step: Int) -> Variable {
        let x = w.constant(train.inputs), d = train.featureCount
        let fit = Loss.meanSquaredError(x.matmul(w.reshaped([d, 1])), train.targets!)
        return fit + (lambda.sigmoid() * w.squared()).sum() * 5
    }

    func outerObjective(lambda: Variable, weights w: Variable) -> Variable {
        let x = w.constant(validation.inputs), d = validation.featureCount
        return Loss.meanSquaredError(x.matmul(w.reshaped([d, 1])), validation.targets!)
    }
}

func tuneRidge(train: Dataset, validation: Dataset) throws -> BilevelRun {
    let solver = BilevelSolver(
        problem: PerFeatureRidge(train: train, validation: validation),
        method: TruncatedConjugateGradient(iterations: 20),                   // H⁻¹ by 20 CG steps
        concept: WarmStart(optimizer: SGD(learningRate: 0.05), stepsPerOuterStep: 50),
        outerOptimizer: Adam(learningRate: 0.1),
        maxOuterSteps: 150)
    return try solver.run()   // run.lambda, run.weights, run.trajectory.outerLoss, …
}
// END TUTORIAL

@Suite("Tutorial: write your own bilevel problem")
struct TutorialTests {
    /// Features 0–3 carry the signal, 4–9 are noise: the tuned penalties must grow on the noise features
    /// and the validation error must fall.
    @Test func perFeaturePenaltiesLearnWhichFeaturesMatter() throws {
        var g = SeededGenerator(seed: 12)
        func make(_ n: Int) -> Dataset {
            let x = Tensor.randomNormal([n, 10], using: &g)
            let y = (0..<n).map { i in (0..<4).reduce(0.0) { $0 + x[i, $1] * Double($1 + 1) } + 0.5 * g.nextNormal() }
            return Dataset(inputs: x, targets: Tensor(y))
        }
        let (train, validation) = (make(15), make(200))
        let run = try tuneRidge(train: train, validation: validation)
        let loss = run.trajectory.outerLoss
        #expect(loss.last! < 0.8 * loss.first!, "validation error \(loss.first!) → \(loss.last!)")
        let l = run.lambda.scalars
        let signal = l[0..<4].reduce(0, +) / 4, noise = l[4...].reduce(0, +) / 6
        #expect(noise > signal + 1, "log-penalties: signal \(signal), noise \(noise)")
        try expectDocumentContainsSnippet(of: #filePath, document: "docs/bilevel.md", begin: "// BEGIN TUTORIAL", end: "// END TUTORIAL")
    }
}

/// Asserts that a document holds the code between two marker lines of `file` (indentation ignored).
func expectDocumentContainsSnippet(of file: String, document: String, begin: String, end: String) throws {
    let lines = try String(contentsOfFile: file, encoding: .utf8).components(separatedBy: "\n")
    guard let b = lines.firstIndex(where: { $0.contains(begin) }), let e = lines.firstIndex(where: { $0.contains(end) }) else {
        Issue.record("markers missing in \(file)"); return
    }
    let snippet = lines[(b + 1)..<e].map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")
    let root = URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let doc = try String(contentsOf: root.appendingPathComponent(document), encoding: .utf8)
        .components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")
    #expect(doc.contains(snippet), "\(document) no longer contains the code of \(URL(fileURLWithPath: file).lastPathComponent)")
}
