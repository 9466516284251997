/// The Swift code blocks of a Markdown document.
///
/// A block is a fenced block whose info string starts with `swift`. It is a *fragment* (shown, never
/// compiled) when its info string says so (```` ```swift fragment ````) or when the nearest non-blank
/// line above the fence is an HTML comment starting with `<!-- fragment` (e.g. `<!-- fragment: needs
/// the Demos module -->`). Every other block is compiled and run by the tests.
struct CodeBlock {
    /// 1-based line number of the block's first code line in the document.
    var firstLine: Int
    /// The code lines, with the fence's own indentation removed.
    var lines: [String]
    /// Whether the document marks the block as a fragment.
    var isFragment: Bool
}

enum Markdown {
    static func swiftBlocks(in text: String) -> [CodeBlock] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var blocks: [CodeBlock] = []
        var i = 0
        while i < lines.count {
            let line = lines[i]
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            let indent = line.count - trimmed.count
            guard let fence = fencePrefix(trimmed) else { i += 1; continue }
            let info = trimmed.dropFirst(fence.count).trimmingSpaces()
            let words = info.split(separator: " ").map(String.init)
            // Find the closing fence: the same character, at least as long, nothing else on the line.
            var j = i + 1
            while j < lines.count {
                let t = lines[j].trimmingSpaces()
                if t.hasPrefix(fence), t.allSatisfy({ $0 == fence.first! }) { break }
                j += 1
            }
            if words.first == "swift" {
                let code = lines[(i + 1)..<min(j, lines.count)].map { dropIndent($0, indent) }
                let fragment = words.dropFirst().contains("fragment") || markedAsFragment(lines, above: i)
                blocks.append(CodeBlock(firstLine: i + 2, lines: code, isFragment: fragment))
            }
            i = j + 1
        }
        return blocks
    }

    /// "```" or "~~~" (or longer) at the start of a line, or nil.
    private static func fencePrefix(_ s: Substring) -> String? {
        for c in ["`", "~"] {
            let run = s.prefix { String($0) == c }
            if run.count >= 3 { return String(run) }
        }
        return nil
    }

    private static func markedAsFragment(_ lines: [String], above fence: Int) -> Bool {
        var k = fence - 1
        while k >= 0, lines[k].trimmingSpaces().isEmpty { k -= 1 }
        return k >= 0 && lines[k].trimmingSpaces().hasPrefix("<!-- fragment")
    }

    private static func dropIndent(_ line: String, _ n: Int) -> String {
        var s = Substring(line), k = 0
        while k < n, let c = s.first, c == " " || c == "\t" { s = s.dropFirst(); k += 1 }
        return String(s)
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return String(s)
    }
}
