import Foundation
import Testing
import Tape
import Layers
import Bilevel

/// The README's "your own bilevel problem" example, compiled and run here; the test also checks that the
/// README still shows exactly this code.
@Suite("README bilevel example")
struct ReadmeBilevelExampleTests {
    @Test func readmeExampleRunsAndLowersTheValidationError() throws {
        var g = SeededGenerator(seed: 3)
        func make(_ n: Int) -> Dataset {
            let x = Tensor.randomNormal([n, 6], using: &g)
            return Dataset(inputs: x, targets: Tensor((0..<n).map { x[$0, 0] - 2 * x[$0, 1] + 0.3 * g.nextNormal() }))
        }
        let (train, validation) = (make(12), make(100))
        // BEGIN README
        struct FeaturePenalties: BilevelProblem {
            let train: Dataset, validation: Dataset
            var initialLambda: Tensor { .zeros([train.featureCount]) }
            func initialWeights(using generator: inout SeededGenerator) -> Tensor { .zeros([train.featureCount]) }
            func innerObjective(lambda: Variable, weights w: Variable, step: Int) -> Variable {
                let x = w.constant(train.inputs), d = train.featureCount
                return Loss.meanSquaredError(x.matmul(w.reshaped([d, 1])), train.targets!) + (lambda.sigmoid() * w.squared()).sum() * 5
            }
            func outerObjective(lambda: Variable, weights w: Variable) -> Variable {
                let x = w.constant(validation.inputs), d = validation.featureCount
                return Loss.meanSquaredError(x.matmul(w.reshaped([d, 1])), validation.targets!)
            }
        }

        let run = try BilevelSolver(problem: FeaturePenalties(train: train, validation: validation),
                                    method: TruncatedConjugateGradient(iterations: 20),
                                    concept: WarmStart(optimizer: SGD(learningRate: 0.05), stepsPerOuterStep: 50),
                                    outerOptimizer: Adam(learningRate: 0.1), maxOuterSteps: 150).run()
        print(run.trajectory.outerLoss.last!, run.lambda)
        // END README
        #expect(run.trajectory.outerLoss.last! < run.trajectory.outerLoss.first!)
        try expectDocumentContainsSnippet(of: #filePath, document: "README.md", begin: "// BEGIN README", end: "// END README")
    }
}
