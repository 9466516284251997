import Foundation

/// `Benchmarks --report DIR`: the side-by-side table of the rounds `compare.sh` wrote to DIR
/// (`ours-W-R.json` and `after-W-R.json` from this executable, before and after `peers-W-R.json` from
/// ../shared/peers/hvp_bench.py, for workload W and round R). Per workload: our median µs per HVP and per gradient, each peer's best
/// variant, and the ratios peer ÷ ours (> 1: we are faster) as the median of the per-round ratios
/// with their range — each round measured both within seconds, so the ratio is steadier than either
/// time on a machine whose speed drifts. Also the first-call cost (JAX traces and compiles per
/// function and shape; we compile nothing at run time).
enum PeerReport {
    /// Our workload names → the harness's.
    static let names = ["tiny-mlp": "tiny", "paper-mlp": "paper", "mnist-mlp": "mnist", "large-mlp": "large", "fourier": "fourier"]

    /// One round of one workload: our numbers and the best peer rows.
    struct Round {
        /// µs of our HVP alone (what the peers return), with the gradient too (nil in rounds saved
        /// before the products-only form), and of the gradient.
        var hvp: Double, hvpWithGradient: Double?, grad: Double, firstCall: Double
        var jax: Peer?, torch: Peer?, jaxGrad: Peer?, torchGrad: Peer?
    }
    struct Peer { var seconds: Double, mode: String, compile: Double }

