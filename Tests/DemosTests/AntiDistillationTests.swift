import Foundation
import Testing
@testable import Demos

@Suite("anti-distillation demo")
struct AntiDistillationTests {
    @Test func exactGivesTheSmallestLambdaNormAndNeumannOneALargerOne() throws {
        let (status, out) = runDemo(["anti-distillation", "--quick"])
        #expect(status == 0)
        let result = try readResult(out)
        let all = try runs(result)
        for r in all where r["failure"] == nil {
            for key in ["method", "K", "eta", "lambda", "w", "lambda_norm", "w_norm", "outer_loss"] { #expect(r.keys.contains(key), "missing \(key)") }
            #expect(number(r["outer_loss"])! < 1e-12, "\(r["method"]!) did not fit the original point")
        }
        let exact = try #require(all.first { $0["method"] as? String == "exact" })
        let n1 = try #require(all.first { $0["method"] as? String == "neumann" && number($0["K"]) == 1 })
        let exactNorm = number(exact["lambda_norm"])!
        for r in all where r["failure"] == nil && r["method"] as? String != "exact" {
            #expect(number(r["lambda_norm"])! > exactNorm + 1e-6, "\(r["method"]!) K=\(r["K"]!) η=\(r["eta"]!)")
        }
        #expect(number(n1["lambda_norm"])! > 2 * exactNorm)
        // Exact: the minimum-norm outer solution when λ₀ = 0, hence also the smallest ‖λ‖ in the whole grid.
        let grid = try runs(result, key: "grid").compactMap { number($0["lambda_norm"]) }
        #expect(grid.min()! >= exactNorm - 1e-9)
        for f in ["points_and_fits.svg", "norms_vs_K.svg", "norms_vs_eta.svg", "fits.csv", "norms_vs_K.csv"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), "missing \(f)")
        }
    }

    @Test func exactMovesOnlyThePointAtTheOriginalX() throws {
        // The original x equals the 7th learned x (0): only that target moves under the exact hypergradient.
        let (status, out) = runDemo(["anti-distillation", "--quick", "--original", "0:1", "--methods", "exact,neumann:5",
                                     "--k-grid", "1", "--eta-grid", "1"])
        #expect(status == 0)
        let all = try runs(try readResult(out))
        let exact = try #require(all.first { $0["method"] as? String == "exact" }?["lambda"] as? [Double])
        for (i, v) in exact.enumerated() { #expect(abs(v - (i == 6 ? 1 : 0)) < 1e-8, "λ[\(i)] = \(v)") }
        let neumann = try #require(all.first { $0["method"] as? String == "neumann" }?["lambda"] as? [Double])
        #expect(neumann.filter { abs($0) > 1e-3 }.count > 3, "Neumann moves many points")
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
