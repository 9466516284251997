import Foundation
import Tape
import Layers
import Bilevel

/// Anti-distillation (paper Fig. 10, 11a, 11b, 14–18; PRIMER result 6): learn the targets of n synthetic
/// points at fixed x so that a regressor trained on them fits one original point. Cold start; every
/// hypergradient method; ‖λ‖ and ‖w‖ at convergence against K and η; CG for K = 1 … 21.
enum AntiDistillation: Subcommand {
    static let name = "anti-distillation"
    static let summary = "Fig. 10–18: learned targets and fitted curves per hypergradient method; ‖λ‖, ‖w‖ vs K and η; CG vs K"
    static let flags: [Flag] = [
        .option("amplitudes", "Fourier amplitude profile: exp:R | linear | list:a1,a2,…", default: "exp:0.5"),
        .option("frequencies", "F, the number of frequencies (2F + 1 features; F < 6 gives fewer features than points, Fig. 17)", default: "10"),
        .option("learned-x", "x of the learned points, comma-separated", default: "13 points equally spaced in (−π, π): the 7th is x = 0"),
        .option("original", "original point(s) x:y[,x:y…]; off the learned grid (e.g. 0.5:1) ∂J_out/∂w has a null-space part", default: "0:1 (on the middle learned point, as the paper)"),
        .option("methods", "methods to run: exact,identity,neumann:K,cg:K,damped:ETA,unrolled:K",
                default: "exact,neumann:1,neumann:10,neumann:100,cg:2,cg:5,cg:21,damped:1,damped:0.01,unrolled:10 (mlp: exact,neumann:1,neumann:10,cg:10,damped:0.1,damped:0.01,unrolled:10)"),
        .option("k-grid", "K values for the ‖λ‖, ‖w‖ vs K plot (Neumann, unrolled)", default: "1,2,5,10,20,50,100,200,500,1000 (quick: 1,10,100; mlp: 1,10, quick 1)"),
        .option("cg-grid", "CG iteration counts for the CG-vs-K plot", default: "1,2,…,21 (quick: 1,3,5,7,10,21; mlp: 10)"),
        .option("eta-grid", "η values for the ‖λ‖, ‖w‖ vs η plot (damped)", default: "1e-4,…,10 (quick: 1e-3,0.1,10; mlp: 0.01,0.1)"),
        .option("inner-lr", "inner step α: the inner SGD rate, the Neumann step and the unrolled step", default: "1/λ_max(H) (fourier), 0.01 (mlp)"),
        .option("outer-lr", "outer SGD learning rate (fixed, as the paper), or 'auto': an exact line search along the first hypergradient (fast, not the paper's dynamics)", default: "0.1"),
        .option("outer-steps", "cap on outer steps (the loop stops earlier when the relative change of λ < 1e-10)", default: "5000 (quick: 2000; mlp: 200, quick 20)"),
        .option("inner-steps", "inner SGD steps per outer step instead of the closed-form inner solve", default: "closed form (fourier), 5000 (mlp; quick: 300)"),
        .option("lambda-bound", "stop a method as diverging when ‖λ‖ exceeds this multiple of the exact method's final ‖λ‖", default: "10"),
        .option("model", "inner model: fourier | mlp (2 × 10 ReLU, Fig. 18)", default: "fourier"),
    ]

    struct Setup {
        var features: FourierFeatures
        var learnedX: [Double]
        var original: [(Double, Double)]
        var model: String
    }

    /// The run's settings that every method shares.
    struct Settings {
        var alpha: Double
        var outerLR: Double?
        var outerSteps: Int
        var innerSteps: Int?
        var lambdaBound: Double
    }

