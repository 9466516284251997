import Foundation

/// The hypergradient half of `Benchmarks --report DIR`: rounds of `ours-W-R.json` / `after-W-R.json` (this
/// executable's hypergradient entries) around `peers-W-R.json` (Benchmarks/peers/hypergradient_bench.py) for the
/// hypergradient workloads W. Per workload: our median, each peer's fastest variant that passed the check
/// against our result, the paired ratios peer ÷ ours with their range, and the physical limit (FLOPs ÷ the
/// FMA peak compare.sh measured).
enum HypergradientReport {
    struct Round {
        var ours: Double, limit: Double?, flops: Double, single: Double?
        /// fourier-exact: the dense Hessian's speed-up over the column-by-column one (fresh HVPs), this round.
        var denseHessianSpeedup: Double?
        var jax: PeerReport.Peer?, torch: PeerReport.Peer?
        var worstCheck: Double
    }

    static func table(directory: String, summary: inout [[String: Any]]) throws -> String? {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        var rounds: [String: [Round]] = [:]
        var failures: [String] = []
        for file in files.sorted() where file.hasPrefix("ours-") && file.hasSuffix(".json") {
            let key = String(file.dropFirst("ours-".count).dropLast(".json".count))
            let peersFile = "\(directory)/peers-\(key).json"
            guard FileManager.default.fileExists(atPath: peersFile) else { continue }
            let ours = try PeerReport.load("\(directory)/\(file)")
            guard let entries = ours["hypergradients"] as? [[String: Any]], !entries.isEmpty else { continue }
            let results = try PeerReport.load(peersFile)["results"] as? [[String: Any]] ?? []
            let afterFile = "\(directory)/after-\(key).json"
            let after = FileManager.default.fileExists(atPath: afterFile)
                ? (try PeerReport.load(afterFile))["hypergradients"] as? [[String: Any]] ?? [] : []
            for e in entries {
                guard let name = e["name"] as? String, let before = e["us"] as? Double else { continue }
                let a = after.first { $0["name"] as? String == name }?["us"] as? Double
                let rows = results.filter { $0["workload"] as? String == name }
                for r in rows where r["check_passed"] as? Bool != true {
                    failures.append("\(name) \(r["peer"] ?? "?")/\(r["mode"] ?? "?"): relative difference \(r["check_rel_err"] ?? "?")")
                }
                rounds[name, default: []].append(Round(
                    ours: a.map { (before * $0).squareRoot() } ?? before, limit: e["limit_us"] as? Double,
                    flops: e["flops"] as? Double ?? .nan, single: e["single_hvp_us"] as? Double,
                    denseHessianSpeedup: (e["dense_hessian_columns_us"] as? Double).flatMap { old in
                        (e["dense_hessian_us"] as? Double).map { old / $0 } },
                    jax: best(rows, ["jax", "jax_sync"]), torch: best(rows, ["torch"]),
                    worstCheck: rows.compactMap { $0["check_rel_err"] as? Double }.max() ?? .nan))
            }
        }
        guard !rounds.isEmpty else { return nil }
        let f = PeerReport.f, median = PeerReport.median
        var out = "Hypergradients: each workload one call (a whole hypergradient, or 16 HVPs at one point); medians over "
        out += "\(rounds.values.map(\.count).max()!) rounds, ours the geometric mean of the runs before and after the peers.\n"
        out += "Every peer variant's result was checked against ours (relative difference ≤ 1e-10) before it was timed.\n\n"
        out += "| workload | ours µs | JAX µs (variant) | PyTorch µs (variant) | JAX ÷ ours | PyTorch ÷ ours | GFLOP (least work) | limit µs (FLOPs ÷ FMA peak) | limit ÷ ours | largest check difference |\n"
        out += "|---|---|---|---|---|---|---|---|---|---|\n"
        for name in HypergradientWorkload.order {
            guard let rs = rounds[name] else { continue }
            func peer(_ p: (Round) -> PeerReport.Peer?) -> String {
                let s = rs.compactMap { p($0)?.seconds }
                guard !s.isEmpty else { return "—" }
                let modes = Set(rs.compactMap { p($0)?.mode }).sorted().joined(separator: ", ")
                return "\(f(median(s) * 1e6)) (\(modes))"
            }
            func ratio(_ p: (Round) -> PeerReport.Peer?) -> String {
                let r = rs.compactMap { round in p(round).map { $0.seconds * 1e6 / round.ours } }
                guard !r.isEmpty else { return "—" }
                return r.count == 1 ? f(r[0]) + "×" : "\(f(median(r)))× [\(f(r.min()!))–\(f(r.max()!))]"
            }
            let ours = median(rs.map(\.ours))
            let limits = rs.compactMap(\.limit)
            let limit = limits.isEmpty ? "—" : f(median(limits))
            let fraction = limits.isEmpty ? "—" : String(format: "%.2f", median(limits) / ours)
            var oursCell = f(ours)
            let singles = rs.compactMap(\.single)
            if !singles.isEmpty { oursCell += " (\(f(ours / 16)) per direction; single HVP \(f(median(singles))))" }
            let speedups = rs.compactMap(\.denseHessianSpeedup)
            if !speedups.isEmpty {
                oursCell += " (dense Hessian \(f(median(speedups)))× [\(f(speedups.min()!))–\(f(speedups.max()!))] faster than by fresh HVPs)"
            }
            out += "| \(name) | \(oursCell) | \(peer { $0.jax }) | \(peer { $0.torch }) | \(ratio { $0.jax }) | \(ratio { $0.torch }) "
            out += "| \(String(format: "%.3f", rs[0].flops / 1e9)) | \(limit) | \(fraction) | \(String(format: "%.1e", rs.map(\.worstCheck).max()!)) |\n"
            func peerMedian(_ p: (Round) -> PeerReport.Peer?) -> Any { let s = rs.compactMap { p($0)?.seconds }; return s.isEmpty ? NSNull() : median(s) * 1e6 }
            summary.append(["workload": name, "ours_us": ours, "jax_us": peerMedian { $0.jax }, "torch_us": peerMedian { $0.torch }])
        }
        if !failures.isEmpty {
            out += "\nVariants that FAILED the check (not timed, not in the table):\n" + failures.map { "- " + $0 }.joined(separator: "\n") + "\n"
        }
        return out
    }

    /// The fastest variant of `peers` that passed the check, on the most threads measured.
    static func best(_ rows: [[String: Any]], _ peers: Set<String>) -> PeerReport.Peer? {
        let threads = rows.compactMap { $0["threads"] as? Int }.max() ?? 1
        let ok = rows.filter { r in
            peers.contains(r["peer"] as? String ?? "") && r["threads"] as? Int == threads && r["check_passed"] as? Bool == true
        }
        guard let b = ok.min(by: { ($0["median_s"] as? Double ?? .infinity) < ($1["median_s"] as? Double ?? .infinity) }),
              let s = b["median_s"] as? Double else { return nil }
        return PeerReport.Peer(seconds: s, mode: "\(b["peer"]!)/\(b["mode"]!)", compile: b["compile_s"] as? Double ?? .nan)
    }
}
