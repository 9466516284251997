import Foundation
import Tape
import Layers
import Bilevel

/// Second part of the digits demo (paper section 5.3): a linear data-augmentation network, x̃ = x + xA + b,
/// tuned on a validation set while a linear classifier trains on 50 examples and their augmented copies.
/// λ = (A (d, d), b (d)); J_in = cross-entropy on [x; x̃] with 1e-3 weight decay; J_out = cross-entropy on
/// the validation set. Warm start (one inner step per outer step) vs cold start vs re-training a fresh
/// classifier on the final augmentation.
enum DigitsAugmentation {
    static func run(train: Dataset, validation: Dataset, test: Dataset, ctx: DemoContext) throws -> JSON {
        let small = train.subset(Array(0..<50))
        let d = small.featureCount
        let model = LinearModel(inputs: d, outputs: 10)
        let labels = small.labels + small.labels
        let layout = ParameterLayout([("A", [d, d]), ("b", [d])])
        let problem = ClosureProblem(
            initialLambda: .zeros([layout.count]), initialWeights: .zeros([model.parameterCount]),
            inner: { l, w, _ in
                let p = layout.tensors(of: l)
                let x = w.constant(small.inputs)
                let augmented = x + x.matmul(p[0]) + p[1]
                let logits = model(Variable.concatenate([x, augmented], alongAxis: 0), parameters: w)
                return Loss.softmaxCrossEntropy(logits: logits, labels: labels) + w.squared().sum() * 5e-4
            },
            outer: { _, w in Loss.softmaxCrossEntropy(logits: model(w.constant(validation.inputs), parameters: w), labels: validation.labels) })
        let (innerLR, steps, coldSteps, coldInner) = (0.5, 600, ctx.quick ? 30 : 80, ctx.quick ? 150 : 300)
        let method = TruncatedUnrolling(steps: 5, optimizer: SGD(learningRate: innerLR))
        let warm = try BilevelSolver(problem: problem, method: method, concept: WarmStart(optimizer: SGD(learningRate: innerLR)),
                                     outerOptimizer: Adam(learningRate: 0.01), maxOuterSteps: steps).run()
        let coldConcept = ColdStart(optimizer: SGD(learningRate: innerLR), steps: coldInner)
        let cold = try BilevelSolver(problem: problem, method: method, concept: coldConcept, outerOptimizer: Adam(learningRate: 0.01),
                                     maxOuterSteps: coldSteps).run()
        let baseline = try retrain(problem, lambda: problem.initialLambda, initialWeights: problem.initialWeightsValue, concept: coldConcept)
        let retrained = try retrain(problem, lambda: warm.lambda, initialWeights: problem.initialWeightsValue, concept: coldConcept)
        func acc(_ w: Tensor, _ data: Dataset) -> Double { Loss.accuracy(logits: model.predict(data.inputs, parameters: w), labels: data.labels) }
        let rows = [("no augmentation", baseline.weights), ("warm", warm.weights), ("cold", cold.weights), ("warm_retrained", retrained.weights)]
        ctx.say("\naugmentation network tuned on the validation set, 50 training examples, linear classifier:")
        ctx.say(table(["solution", "validation accuracy", "test accuracy"], rows.map { [$0.0, fmt(acc($0.1, validation), 3), fmt(acc($0.1, test), 3)] }))
        return .object(rows.map { name, w in
            (name == "no augmentation" ? "baseline" : name, .object([("validation_accuracy", .number(acc(w, validation))), ("test_accuracy", .number(acc(w, test)))]))
        } + [("settings", .object([("training_examples", .int(50)), ("inner_lr", .number(innerLR)), ("outer_steps", .int(steps)),
                                   ("cold_outer_steps", .int(coldSteps)), ("cold_inner_steps", .int(coldInner))]))])
    }
}