    static func run(_ args: Arguments, _ ctx: DemoContext) throws {
        let f = try args.int("frequencies", default: 10, in: 0...100)
        let profile = try parseProfile(args.string("amplitudes") ?? "exp:0.5", frequencies: f)
        // x_i = −π + 2π(i + ½)/13, written as 2π(i − 6)/13 so that the middle one, x₆, is exactly 0 in Float64.
        let spaced: [Double] = (0..<13).map { i -> Double in 2 * Double.pi * Double(i - 6) / 13 }
        let learnedX: [Double] = try args.doubles("learned-x", default: nil, in: -100...100) ?? spaced
        let original = try parseOriginal(args.string("original") ?? "0:1")
        let modelName = try args.choice("model", default: "fourier", from: ["fourier", "mlp"])
        let mlp = modelName == "mlp", q = ctx.quick
        let methods = try MethodSpec.parseList(args.string("methods") ?? (mlp ? "exact,neumann:1,neumann:10,cg:10,damped:0.1,damped:0.01,unrolled:10"
                                                                             : "exact,neumann:1,neumann:10,neumann:100,cg:2,cg:5,cg:21,damped:1,damped:0.01,unrolled:10"), flag: "methods")
        let kGrid = try args.ints("k-grid", default: mlp ? (q ? [1] : [1, 10]) : q ? [1, 10, 100] : [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], in: 1...100_000)
        let cgGrid = try args.ints("cg-grid", default: mlp ? [10] : q ? [1, 3, 5, 7, 10, 21] : Array(1...21), in: 1...100_000)
        let etaGrid = try args.doubles("eta-grid", default: mlp ? [0.01, 0.1] : q ? [1e-3, 0.1, 10] : [1e-4, 1e-3, 1e-2, 0.1, 1, 10], in: 1e-12...1e6) ?? []
        let outerSteps = try args.int("outer-steps", default: mlp ? (q ? 20 : 200) : q ? 2000 : 5000, in: 1...10_000_000)
        let lrText = args.string("outer-lr") ?? "0.1"
        let outerLR: Double? = lrText == "auto" ? nil : try Arguments.parseDouble(lrText, flag: "outer-lr", in: 1e-12...1e6)
        let innerSteps: Int? = try args.string("inner-steps").map { try Arguments.parseInt($0, flag: "inner-steps", in: 1...10_000_000) }
            ?? (mlp ? (q ? 300 : 5000) : nil)
        let bound = try args.double("lambda-bound", default: 10, in: 1...1e12)

        let features = FourierFeatures(frequencies: f, profile: profile)
        let xs = Tensor(shape: [learnedX.count, 1], scalars: learnedX)
        let xo = Tensor(shape: [original.count, 1], scalars: original.map(\.0)), yo = Tensor(shape: [original.count, 1], scalars: original.map(\.1))
        let setup = Setup(features: features, learnedX: learnedX, original: original, model: modelName)
        if mlp {
            let problem = TargetDistillation(model: MLP(widths: [1, 10, 10, 1], activation: .relu), learnedInputs: xs,
                                             originalInputs: xo, originalTargets: yo, weightsSeed: ctx.seed)
            let alpha = try args.double("inner-lr", default: 0.01, in: 1e-9...10)
            ctx.say("inner model: MLP 1-10-10-1 (ReLU), \(problem.model.parameterCount) weights; inner SGD α = \(fmt(alpha)), " +
                    "\(innerSteps!) steps per outer step from the same w₀")
            try experiment(problem: problem, ctx: ctx, setup: setup, methods: methods, kGrid: kGrid, cgGrid: cgGrid, etaGrid: etaGrid,
                           settings: Settings(alpha: alpha, outerLR: outerLR, outerSteps: outerSteps, innerSteps: innerSteps, lambdaBound: bound))
        } else {
            let problem = TargetDistillation(model: FourierRegressor(features: features), learnedInputs: xs,
                                             originalInputs: xo, originalTargets: yo, weightsSeed: ctx.seed)
            // H = (2/n) ΦᵀΦ is constant: its largest eigenvalue fixes the default step.
            let phi = features(xs)
            let eigen = LinearAlgebra.symmetricEigen((2 / Double(learnedX.count)) * phi.matmul(phi, transposeSelf: true)).values
            let lmax = eigen.max() ?? 1
            let alpha = try args.double("inner-lr", default: 1 / lmax, in: 1e-12...1e6)
            let positive = eigen.filter { $0 > 1e-10 * lmax }
            let distinct = positive.sorted().reduce(into: [Double]()) { if let l = $0.last, abs($1 - l) <= 1e-9 * $1 { return }; $0.append($1) }
            ctx.say("inner Hessian H = (2/n)ΦᵀΦ: λ_max = \(fmt(lmax)), rank \(positive.count) of \(eigen.count), \(distinct.count) distinct non-zero " +
                    "eigenvalues (CG is exact after that many iterations when ∂J_out/∂w lies in range(H)); α = \(fmt(alpha))")
            ctx.say("null-space part of ∂J_out/∂w: ‖(I − Φ⁺Φ) φ(x°)‖ / ‖φ(x°)‖ = \(fmt(nullSpaceFraction(problem, features: features, original: original), 3))" +
                    " (0: the original point is on the learned grid; > 0: H v = ∂J_out/∂w has no solution, see docs)")
            try experiment(problem: problem, ctx: ctx, setup: setup, methods: methods, kGrid: kGrid, cgGrid: cgGrid, etaGrid: etaGrid,
                           settings: Settings(alpha: alpha, outerLR: outerLR, outerSteps: outerSteps, innerSteps: innerSteps, lambdaBound: bound))
        }
    }

    /// ‖(I − Φ⁺Φ) φ(x°)‖ / ‖φ(x°)‖ over the original points: the part of ∂J_out/∂w ∝ φ(x°) in the null space of H.
    static func nullSpaceFraction(_ p: TargetDistillation<FourierRegressor>, features: FourierFeatures, original: [(Double, Double)]) -> Double {
        let phi = features(Tensor(shape: [p.learnedInputs.shape.rows, 1], scalars: p.learnedInputs.scalars))
        let projector = LinearAlgebra.pseudoinverse(phi).inverse.matmul(phi)
        let po = features(Tensor(shape: [original.count, 1], scalars: original.map(\.0)))
        let fc = features.featureCount
        let rows = (0..<original.count).map { j in Tensor((0..<fc).map { po[j, $0] }) }
        return rows.map { r in (r - projector.matmul(r.reshaped([r.count, 1])).reshaped([r.count])).norm / max(r.norm, .leastNormalMagnitude) }.max() ?? 0
    }
}
