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
        let settings = try #require(r["settings"] as? [String: Any])
        for key in ["condition", "iterations", "k0", "noise_convention", "noise_scale", "quick", "seed"] { #expect(settings[key] != nil, "settings lack \(key)") }
        for key in ["horizons", "greedy_loss", "optimal_loss", "curvatures", "noise"] { #expect(sph[key] != nil && ill[key] != nil, "missing \(key)") }
        for f in ["loss_vs_horizon.svg", "schedules.svg", "meta_schedules.svg", "schedules.csv", "meta_learned.csv"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), "missing \(f)")
        }
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
            #expect(number(run["neumann_closed_form_max_relative_deviation"])! < 1e-12)
            #expect(number(run["unrolled_vs_neumann_max_relative_deviation"])! < 1e-12)
            let n = try #require(run["neumann"] as? [Double]), d = try #require(run["damped"] as? [Double])
            // Both cut low curvature at about αK = 1/η (μ_min ≪ η) and agree with 1/μ at μ = 1 ≫ η within a factor 2.
            #expect(abs(n.first! / d.first! - 1) < 0.05)
            #expect(n.last! > 0.5 && d.last! > 0.5)
        }
    }

    @Test func sameFlagsGiveByteIdenticalFiles() throws {
        for args in [["spectral-filter", "--quick"], ["short-horizon", "--quick", "--horizons", "1,10", "--meta-horizons", "10,30", "--iterations", "50"]] {
            let a = runDemo(args), b = runDemo(args)
            #expect(a.status == 0 && b.status == 0)
            let files = try FileManager.default.contentsOfDirectory(atPath: a.out.path).sorted()
            #expect(files == (try FileManager.default.contentsOfDirectory(atPath: b.out.path).sorted()))
            for f in files {
                #expect(try Data(contentsOf: a.out.appendingPathComponent(f)) == (try Data(contentsOf: b.out.appendingPathComponent(f))), "\(args[0]): \(f) differs")
            }
        }
    }
}
