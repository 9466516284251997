import Foundation
import Testing
import Tape
import Bilevel
@testable import Demos

@Suite("short-horizon and spectral-filter demos")
struct ScheduleAndFilterDemoTests {
    @Test func claimsHoldWhereTheLectureSaysAndSchedulesStayStable() throws {
        let (status, out) = runDemo(["short-horizon", "--quick"])
        #expect(status == 0)
        let r = try readResult(out)
        let claims = try #require(r["claims"] as? [[String: Any]])
        func verdict(_ prefix: String) -> String? { claims.first { ($0["claim"] as? String)?.hasPrefix(prefix) == true }?["verdict"] as? String }
        #expect(verdict("Spherical problem (SGD, noisy)")?.hasPrefix("holds") == true)
        #expect(verdict("Without noise greedy is optimal even when ill-conditioned (momentum; steps not limited")?.hasPrefix("holds") == true)
        #expect(verdict("Without noise greedy is optimal even when ill-conditioned (plain SGD; steps not limited")?.hasPrefix("does not hold") == true)
        #expect(verdict("Ill-conditioned and noisy (SGD)")?.hasPrefix("holds") == true)
        #expect(verdict("Ill-conditioned and noisy (momentum)")?.hasPrefix("holds") == true)
        let perStep = try #require(r["per_step"] as? [[String: Any]])
        for s in perStep {
            // Every greedy step is inside the stable region (rate ≤ limit) and "searched" is what the search found:
            // for the spherical problem it is never below greedy by more than rounding.
            for ratio in try #require(s["greedy_max_rate_over_limit"] as? [Double]) { #expect(ratio <= 1 + 1e-12) }
            if (s["key"] as? String) == "sgd_spherical_noisy" {
                let g = try #require(s["greedy_loss"] as? [Double]), f = try #require(s["searched_loss"] as? [Double])
                for (a, b) in zip(g, f) { #expect(b >= a * (1 - 1e-9)) }
            }
        }
        let schedules = try String(contentsOf: out.appendingPathComponent("schedules.csv"), encoding: .utf8)
        let header = schedules.split(separator: "\n")[0].split(separator: ",").map(String.init)
        let col = try #require(header.firstIndex(of: "searched_rate_sgd_ill_noisy"))
        for line in schedules.split(separator: "\n").dropFirst() {
            let v = Double(line.split(separator: ",", omittingEmptySubsequences: false)[col])!
            #expect(v > 0 && v < 2, "searched SGD rate \(v) outside (0, 2/h_max)")
        }
        for f in ["greedy_vs_searched.svg", "schedules.svg", "offline_schedules.svg", "claims.md", "offline_schedules.csv"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), "missing \(f)")
        }
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
        for args in [["spectral-filter", "--quick"], ["short-horizon", "--quick", "--horizons", "1,10", "--offline-horizons", "10,30", "--constant-horizons", "10", "--iterations", "50", "--offline-iterations", "20"]] {
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