    /// Both tables (single HVPs, hypergradients) of the rounds in `directory`, and DIR/report.json: one
    /// {"workload", "ours_us", "jax_us", "torch_us"} (medians over the rounds; null where a peer has none) per
    /// workload of either table.
    static func run(directory: String) throws -> String {
        var summary: [[String: Any]] = []
        let hvp = try hvpTable(directory: directory, summary: &summary)
        let hypergradients = try HypergradientReport.table(directory: directory, summary: &summary)
        guard hvp != nil || hypergradients != nil else {
            throw ReportError("\(directory): no ours-W-R.json / peers-W-R.json pairs (run Benchmarks/compare.sh)")
        }
        let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: "\(directory)/report.json"), options: .atomic)
        return [hvp, hypergradients].compactMap { $0 }.joined(separator: "\n")
    }

    /// The single-HVP table, or nil when the directory holds no rounds of those workloads.
    static func hvpTable(directory: String, summary: inout [[String: Any]]) throws -> String? {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        var rounds: [String: [Round]] = [:]
        var versions: Any?
        var machine: [String: Any]?
        for file in files.sorted() where file.hasPrefix("ours-") && file.hasSuffix(".json") {
            let key = String(file.dropFirst("ours-".count).dropLast(".json".count))   // W-R
            let peersFile = "\(directory)/peers-\(key).json"
            guard FileManager.default.fileExists(atPath: peersFile) else { continue }
            let ours = try load("\(directory)/\(file)")
            machine = machine ?? ours["machine"] as? [String: Any]
            let peers = try load(peersFile)
            guard let workloads = ours["workloads"] as? [[String: Any]], let results = peers["results"] as? [[String: Any]] else {
                throw ReportError("\(key): not a pair of Benchmarks --json and hvp_bench.py --json files")
            }
            // Our run after the peers, when there is one: ours is the geometric mean of before and after.
            let afterFile = "\(directory)/after-\(key).json"
            let after = FileManager.default.fileExists(atPath: afterFile)
                ? (try load(afterFile))["workloads"] as? [[String: Any]] ?? [] : []
            func bracketed(_ w: [String: Any], _ field: String) -> Double? {
                guard let before = w[field] as? Double else { return nil }
                guard let a = after.first(where: { $0["name"] as? String == w["name"] as? String })?[field] as? Double else { return before }
                return (before * a).squareRoot()
            }
            versions = peers["meta"].flatMap { ($0 as? [String: Any])?["versions"] }
            for w in workloads {
                guard let name = w["name"] as? String, let peer = names[name],
                      let hvp = bracketed(w, "hvp_us"), let grad = bracketed(w, "grad_us") else { continue }
                rounds[name, default: []].append(Round(
                    hvp: hvp, hvpWithGradient: bracketed(w, "hvp_with_gradient_us"), grad: grad,
                    firstCall: w["first_call_hvp_us"] as? Double ?? .nan,
                    jax: best(results, peer, ["jax", "jax_sync"], hvp: true), torch: best(results, peer, ["torch"], hvp: true),
                    jaxGrad: best(results, peer, ["jax", "jax_sync"], hvp: false), torchGrad: best(results, peer, ["torch"], hvp: false)))
            }
        }
        guard !rounds.isEmpty else { return nil }
        var out = "Float64; every contender on both cores; medians over \(rounds.values.map(\.count).max()!) rounds, each round ours, the peers, ours again (ours: the geometric mean of the two).\n"
        out += "Ratios: peer ÷ ours (> 1: we are faster), median of the per-round ratios [lowest–highest].\n"
        if let machine {
            let features = (machine["features"] as? [String])?.joined(separator: " ") ?? "?"
            out += "Machine: \(machine["model"] ?? "?"), \(machine["online_cpus"] ?? "?") CPUs online, features \(features); our kernels: \(machine["kernel_path"] ?? "?").\n"
        }
        out += "\n"
        out += "| workload | ours µs/HVP | JAX µs/HVP | PyTorch µs/HVP | JAX ÷ ours | PyTorch ÷ ours | ours µs/(HVP + grad) | JAX ÷ ours (HVP + grad) | PyTorch ÷ ours (HVP + grad) | ours µs/grad | JAX µs/grad | PyTorch µs/grad | JAX ÷ ours (grad) | PyTorch ÷ ours (grad) | first call: ours ms / JAX s |\n"
        out += "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        for name in Workload.order {
            guard let rs = rounds[name] else { continue }
            func us(_ p: (Round) -> Peer?) -> String { let s = rs.compactMap { p($0)?.seconds }; return s.isEmpty ? "—" : f(median(s) * 1e6) }
            func ratio(_ p: (Round) -> Peer?, _ ours: (Round) -> Double?) -> String {
                let r = rs.compactMap { round in p(round).flatMap { peer in ours(round).map { peer.seconds * 1e6 / $0 } } }
                guard !r.isEmpty else { return "—" }
                return r.count == 1 ? f(r[0]) + "×" : "\(f(median(r)))× [\(f(r.min()!))–\(f(r.max()!))]"
            }
            let compile = rs.compactMap { $0.jax?.compile }
            let withGradient = rs.compactMap(\.hvpWithGradient)
            func peerMedian(_ p: (Round) -> Peer?) -> Any { let s = rs.compactMap { p($0)?.seconds }; return s.isEmpty ? NSNull() : median(s) * 1e6 }
            summary.append(["workload": name, "ours_us": median(rs.map(\.hvp)), "jax_us": peerMedian { $0.jax }, "torch_us": peerMedian { $0.torch }])
            out += "| \(name) | \(f(median(rs.map(\.hvp)))) | \(us { $0.jax }) | \(us { $0.torch }) | \(ratio({ $0.jax }, \.hvp)) | \(ratio({ $0.torch }, \.hvp)) "
            out += "| \(withGradient.isEmpty ? "—" : f(median(withGradient))) | \(ratio({ $0.jax }, \.hvpWithGradient)) | \(ratio({ $0.torch }, \.hvpWithGradient)) "
            out += "| \(f(median(rs.map(\.grad)))) | \(us { $0.jaxGrad }) | \(us { $0.torchGrad }) | \(ratio({ $0.jaxGrad }, \.grad)) | \(ratio({ $0.torchGrad }, \.grad)) "
            out += "| \(f(median(rs.map(\.firstCall)) / 1000)) ms / \(compile.isEmpty ? "—" : String(format: "%.2f", median(compile))) s |\n"
        }
        out += "\nJAX: the faster of async and sync dispatch and of forward-over-reverse and reverse-over-reverse; PyTorch: the fastest of torch.func, autograd.functional and double backward.\n"
        out += "Every peer variant returns H·v alone, as our HVP column does; the HVP + grad column is our form that also returns ∇f.\n"
        if let versions { out += "peer versions: \(versions)\n" }
        return out
    }

    static func load(_ path: String) throws -> [String: Any] {
        guard let d = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] else {
            throw ReportError("\(path): not a JSON object")
        }
        return d
    }

    /// The fastest float64 row of `peers` for the workload on the most threads measured.
    static func best(_ results: [[String: Any]], _ workload: String, _ peers: Set<String>, hvp: Bool) -> Peer? {
        let threads = results.compactMap { $0["threads"] as? Int }.max() ?? 1
        let rows = results.filter { r in
            guard let peer = r["peer"] as? String, let mode = r["mode"] as? String else { return false }
            return peers.contains(peer) && r["workload"] as? String == workload && r["dtype"] as? String == "float64"
                && r["threads"] as? Int == threads && (hvp ? mode.hasPrefix("hvp") : mode == "grad")
        }
        guard let b = rows.min(by: { ($0["median_s"] as? Double ?? .infinity) < ($1["median_s"] as? Double ?? .infinity) }),
              let s = b["median_s"] as? Double else { return nil }
        return Peer(seconds: s, mode: "\(b["peer"]!)/\(b["mode"]!)", compile: b["compile_s"] as? Double ?? .nan)
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? .nan : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func f(_ x: Double) -> String {
        x >= 1000 ? String(format: "%.0f", x) : x >= 10 ? String(format: "%.1f", x) : String(format: "%.2f", x)
    }

    struct ReportError: Error, CustomStringConvertible { var description: String; init(_ d: String) { description = d } }
}
