import Foundation
import Testing
@testable import Demos

@Suite("two-points and kaczmarz demos")
struct TwoPointsAndKaczmarzTests {
    /// Every method ends on the line of valid outer solutions; exact ends at the point closest to λ₀
    /// (closed form computed here independently), Neumann K = 1 elsewhere.
    @Test func methodsEndAtDifferentPointsOfTheSolutionLine() throws {
        let (status, out) = runDemo(["two-points", "--quick"])
        #expect(status == 0)
        let all = try runs(try readResult(out))
        // Defaults: x = 0.5, 2; original (3, 2); λ₀ = 0. Fit through (0.5, λ₁), (2, λ₂) at x = 3: −(2/3)λ₁ + (5/3)λ₂ = 2.
        let r = [-2.0 / 3, 5.0 / 3], y = 2.0
        let closest = r.map { $0 * y / (r[0] * r[0] + r[1] * r[1]) }
        for run in all {
            let f = try #require(run["final"] as? [Double])
            #expect(abs(r[0] * f[0] + r[1] * f[1] - y) < 1e-8, "\(run["method"]!) K=\(run["K"]!) is not on the line")
            #expect((run["trajectory"] as? [[Double]])?.count ?? 0 > 2)
        }
        let exact = try #require(all.first { $0["method"] as? String == "exact" }?["final"] as? [Double])
        #expect(hypot(exact[0] - closest[0], exact[1] - closest[1]) < 1e-8)
        let n1 = try #require(all.first { $0["method"] as? String == "neumann" && number($0["K"]) == 1 }?["final"] as? [Double])
        #expect(hypot(n1[0] - closest[0], n1[1] - closest[1]) > 0.1)
    }

    @Test func warmStartResidualsVanishWhileColdStartsDoNot() throws {
        let (status, out) = runDemo(["kaczmarz", "--quick"])
        #expect(status == 0)
        let result = try readResult(out)
        let warm = try #require((result["warm"] as? [String: Any])?["final_residuals"] as? [Double])
        let cold = try #require((result["cold"] as? [String: Any])?["final_residuals"] as? [Double])
        #expect(warm.max()! < 1e-6, "warm residuals \(warm)")
        #expect(cold.max()! > 0.1, "cold residuals \(cold)")
        #expect(cold.last! < 1e-9, "cold start fits the datapoint it saw last")
    }
}
