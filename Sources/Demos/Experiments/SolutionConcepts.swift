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
/// - Pessimistic: not computed, because it does not exist here — see the worst-case panel below.
/// - Worst case at the cold-start λ: max over w of J_out(w) − μ·J_in(λ, w) (Adam ascent from w₀ for a fixed budget):
///   the worst network that still fits the synthetic points; its real loss keeps growing with the budget.
/// Cold and warm start are the practical algorithms (as in `rings`), with the same outer optimizer and outer steps.
enum SolutionConcepts: Subcommand {
    static let name = "solution-concepts"
    static let summary = "Fig. 2: optimistic, worst-case, cold-start and warm-start solutions of a distillation problem"
    static let flags: [Flag] = [
        .option("points", "real points", default: "300 (quick: 200)"),
        .option("outer-steps", "outer steps of warm and cold start (the same budget)", default: "2000 (quick: 300)"),
        .option("penalty", "μ, the weight of J_in in the optimistic and pessimistic objectives", default: "100"),
        .option("inner-lr", "inner SGD step of warm start (T = 1 step per outer step)", default: "0.003"),
        .option("outer-lr", "outer Adam step (warm and cold start)", default: "0.01"),
        .option("unroll", "K, the unrolled steps of each warm-start hypergradient", default: "5"),
        .option("cold-inner-steps", "inner SGD steps from w₀ per cold outer step (differentiated through all of them)", default: "100"),
        .option("cold-inner-lr", "inner SGD step of cold start", default: "0.1"),
        .option("init-gain", "initial weights N(0, g²/fan_in): √2 is He, 1 is LeCun", default: "1"),
        .option("box", "b: the learned points stay in (−b, b)² (x = b·tanh(z/b)); the data fill [−1, 1]²", default: "1"),
    ]

