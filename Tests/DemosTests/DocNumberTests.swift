import Foundation
import Testing
@testable import Demos

/// No stale numbers: every `<!-- check: … -->` marker in docs/demos/*.md (see `DocCheck`) is held against a fresh
/// run of its command, each distinct command run once, in-process.
@Suite("docs: quoted numbers")
struct DocNumberTests {
    static let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/demos")

    static func allChecks() throws -> [DocCheck] {
        let pages = try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }.sorted()
        return try pages.flatMap { try DocCheck.parse(String(contentsOf: docs.appendingPathComponent($0), encoding: .utf8), file: "docs/demos/" + $0) }
    }

    @Test func quotedNumbersMatchAFreshRun() throws {
        let checks = try DocNumberTests.allChecks()
        // The pages that must carry markers (more may): a page losing its markers is caught here.
        for page in ["kaczmarz.md", "spectral-filter.md", "digits.md", "rings.md", "solution-concepts.md", "strongly-convex.md"] {
            #expect(checks.contains { $0.file.hasSuffix("/" + page) }, "docs/demos/\(page) has no check marker")
        }
        var commands: [[String]] = []
        for c in checks where !commands.contains(c.arguments) { commands.append(c.arguments) }
        for args in commands {
            let start = Date()
            let console = CapturedConsole()
            let out = freshFolder()
            let status = DemoCLI.run(args + ["--out", out.path], console: console.console())
            try #require(status == 0, "\(args.joined(separator: " ")) failed: \(console.err)")
            let result = try JSON.read(out.appendingPathComponent("result.json"))
            for c in checks where c.arguments == args {
                if let problem = c.mismatch(DocCheck.lookup(c.path, in: result)) { Issue.record(Comment(rawValue: problem)) }
            }
            print("docs check: \(args.joined(separator: " ")): \(checks.filter { $0.arguments == args }.count) number(s), \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
        }
    }

    @Test func markersParseAndCompare() throws {
        let page = """
            | 3 | 0.0038 | −0.30 | <!-- check: kaczmarz --quick : warm.x[2] = 0.0038; cold.y[-1] = -0.30 ± 1% -->
            <!-- check: spectral-filter : runs[1].neumann[0] = 99.51 -->
            text <!-- an ordinary comment --> more, and an example: `<!-- check: x : y = 1 -->`
            ```text
            <!-- check: in a code block : y = 1 -->
            ```
            """
        let checks = try DocCheck.parse(page, file: "p.md")
        #expect(checks.count == 3)
        #expect(checks[0].arguments == ["kaczmarz", "--quick"] && checks[0].path == "warm.x[2]" && checks[0].line == 1)
        #expect(abs(checks[0].tolerance - 5e-5) < 1e-18 && !checks[0].relative)
        #expect(checks[1].relative && abs(checks[1].tolerance - 0.01) < 1e-15)
        #expect(checks[2].line == 2 && abs(checks[2].tolerance - 0.005) < 1e-15)
        let result = try JSON.parse(#"{"warm": {"x": [0, 0, 0.00384]}, "cold": {"y": [5, -0.302]}, "runs": [{}, {"neumann": [99.5066]}]}"#)
        #expect(checks.map { $0.mismatch(DocCheck.lookup($0.path, in: result)) }.allSatisfy { $0 == nil })
        // A drifted number, a missing path, a marker beside a different number: each is caught.
        let drifted = try JSON.parse(#"{"warm": {"x": [0, 0, 0.00386]}, "cold": {"y": [-0.31]}, "runs": [{}, {"neumann": [99.52]}]}"#)
        #expect(checks.allSatisfy { $0.mismatch(DocCheck.lookup($0.path, in: drifted)) != nil })
        #expect(checks[0].mismatch(DocCheck.lookup("warm.nope[0]", in: result))?.contains("no number at") == true)
        #expect { try DocCheck.parse("| 0.0039 | <!-- check: kaczmarz : a = 0.0038 -->", file: "p.md") } throws: {
            "\($0)".contains("does not appear in the text of its line")
        }
        #expect { try DocCheck.parse("<!-- check: kaczmarz a = 1 -->", file: "p.md") } throws: { "\($0)".contains("p.md:1: malformed") }
        for (literal, half) in [("7e-13", 0.5e-13), ("9972", 0.5), ("1.5e4", 500.0), ("0.0038", 5e-5)] {
            #expect(abs(DocCheck.halfUnitOfLastDigit(literal) - half) <= 1e-12 * half, "\(literal)")
        }
        #expect(DocCheck.contains("a 10.3 b", number: "0.3") == false && DocCheck.contains("x −0.3 y", number: "-0.3"))
    }
}
