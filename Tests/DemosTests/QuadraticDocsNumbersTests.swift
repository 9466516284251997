import Foundation
import Testing
@testable import Demos

/// The numbers quoted in docs/demos/{anti-distillation,short-horizon}.md come from full runs that
/// tools/regenerate-docs.sh splices in. Each test reruns a cheap slice of the same settings (the full settings,
/// fewer grid points or horizons: every method and horizon is computed independently, so the slice's numbers are
/// the full run's) and checks the quoted rows against it: docs that went stale fail here.
@Suite("quadratic demos: numbers quoted in the docs")
struct QuadraticDocsNumbersTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The text between `<!-- BEGIN GENERATED id -->` and `<!-- END GENERATED id -->` in a docs page.
    static func generated(_ page: String, _ id: String) throws -> String {
        let text = try String(contentsOf: root.appendingPathComponent("docs/demos/\(page)"), encoding: .utf8)
        let begin = try #require(text.range(of: "<!-- BEGIN GENERATED \(id) -->"), "\(page): no block \(id)")
        let end = try #require(text.range(of: "<!-- END GENERATED \(id) -->"), "\(page): no end of block \(id)")
        return String(text[begin.upperBound..<end.lowerBound])
    }

    /// Table rows "| a | b | … |" keyed by their first cell.
    static func rows(_ markdown: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in markdown.split(separator: "\n") where line.hasPrefix("| ") && !line.hasPrefix("|---") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.count > 2 { out[cells[1]] = String(line) }
        }
        return out
    }

    @Test func antiDistillationTableMatchesAFreshRun() throws {
        let (status, out) = runDemo(["anti-distillation", "--methods", "exact,neumann:10,cg:21,damped:1", "--k-grid", "10", "--cg-grid", "21",
                                     "--eta-grid", "1"])
        #expect(status == 0)
        let fresh = Self.rows(try String(contentsOf: out.appendingPathComponent("summary.md"), encoding: .utf8))
        let docs = Self.rows(try Self.generated("anti-distillation.md", "ad-default"))
        #expect(fresh.count == 5)   // header + 4 methods
        for (method, row) in fresh where method != "method" {
            #expect(docs[method] == row, "docs: \(docs[method] ?? "missing"), fresh run: \(row)")
        }
    }

    @Test func shortHorizonClaimsMatchAFreshRun() throws {
        let (status, out) = runDemo(["short-horizon", "--horizons", "10", "--offline-horizons", "100", "--constant-horizons", "10,100,1000,5000,20000"])
        #expect(status == 0)
        let claims = try String(contentsOf: out.appendingPathComponent("claims.md"), encoding: .utf8)
        let docs = Self.rows(try Self.generated("short-horizon.md", "short-horizon claims.md"))
        var checked = 0
        for (claim, row) in Self.rows(claims) where claim != "lecture's statement" {
            let quoted = try #require(docs[claim], "docs lack the claim '\(claim)'")
            if claim.hasPrefix("The best constant rate") {
                #expect(quoted == row)
                checked += 1
            } else if row.contains("| greedy ÷ "), let r = row.range(of: "T = 10: ") {
                // The number at T = 10, up to the next comma or cell border.
                let value = row[r.upperBound...].prefix { $0 != "," && $0 != " " && $0 != "|" }
                #expect(quoted.contains("T = 10: \(value)"), "claim '\(claim)': docs \(quoted), fresh T = 10: \(value)")
                checked += 1
            }
        }
        #expect(checked >= 7)
    }
}