    static func run(_ args: Arguments, _ ctx: DemoContext) throws {
        let n = try args.int("points", default: ctx.quick ? 200 : 300, in: 10...100_000)
        let steps = try args.int("outer-steps", default: ctx.quick ? 300 : 2000, in: 1...10_000_000)
        let mu = try args.double("penalty", default: 100, in: 1e-6...1e9)
        let innerLR = try args.double("inner-lr", default: 0.003, in: 1e-9...10)
        let outerLR = try args.double("outer-lr", default: 0.01, in: 1e-9...10)
        let k = try args.int("unroll", default: 5, in: 1...100_000)
        let coldInner = try args.int("cold-inner-steps", default: 100, in: 1...100_000)
        let coldLR = try args.double("cold-inner-lr", default: 0.1, in: 1e-9...10)
        let gain = try args.double("init-gain", default: 1, in: 1e-6...100)
        let box = try args.double("box", default: 1, in: 0.5...1e6)
        let real = SyntheticData.sinusoidalBoundary(points: n, amplitude: 0.5, frequency: 1.5, seed: ctx.seed)
        var g = SeededGenerator(seed: ctx.seed &+ 1)
        let model = GainInitialized(base: MLP(widths: [2, 64, 64, 2], activation: .relu), gain: gain)
        let base = DatasetDistillation(model: model, real: real, initialSynthetic: .randomNormal([2, 2], standardDeviation: 0.2, using: &g),
                                       syntheticLabels: [0, 1], weightsSeed: ctx.seed &+ 2)
        let problem = BoundedSyntheticInputs(base, bound: box)
        let warm = try runCheckpointed(BilevelSolver(problem: problem, method: TruncatedUnrolling(steps: k, optimizer: SGD(learningRate: innerLR)),
                                                     concept: WarmStart(optimizer: SGD(learningRate: innerLR)), outerOptimizer: Adam(learningRate: outerLR),
                                                     maxOuterSteps: steps, lambdaStride: max(1, steps / 200)),
                                       name: "warm", ctx: ctx, options: .none)
        // Cold start: the same outer optimizer and number of outer steps, from the same λ₀ and w₀; its hypergradient is
        // the exact gradient of λ ↦ J_out(w_T(λ)) (full unrolling of its T inner steps), so only warm vs cold differs.
        let cold = try runCheckpointed(BilevelSolver(problem: problem, method: FullUnrolling(steps: coldInner, optimizer: SGD(learningRate: coldLR)),
                                                     concept: ColdStart(optimizer: SGD(learningRate: coldLR), steps: coldInner),
                                                     outerOptimizer: Adam(learningRate: outerLR), maxOuterSteps: steps,
                                                     lambdaStride: max(1, steps / 200)),
                                       name: "cold", ctx: ctx, options: .none)
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
        // The pessimistic panel: ascent on the real loss among networks that fit the cold-start points. This is the
        // worst-case *response* at one λ, not a pessimistic bilevel solution: the network fits two points and is free
        // elsewhere, so sup_w {J_out : w ∈ argmin J_in} = ∞ for every λ and min_λ of it is not defined. The ascent's
        // J_out after half and all of its budget shows it still climbing.
        let ascentSteps = ctx.quick ? 300 : 600
        var pess = opt.initialState(weights: w0)
        var ascentLoss: [Double] = []
        for _ in 0..<2 {
            try opt.minimize({ w, _ in
                problem.innerObjective(lambda: w.constant(cold.lambda), weights: w, step: 0) * mu - problem.outerObjective(lambda: w.constant(cold.lambda), weights: w)
            }, state: &pess, steps: ascentSteps / 2)
            ascentLoss.append(problem.outerLoss(lambda: cold.lambda, weights: pess.weights))
        }
        let concepts: [(String, Tensor, Tensor, [Tensor])] = [
            ("optimistic", optLambda, optW, [l0, optLambda]), ("worst_case", cold.lambda, pess.weights, [cold.lambda]),
            ("cold", cold.lambda, cold.weights, cold.trajectory.lambdas.map(\.lambda)), ("warm", warm.lambda, warm.weights, warm.trajectory.lambdas.map(\.lambda)),
        ]
        var rows: [[String]] = [], entries: [(String, JSON)] = []
        for (name, l, w, traj) in concepts {
            let acc = base.accuracy(weights: w, on: real), fitIn = problem.innerLoss(lambda: l, weights: w)
            rows.append([name, fmt(acc, 3), fmt(problem.outerLoss(lambda: l, weights: w)), fmt(fitIn, 3)])
            entries.append((name, .object([("accuracy", .number(acc)), ("outer_loss", .number(problem.outerLoss(lambda: l, weights: w))),
                                           ("inner_loss", .number(fitIn)), ("learned_points", .numbers(base.syntheticInputs(problem.baseLambda(l)).scalars))])))
            let title = name == "worst_case" ? "worst network fitting the cold-start points (accuracy \(fmt(acc, 3)))"
                                             : "\(name) solution (accuracy \(fmt(acc, 3)))"
            let plot = RingsOutput.boundaryPlot(title, problem: base, weights: w, lambdas: traj.map(problem.baseLambda), range: -1.2...1.2)
            try ctx.out.write(plot.svg(), to: "\(name).svg")
        }
        ctx.say(table(["solution", "accuracy (real)", "outer loss", "inner loss (fit to the 2 points)"], rows))
        ctx.say("worst case at the cold λ: outer loss \(fmt(ascentLoss[0])) after \(ascentSteps / 2) ascent steps, \(fmt(ascentLoss[1])) after " +
                "\(ascentSteps) (unbounded: no pessimistic bilevel solution exists for this overparameterized inner problem)")
        try ctx.out.writeCSV("learned_points.csv", header: ["solution", "point", "x1", "x2"], rows: concepts.enumerated().flatMap { c, item in
            let x = base.syntheticInputs(problem.baseLambda(item.1))
            return (0..<x.shape.rows).map { [Double(c), Double($0), x[$0, 0], x[$0, 1]] }
        })
        try ctx.out.writeCSV("warm_trajectory.csv", header: ["step", "x1_class0", "x2_class0", "x1_class1", "x2_class1"],
                             rows: warm.trajectory.lambdas.map { [Double($0.step)] + problem.baseLambda($0.lambda).scalars })
        try ctx.out.writeJSON(.object([("settings", .object([("points", .int(n)), ("outer_steps", .int(steps)), ("penalty", .number(mu)),
                                                             ("seed", .int(Int(ctx.seed))), ("quick", .bool(ctx.quick)),
                                                             ("optimistic", .string("min over λ, w of J_out + μ J_in (Adam, joint)")),
                                                             ("inner_lr", .number(innerLR)), ("outer_lr", .number(outerLR)), ("unroll", .int(k)),
                                                             ("cold_inner_steps", .int(coldInner)), ("cold_inner_lr", .number(coldLR)),
                                                             ("init_gain", .number(gain)), ("box", .number(box)),
                                                             ("worst_case", .string("at the cold-start λ: max over w of J_out − μ J_in (Adam ascent, fixed budget)"))])),
                                       ("worst_case_ascent_outer_loss", .numbers(ascentLoss))] + entries))
        try ctx.out.write(RingsOutput.lossCurves(warm: warm, cold: cold).svg(), to: "outer_loss.svg")
        ctx.say("wrote \(ctx.out.url.path)/{result.json, optimistic.svg, worst_case.svg, cold.svg, warm.svg, outer_loss.svg}")
    }
}
