import Foundation
import Testing

/// docs/tape.md's table of the operations on a `Variable` names every public member of `Variable`
/// (Sources/Tape/Variable.swift): a new operation without a row fails here.
@Suite("docs/tape.md lists every Variable operation")
struct OperationTableTests {
    @Test func everyPublicMemberOfVariableHasARow() throws {
        let members = SourceScan.scan(try SourceScan.read("Sources/Tape/Variable.swift")).filter { $0.owner == "Variable" && !$0.isType }
        let page = try SourceScan.read("docs/tape.md")
        guard let start = page.range(of: "## Operations on a `Variable`") else { Issue.record("no operation table in docs/tape.md"); return }
        let section = page[start.upperBound...].prefix { $0 != "#" }   // up to the next heading
        // The first column of every table row.
        let operations = section.components(separatedBy: "\n").filter { $0.hasPrefix("| `") }
            .map { $0.dropFirst(2).prefix { $0 != "|" } }.joined(separator: "\n")
        var missing: [String] = []
        for member in members {
            let name = member.member.prefix { $0 != "(" }
            let shown: Bool
            switch name {
            case "+", "-", "*", "/": shown = operations.contains("a \(name) b")
            default: shown = operations.contains(".\(name)(") || operations.contains(".\(name)`") || operations.contains(".\(name),")
            }
            if !shown { missing.append(member.member) }
        }
        #expect(members.count >= 30, "found only \(members.count) members of Variable: is the scan broken?")
        #expect(missing.isEmpty, "operations of Variable without a row in docs/tape.md's table: \(missing.sorted())")
        #expect(operations.contains("`-a`"), "negation has a row")
    }
}
