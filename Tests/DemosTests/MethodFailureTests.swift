import Foundation
import Testing
import Tape
import Layers
import Bilevel
@testable import Demos

/// A method that diverges or turns NaN inside a demo is reported with its step, its name and what to change,
/// and the other methods still run and are written (Support/MethodRuns.swift).
@Suite("Demos: a failing method is recorded, the others still run")
struct MethodFailureTests {
    /// λ ∈ ℝ, w ∈ ℝ: J_in = ½(w − λ)², J_out = ½(w − 1)². Exact hypergradient w − 1 at w = λ: outer GD with rate
    /// r multiplies the error by (1 − r), so r > 2 diverges; inner GD with rate r > 2 diverges too.
    static var problem: ClosureProblem { ClosureProblem(initialLambda: Tensor([0]), initialWeights: Tensor([0]),
        inner: { l, w, _ in (w - l).squared().sum() * 0.5 }, outer: { _, w in (w - 1).squared().sum() * 0.5 }) }

    @Test func aDivergingRunBecomesAFailureWithItsStepAndAdvice() throws {
        let concept = ColdStart(optimizer: SGD(learningRate: 0.5), steps: 60)   // inner GD halves w − λ each step
        let diverging = BilevelSolver(problem: Self.problem, method: ExactHypergradient(), concept: concept,
                                      outerOptimizer: SGD(learningRate: 3), maxOuterSteps: 5000)
        guard case .failure(let f) = try MethodRuns.solve(diverging, method: "exact") else { Issue.record("a rate of 3 did not fail"); return }
        // |λ − 1| doubles every step: J_out overflows near step 510.
        #expect(f.method == "exact" && f.step != nil && f.step! > 400 && f.step! < 600, "\(f)")
        #expect(f.message.contains("lower the outer learning rate"), "\(f)")
        #expect(f.description.hasPrefix("exact failed at outer step \(f.step!): "))
        // The same problem at a sane rate runs to the end.
        let fine = BilevelSolver(problem: Self.problem, method: ExactHypergradient(), concept: concept,
                                 outerOptimizer: SGD(learningRate: 0.5), maxOuterSteps: 50)
        guard case .success(let run) = try MethodRuns.solve(fine, method: "exact") else { Issue.record("rate 0.5 failed"); return }
        #expect(abs(run.lambda.scalars[0] - 1) < 1e-6)
        // An inner loop that diverges names no outer step in its message: the counted step is used.
        // Inner rate 5 multiplies w − λ by −4 per inner step: at λ₀ = 0 (from w₀ = 0) nothing moves, at λ₁ = 0.5 it
        // overflows within 600 inner steps.
        let inner = BilevelSolver(problem: Self.problem, method: ExactHypergradient(), concept: ColdStart(optimizer: SGD(learningRate: 5), steps: 600),
                                  outerOptimizer: SGD(learningRate: 0.5), maxOuterSteps: 5)
        guard case .failure(let g) = try MethodRuns.solve(inner, method: "exact") else { Issue.record("inner rate 5 did not fail"); return }
        #expect(g.step == 1 && g.message.contains("lower the inner learning rate") && !g.message.contains("outer"), "\(g)")
    }

    @Test func libraryMessagesAreSplitIntoStepAndAdvice() {
        let f = MethodRuns.failure(BilevelError("outer step 12: λ became non-finite; lower the outer learning rate (now 9)"), method: "cg K=2", completedSteps: 3)
        #expect(f == MethodFailure(method: "cg K=2", step: 12, message: "λ became non-finite; lower the outer learning rate (now 9)"))
        let g = MethodRuns.failure(BilevelError("neumann: the series became non-finite at term 3; lower the step α (now 2)"), method: "neumann K=5", completedSteps: nil)
        #expect(g.step == nil && g.reason == "failed: neumann: the series became non-finite at term 3; lower the step α (now 2)")
        #expect(g.tableRow(columns: 4) == ["neumann K=5", "failed", "—", "—"])
    }

    /// two-points with an outer rate at which the exact hypergradient diverges and Neumann K = 1, 2 do not.
    @Test func twoPointsKeepsTheMethodsThatConverge() throws {
        let c = CapturedConsole()
        let out = freshFolder()
        let status = DemoCLI.run(["two-points", "--quick", "--outer-lr", "0.5", "--neumann", "1,2", "--out", out.path], console: c.console())
        #expect(status == 0, "\(c.err)")
        let result = try readResult(out)
        let failures = try #require(result["failures"] as? [[String: Any]])
        #expect(failures.count == 1 && failures[0]["method"] as? String == "exact", "\(failures)")
        #expect((number(failures[0]["failed_at_outer_step"]) ?? 0) > 0)
        #expect((failures[0]["error"] as? String)?.contains("lower the outer learning rate") == true)
        #expect(try runs(result).map { number($0["K"]) } == [1, 2])
        for f in ["trajectories.svg", "trajectory_neumann_K1.csv", "trajectory_neumann_K2.csv"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), "\(f) missing")
        }
        #expect(c.out.contains("exact failed at outer step") && c.out.contains("exact        failed (step"), "\(c.out)")
    }

    /// anti-distillation with a Neumann step above 2/λ_max: Neumann is recorded as failed (what to change), the
    /// other methods still run and are written.
    @Test func antiDistillationRecordsADivergingNeumannSeries() throws {
        let out = freshFolder()
        let c = CapturedConsole()
        let status = DemoCLI.run(["anti-distillation", "--quick", "--inner-lr", "1", "--methods", "exact,neumann:10,cg:2",
                                  "--k-grid", "1", "--eta-grid", "0.1", "--outer-steps", "50", "--out", out.path], console: c.console())
        #expect(status == 0, "\(c.err)")
        let rows = try runs(readResult(out))
        let neumann = try #require(rows.first { $0["method"] as? String == "neumann" })
        #expect((neumann["failure"] as? String)?.contains("use a step below") == true, "\(neumann)")
        let exact = try #require(rows.first { $0["method"] as? String == "exact" })
        #expect((exact["failure"] == nil || exact["failure"] is NSNull) && number(exact["lambda_norm"]) != nil)
        #expect(c.out.contains("neumann K=10: failed at outer step "), "\(c.out)")
    }
}
