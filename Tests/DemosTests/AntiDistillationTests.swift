import Foundation
import Testing
@testable import Demos

@Suite("anti-distillation demo")
struct AntiDistillationTests {
    @Test func exactGivesTheSmallestLambdaNormAndNeumannOneALargerOne() throws {
        let (status, out) = runDemo(["anti-distillation", "--quick"])
        #expect(status == 0)
        let result = try readResult(out)
        #expect(((result["settings"] as? [String: Any])?["outer_optimizer"] as? String) == "sgd")
        let all = try runs(result)
        for r in all where r["failure"] is NSNull {
            for key in ["method", "K", "eta", "lambda", "w", "lambda_norm", "w_norm", "outer_loss"] { #expect(r.keys.contains(key), "missing \(key)") }
            #expect(number(r["outer_loss"])! < 1e-12, "\(r["method"]!) did not fit the original point")
        }
        let exact = try #require(all.first { $0["method"] as? String == "exact" })
        let n1 = try #require(all.first { $0["method"] as? String == "neumann" && number($0["K"]) == 1 })
        let exactNorm = number(exact["lambda_norm"])!
        // Every truncated method ends on a larger ‖λ‖ — except CG with K ≥ 10, which is exact here (tested below).
        for r in all where r["failure"] is NSNull && r["method"] as? String != "exact" {
            if r["method"] as? String == "cg", number(r["K"])! >= 10 {
                #expect(abs(number(r["lambda_norm"])! - exactNorm) < 1e-8)
            } else {
                #expect(number(r["lambda_norm"])! > exactNorm + 1e-6, "\(r["method"]!) K=\(r["K"]!) η=\(r["eta"]!)")
            }
        }
        #expect(number(n1["lambda_norm"])! > 2 * exactNorm)
        // Exact: the minimum-norm outer solution when λ₀ = 0, hence also the smallest ‖λ‖ in the whole grid.
        let grid = try runs(result, key: "grid").compactMap { number($0["lambda_norm"]) }
        #expect(grid.min()! >= exactNorm - 1e-9)
        for f in ["points_and_fits.svg", "norms_vs_K.svg", "cg_vs_K.svg", "norms_vs_eta.svg", "outer_dynamics.svg", "fits.csv", "norms_vs_K.csv", "summary.md"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), "missing \(f)")
        }
    }

    /// The default puts the original point on the middle learned point (x = 0): exact moves only that target, to y = 1
    /// (λ = e₇, the minimum-norm outer solution); Neumann moves many.
    @Test func exactMovesOnlyThePointAtTheOriginalX() throws {
        let (status, out) = runDemo(["anti-distillation", "--quick", "--methods", "exact,neumann:5", "--k-grid", "1", "--cg-grid", "1", "--eta-grid", "1"])
        #expect(status == 0)
        let result = try readResult(out)
        let settings = try #require(result["settings"] as? [String: Any])
        #expect((settings["learned_x"] as? [Double])?[6] == 0 && (settings["original"] as? [[Double]])?.first == [0, 1])
        let all = try runs(result)
        let exact = try #require(all.first { $0["method"] as? String == "exact" }?["lambda"] as? [Double])
        for (i, v) in exact.enumerated() { #expect(abs(v - (i == 6 ? 1 : 0)) < 1e-8, "λ[\(i)] = \(v)") }
        let neumann = try #require(all.first { $0["method"] as? String == "neumann" }?["lambda"] as? [Double])
        #expect(neumann.filter { abs($0) > 1e-3 }.count > 3, "Neumann moves many points")
    }

    /// PRIMER section 2: CG is exact after rank(H) iterations when ∂J_out/∂w lies in range(H) (on the grid). Here
    /// rank(H) = 13 and H has 7 distinct non-zero eigenvalues; in Float64 CG reports convergence at iteration 10.
    /// CG at K = 13 (the rank) and K = 21 (the paper's "21 steps") must give the exact λ; K = 5 must not.
    @Test func cgAtTheRankGivesTheExactAnswerOnTheGrid() throws {
        let (status, out) = runDemo(["anti-distillation", "--quick", "--methods", "exact,cg:5,cg:13,cg:21", "--k-grid", "1", "--cg-grid", "5,13,21",
                                     "--eta-grid", "1"])
        #expect(status == 0)
        let all = try runs(try readResult(out))
        let exact = try #require(all.first { $0["method"] as? String == "exact" }?["lambda"] as? [Double])
        func distance(_ k: Int) throws -> Double {
            let l = try #require(all.first { $0["method"] as? String == "cg" && number($0["K"]) == Double(k) }?["lambda"] as? [Double])
            return zip(l, exact).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        }
        #expect(try distance(13) < 1e-9)
        #expect(try distance(21) < 1e-9)
        #expect(try distance(5) > 1e-2)
    }

    /// With H constant and a cold start, every method's hypergradient keeps one direction, so plain SGD at a fixed rate
    /// and the exact line search end at the same λ (the outer optimizer sets the speed, not the answer).
    @Test func sgdAndLineSearchEndAtTheSamePoint() throws {
        let args = ["anti-distillation", "--quick", "--methods", "exact,neumann:10,cg:2,damped:1", "--k-grid", "10", "--cg-grid", "2", "--eta-grid", "1"]
        let sgd = runDemo(args), auto = runDemo(args + ["--outer-lr", "auto"])
        #expect(sgd.status == 0 && auto.status == 0)
        let a = try runs(try readResult(sgd.out)), b = try runs(try readResult(auto.out))
        for (x, y) in zip(a, b) {
            let lx = try #require(x["lambda"] as? [Double]), ly = try #require(y["lambda"] as? [Double])
            #expect(zip(lx, ly).map { abs($0 - $1) }.max()! < 1e-8, "\(x["method"]!) K=\(x["K"]!)")
            #expect(number(y["outer_steps"])! <= 5 && number(x["outer_steps"])! > 50)
        }
    }

    /// A method whose ‖λ‖ passes the bound is stopped with a message and the run goes on (exit 0); the table says so.
    @Test func aDivergingMethodIsStoppedWithAMessage() throws {
        let (status, out) = runDemo(["anti-distillation", "--quick", "--methods", "exact,neumann:1,neumann:100", "--k-grid", "1", "--cg-grid", "1",
                                     "--eta-grid", "1", "--lambda-bound", "1.5"])
        #expect(status == 0)
        let all = try runs(try readResult(out))
        let n1 = try #require(all.first { $0["method"] as? String == "neumann" && number($0["K"]) == 1 })
        #expect((n1["failure"] as? String)?.contains("passed the bound") == true && n1["lambda"] is NSNull)
        let n100 = try #require(all.first { $0["method"] as? String == "neumann" && number($0["K"]) == 100 })
        #expect(n100["failure"] is NSNull && number(n100["lambda_norm"])! < 1.5)
        let summary = try String(contentsOf: out.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(summary.contains("| neumann K=1 | — | — | — |") && summary.contains("stopped: diverging"))
    }

    /// Fig. 18 settings in small: the MLP's inner solution is not stationary and the table reports ‖∂J_in/∂w‖ > 0 for
    /// every method that ran; no method ends above the divergence bound.
    @Test func mlpRunReportsInnerStationarity() throws {
        let (status, out) = runDemo(["anti-distillation", "--model", "mlp", "--quick", "--methods", "exact,neumann:10,cg:10,damped:0.01",
                                     "--k-grid", "10", "--cg-grid", "10", "--eta-grid", "0.01", "--outer-steps", "5"])
        #expect(status == 0)
        let result = try readResult(out)
        let settings = try #require(result["settings"] as? [String: Any])
        #expect(number(settings["inner_lr"]) == 0.01)
        let bound = try #require(number(settings["lambda_bound"]))
        for r in try runs(result) where r["failure"] is NSNull {
            #expect(number(r["inner_gradient_norm"])! > 0)
            #expect(number(r["lambda_norm"])! <= bound)
        }
    }

    @Test func sameFlagsGiveByteIdenticalResults() throws {
        let a = runDemo(["anti-distillation", "--quick", "--k-grid", "1,10", "--eta-grid", "0.1"])
        let b = runDemo(["anti-distillation", "--quick", "--k-grid", "1,10", "--eta-grid", "0.1"])
        #expect(a.status == 0 && b.status == 0)
        let da = try Data(contentsOf: a.out.appendingPathComponent("result.json"))
        let db = try Data(contentsOf: b.out.appendingPathComponent("result.json"))
        #expect(da == db)
    }

    @Test func badFlagsExitWithStatusTwo() {
        #expect(runDemo(["anti-distillation", "--methods", "neumann:abc"]).status == 2)
        #expect(runDemo(["anti-distillation", "--frequencies", "-3"]).status == 2)
        #expect(runDemo(["anti-distillation", "--nonsense"]).status == 2)
        #expect(runDemo(["anti-distillation", "--amplitudes", "exp:2"]).status == 2)
        #expect(runDemo(["no-such-demo"]).status == 2)
        #expect(DemoCLI.run(["anti-distillation", "--quick", "--out", "/proc/cannot-write-here"]) == 2)
    }
}
