import Foundation
import Testing

/// Every public declaration of the libraries has a `///` doc comment (issue 7's "first contact" standard),
/// checked on the sources so that a new undocumented API fails the suite.
@Suite("Public API documentation")
struct DocCommentAuditTests {
    @Test func everyPublicDeclarationHasADocComment() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let declaration = try NSRegularExpression(
            pattern: #"^(@\w+(\([^)]*\))?\s+)*public\s+((static|final|mutating|nonisolated)\s+)*(func|struct|enum|class|protocol|var|let|init|typealias|subscript)\b"#)
        var missing: [String] = []
        for module in ["Tape", "Layers", "Bilevel"] {
            let dir = root.appendingPathComponent("Sources/\(module)")
            guard let files = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil) else { continue }
            for case let file as URL in files where file.pathExtension == "swift" {
                let lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
                for (i, line) in lines.enumerated() {
                    let s = line.trimmingCharacters(in: .whitespaces)
                    guard declaration.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil else { continue }
                    var j = i - 1
                    while j >= 0, lines[j].trimmingCharacters(in: .whitespaces).hasPrefix("@") { j -= 1 }
                    let previous = j >= 0 ? lines[j].trimmingCharacters(in: .whitespaces) : ""
                    if !previous.hasPrefix("///") && !previous.hasSuffix("*/") {
                        missing.append("\(module)/\(file.lastPathComponent):\(i + 1): \(s.prefix(80))")
                    }
                }
            }
        }
        #expect(missing.isEmpty, "public declarations without a doc comment:\n\(missing.joined(separator: "\n"))")
    }
}
