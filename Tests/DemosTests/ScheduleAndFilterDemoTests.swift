import Foundation
import Testing
import Tape
import Bilevel
@testable import Demos

@Suite("short-horizon and spectral-filter demos")
struct ScheduleAndFilterDemoTests {
    @Test func greedyIsOptimalWhenSphericalAndBiasedWhenIllConditioned() throws {
        let (status, out) = runDemo(["short-horizon", "--quick"])
        #expect(status == 0)
        let r = try readResult(out)
        let sph = try #require(r["spherical"] as? [String: Any]), ill = try #require(r["ill_conditioned"] as? [String: Any])
        let sg = try #require(sph["greedy_loss"] as? [Double]), so = try #require(sph["optimal_loss"] as? [Double])
        for (g, o) in zip(sg, so) { #expect(abs(g - o) <= 1e-6 * o, "spherical: greedy \(g) vs optimal \(o)") }
        let ig = try #require(ill["greedy_loss"] as? [Double]), io = try #require(ill["optimal_loss"] as? [Double])
        #expect(ig.last! > 1.2 * io.last!, "ill-conditioned, longest horizon: greedy \(ig.last!) vs optimal \(io.last!)")
        let meta = try #require(r["meta_learned"] as? [[String: Any]])
        let betas = meta.map { number($0["beta"])! }
        #expect(zip(betas, betas.dropFirst()).allSatisfy { $0 > $1 }, "shorter horizons must decay faster: β = \(betas)")
    }

    /// The greedy rate has a closed form on the spherical problem: α = m/(m + c) with m' = (1 − α)² m + α² c.
    @Test func greedyScheduleMatchesTheSphericalClosedForm() {
        let nqm = NoisyQuadratic.spherical(dimensions: 3, noise: 0.2)
        var m = 1.0
        for a in nqm.greedySchedule(steps: 20) {
            #expect(abs(a - m / (m + 0.2)) < 1e-14)
            m = (1 - a) * (1 - a) * m + a * a * 0.2
        }
        #expect(abs(nqm.loss(after: nqm.greedySchedule(steps: 20)) - 1.5 * m) < 1e-14)
    }

    @Test func spectralFilterDemoWritesTheFiltersAndMatchesTheClosedForm() throws {
        let (status, out) = runDemo(["spectral-filter", "--quick"])
        #expect(status == 0)
        let r = try readResult(out)
        for run in try runs(r) {
            #expect(number(run["neumann_closed_form_max_relative_deviation"])! < 1e-10)
            let n = try #require(run["neumann"] as? [Double]), d = try #require(run["damped"] as? [Double])
            // Both cut low curvature at about αK = 1/η (μ_min ≪ η) and agree with 1/μ at μ = 1 ≫ η within a factor 2.
            #expect(abs(n.first! / d.first! - 1) < 0.05)
            #expect(n.last! > 0.5 && d.last! > 0.5)
        }
    }
}
