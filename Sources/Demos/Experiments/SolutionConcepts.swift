import Foundation
import Tape
import Layers
import Bilevel

/// Paper Fig. 2: a 2-class data set with a sinusoidal boundary distilled into two points (one per class),
/// and the decision boundaries of four solution concepts.
///
/// How the two classical ones are computed **(ours)**: the inner problem "fit the two synthetic points" has
/// a manifold of solutions, and we approximate "w ∈ argmin J_in" by a penalty μ·J_in with μ = 100.
/// - Optimistic: min over λ and w of J_out(w) + μ·J_in(λ, w) (jointly, Adam from λ₀, w₀): the tie among inner
///   solutions is broken in favour of the real data.
/// - Pessimistic: at the cold-start λ, max over w of J_out(w) − μ·J_in(λ, w) (Adam ascent from w₀ for a fixed
///   budget, since the real loss is unbounded above): the worst network that still fits the synthetic points.
/// Cold and warm start are the practical algorithms (as in `rings`).
enum SolutionConcepts: Subcommand {
    static let name = "solution-concepts"
    static let summary = "Fig. 2: optimistic, pessimistic, cold-start and warm-start solutions of a distillation problem"
    static let flags: [Flag] = [
        .option("points", "real points", default: "300 (quick: 200)"),
        .option("outer-steps", "outer steps (warm start)", default: "2000 (quick: 1500)"),
        .option("penalty", "μ, the weight of J_in in the optimistic and pessimistic objectives", default: "100"),
    ]

    static func run(_ args: Arguments, _ ctx: DemoContext) throws {
        let n = try args.int("points", default: ctx.quick ? 200 : 300, in: 10...100_000)
        let steps = try args.int("outer-steps", default: ctx.quick ? 1500 : 2000, in: 1...10_000_000)
        let mu = try args.double("penalty", default: 100, in: 1e-6...1e9)
        let real = SyntheticData.sinusoidalBoundary(points: n, amplitude: 0.5, frequency: 1.5, seed: ctx.seed)
        var g = SeededGenerator(seed: ctx.seed &+ 1)
        let model = MLP(widths: [2, 64, 64, 2], activation: .relu)
        let problem = DatasetDistillation(model: model, real: real, initialSynthetic: .randomNormal([2, 2], standardDeviation: 0.2, using: &g),
                                          syntheticLabels: [0, 1], weightsSeed: ctx.seed &+ 2)
        let (innerLR, outerLR, coldLR, coldInner) = (0.003, 0.05, 0.1, 100)
        let unrolled = TruncatedUnrolling(steps: 5, optimizer: SGD(learningRate: innerLR))
        let warm = try BilevelSolver(problem: problem, method: unrolled, concept: WarmStart(optimizer: SGD(learningRate: innerLR)),
                                     outerOptimizer: Adam(learningRate: outerLR), maxOuterSteps: steps, lambdaStride: max(1, steps / 200)).run()
        let cold = try BilevelSolver(problem: problem, method: TruncatedUnrolling(steps: 5, optimizer: SGD(learningRate: coldLR)),
                                     concept: ColdStart(optimizer: SGD(learningRate: coldLR), steps: coldInner),
                                     outerOptimizer: Adam(learningRate: outerLR), maxOuterSteps: ctx.quick ? 40 : 100).run()
        let w0 = warm.state.initialWeights, l0 = problem.initialLambda
        let m = l0.count
        // Optimistic: joint descent on [λ, w].
        let opt = Adam(learningRate: 0.01)
        var joint = opt.initialState(weights: Tensor(l0.scalars + w0.scalars))
        try opt.minimize({ v, _ in
            let l = v.slice(alongAxis: 0, start: 0, count: m), w = v.slice(alongAxis: 0, start: m, count: w0.count)
            return problem.outerObjective(lambda: l, weights: w) + problem.innerObjective(lambda: l, weights: w, step: 0) * mu
        }, state: &joint, steps: ctx.quick ? 600 : 1500)
        let optLambda = Tensor(Array(joint.weights.scalars[0..<m])), optW = Tensor(Array(joint.weights.scalars[m...]))
        // Pessimistic: ascent on the real loss among networks that fit the cold-start points.
        var pess = opt.initialState(weights: w0)
        try opt.minimize({ w, _ in
            problem.innerObjective(lambda: w.constant(cold.lambda), weights: w, step: 0) * mu - problem.outerObjective(lambda: w.constant(cold.lambda), weights: w)
        }, state: &pess, steps: ctx.quick ? 300 : 600)
        let concepts: [(String, Tensor, Tensor, [Tensor])] = [
            ("optimistic", optLambda, optW, [l0, optLambda]), ("pessimistic", cold.lambda, pess.weights, [cold.lambda]),
            ("cold", cold.lambda, cold.weights, cold.trajectory.lambdas.map(\.lambda)), ("warm", warm.lambda, warm.weights, warm.trajectory.lambdas.map(\.lambda)),
        ]
        var rows: [[String]] = [], entries: [(String, JSON)] = []
        for (name, l, w, traj) in concepts {
            let acc = problem.accuracy(weights: w, on: real), fitIn = problem.innerLoss(lambda: l, weights: w)
            rows.append([name, fmt(acc, 3), fmt(problem.outerLoss(lambda: l, weights: w)), fmt(fitIn, 3)])
            entries.append((name, .object([("accuracy", .number(acc)), ("outer_loss", .number(problem.outerLoss(lambda: l, weights: w))),
                                           ("inner_loss", .number(fitIn)), ("learned_points", .numbers(problem.syntheticInputs(l).scalars))])))
            let plot = RingsOutput.boundaryPlot("\(name) solution (accuracy \(fmt(acc, 3)))", problem: problem, weights: w, lambdas: traj, range: -1.2...1.2)
            try ctx.out.write(plot.svg(), to: "\(name).svg")
        }
        ctx.say(table(["solution", "accuracy (real)", "outer loss", "inner loss (fit to the 2 points)"], rows))
        try ctx.out.writeCSV("learned_points.csv", header: ["solution", "point", "x1", "x2"], rows: concepts.enumerated().flatMap { c, item in
            let x = problem.syntheticInputs(item.1)
            return (0..<x.shape.rows).map { [Double(c), Double($0), x[$0, 0], x[$0, 1]] }
        })
        try ctx.out.writeCSV("warm_trajectory.csv", header: ["step", "x1_class0", "x2_class0", "x1_class1", "x2_class1"],
                             rows: warm.trajectory.lambdas.map { [Double($0.step)] + $0.lambda.scalars })
        try ctx.out.writeJSON(.object([("settings", .object([("points", .int(n)), ("outer_steps", .int(steps)), ("penalty", .number(mu)),
                                                             ("seed", .int(Int(ctx.seed))), ("quick", .bool(ctx.quick)),
                                                             ("optimistic", .string("min over λ, w of J_out + μ J_in (Adam, joint)")),
                                                             ("pessimistic", .string("at the cold-start λ: max over w of J_out − μ J_in (Adam ascent, fixed budget)"))]))] + entries))
        ctx.say("wrote \(ctx.out.url.path)/{result.json, optimistic.svg, pessimistic.svg, cold.svg, warm.svg}")
    }
}
