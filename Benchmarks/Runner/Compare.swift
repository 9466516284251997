import Foundation

/// `Benchmarks --report OURS.json --peers PEERS.json`: one side-by-side table of our numbers and the peer
/// harness's (../shared/peers/hvp_bench.py), per workload: µs per HVP and per gradient, the ratios peer ÷ ours
/// (> 1: we are faster), and the first-call cost (JAX traces and compiles per function and shape; we do not).
enum PeerReport {
    /// Our workload names → the harness's.
    static let names = ["tiny-mlp": "tiny", "paper-mlp": "paper", "mnist-mlp": "mnist", "large-mlp": "large", "fourier": "fourier"]

    static func run(ours oursPath: String, peers peersPath: String) throws -> String {
        guard let o = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: oursPath))) as? [String: Any],
              let ours = o["workloads"] as? [[String: Any]] else { throw ReportError("\(oursPath): not a Benchmarks --json file") }
        guard let p = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: peersPath))) as? [String: Any],
              let peers = p["results"] as? [[String: Any]] else { throw ReportError("\(peersPath): not an hvp_bench.py --json file") }
        let threads = peers.compactMap { $0["threads"] as? Int }.max() ?? 1
        func best(_ workload: String, peers names: Set<String>, hvp: Bool) -> (seconds: Double, mode: String, compile: Double)? {
            let rows = peers.filter { r in
                guard let peer = r["peer"] as? String, let mode = r["mode"] as? String else { return false }
                return names.contains(peer) && r["workload"] as? String == workload && r["dtype"] as? String == "float64"
                    && r["threads"] as? Int == threads && (hvp ? mode.hasPrefix("hvp") : mode == "grad")
            }
            guard let b = rows.min(by: { ($0["median_s"] as? Double ?? .infinity) < ($1["median_s"] as? Double ?? .infinity) }),
                  let s = b["median_s"] as? Double else { return nil }
            return (s, "\(b["peer"]!)/\(b["mode"]!)", b["compile_s"] as? Double ?? .nan)
        }
        func f(_ x: Double) -> String { x >= 1000 ? String(format: "%.0f", x) : x >= 10 ? String(format: "%.1f", x) : String(format: "%.2f", x) }
        var out = "Float64, peers with \(threads) thread(s) (both cores), ours as measured (large products on both cores).\n\n"
        out += "| workload | ours µs/HVP | JAX µs/HVP | PyTorch µs/HVP | JAX ÷ ours | PyTorch ÷ ours | ours µs/grad | JAX µs/grad | PyTorch µs/grad | JAX ÷ ours (grad) | PyTorch ÷ ours (grad) | first call: ours ms / JAX s |\n"
        out += "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        for w in ours {
            guard let name = w["name"] as? String, let peer = names[name], let hvp = w["hvp_us"] as? Double, let grad = w["grad_us"] as? Double else { continue }
            let jh = best(peer, peers: ["jax", "jax_sync"], hvp: true), th = best(peer, peers: ["torch"], hvp: true)
            let jg = best(peer, peers: ["jax", "jax_sync"], hvp: false), tg = best(peer, peers: ["torch"], hvp: false)
            func us(_ r: (seconds: Double, mode: String, compile: Double)?) -> String { r.map { f($0.seconds * 1e6) } ?? "—" }
            func ratio(_ r: (seconds: Double, mode: String, compile: Double)?, _ ours: Double) -> String { r.map { f($0.seconds * 1e6 / ours) + "×" } ?? "—" }
            let first = (w["first_call_hvp_us"] as? Double ?? .nan) / 1000
            out += "| \(name) | \(f(hvp)) | \(us(jh)) | \(us(th)) | \(ratio(jh, hvp)) | \(ratio(th, hvp)) | \(f(grad)) | \(us(jg)) | \(us(tg)) | \(ratio(jg, grad)) | \(ratio(tg, grad)) | \(f(first)) ms / \(jh.map { String(format: "%.2f", $0.compile) } ?? "—") s |\n"
        }
        out += "\nJAX: the faster of async and sync dispatch and of forward-over-reverse and reverse-over-reverse; PyTorch: the fastest of torch.func, autograd.functional and double backward.\n"
        if let v = p["meta"] { out += "peer versions: \(v)\n" }
        return out
    }

    struct ReportError: Error, CustomStringConvertible { var description: String; init(_ d: String) { description = d } }
}
