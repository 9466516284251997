/// Splits the Swift code of a document's blocks into what goes at file scope (imports and
/// declarations: types, extensions, functions) and what runs in order (statements), the way a reader
/// takes a page of code: declarations anywhere, statements top to bottom.
///
/// A line starts a declaration when, outside any brackets, strings and comments, its first token after
/// attributes and modifiers is `struct`, `class`, `enum`, `protocol`, `extension`, `func`, `actor` or
/// `typealias`. The declaration runs until its braces close (a `typealias`: to the end of its line);
/// comment lines right above it go with it.
struct SplitCode {
    /// A run of consecutive lines and the document line of the first.
    struct Chunk {
        var firstLine: Int
        var lines: [String]
    }
    var imports: [String] = []
    var declarations: [Chunk] = []
    var statements: [Chunk] = []
}

enum SwiftSplitter {
    static let declarationKeywords: Set<String> = ["struct", "class", "enum", "protocol", "extension", "func", "actor", "typealias"]
    static let modifiers: Set<String> = ["public", "private", "fileprivate", "internal", "package", "open", "final",
                                         "static", "indirect", "nonisolated"]
    static let accessModifiers: Set<String> = ["public", "private", "fileprivate", "internal", "package", "open"]

    /// Splits `blocks`; declarations without an access modifier get `fileprivate` when `filePrivate` is
    /// set (so two documents may declare the same name in one test module).
    static func split(_ blocks: [CodeBlock], filePrivate: Bool) -> SplitCode {
        var out = SplitCode()
        for block in blocks {
            var scanner = Scanner()
            var pending: [String] = [], pendingStart = 0
            var current: SplitCode.Chunk? = nil
            var currentIsDeclaration = false, currentIsAlias = false, opened = false
            func flushStatements(_ lines: [String], _ start: Int) {
                guard !lines.isEmpty else { return }
                if let last = out.statements.last, last.firstLine + last.lines.count == start {
                    out.statements[out.statements.count - 1].lines += lines
                } else {
                    out.statements.append(.init(firstLine: start, lines: lines))
                }
            }
            for (k, line) in block.lines.enumerated() {
                let number = block.firstLine + k
                if current == nil {
                    let atTop = scanner.isAtTopLevel
                    let trimmed = line.trimmingSpaces()
                    if atTop && (trimmed.isEmpty || trimmed.hasPrefix("//")) {
                        if pending.isEmpty { pendingStart = number }
                        pending.append(line)
                        scanner.scan(line)
                        continue
                    }
                    if atTop, trimmed.hasPrefix("import ") {
                        if !out.imports.contains(trimmed) { out.imports.append(trimmed) }
                        flushStatements(pending, pendingStart); pending = []
                        scanner.scan(line)
                        continue
                    }
                    if atTop, let (keyword, insertAt, hasAccess) = classify(line) {
                        var first = line
                        if filePrivate && !hasAccess && keyword != "extension" {
                            let index = first.index(first.startIndex, offsetBy: insertAt)
                            first.insert(contentsOf: "fileprivate ", at: index)
                        }
                        current = .init(firstLine: pending.isEmpty ? number : pendingStart, lines: pending + [first])
                        pending = []
                        currentIsDeclaration = true
                        currentIsAlias = keyword == "typealias"
                        opened = false
                    } else {
                        flushStatements(pending + [line], pending.isEmpty ? number : pendingStart)
                        pending = []
                        scanner.scan(line)
                        continue
                    }
                } else {
                    current!.lines.append(line)
                }
                let before = scanner.braceOpenings
                scanner.scan(line)
                if scanner.braceOpenings > before { opened = true }
                if currentIsDeclaration && scanner.isAtTopLevel && (opened || currentIsAlias) {
                    out.declarations.append(current!)
                    current = nil
                }
            }
            if let c = current { out.declarations.append(c) }   // unbalanced: let the compiler say so
            flushStatements(pending, pendingStart)
        }
        return out
    }

    /// For a line that starts a declaration: its keyword, where an access modifier would go (after the
    /// attributes), and whether it has one already.
    static func classify(_ line: String) -> (String, Int, Bool)? {
        let chars = Array(line)
        var i = 0
        func skipSpaces() { while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 } }
        func word() -> String {
            var w = ""
            while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" { w.append(chars[i]); i += 1 }
            return w
        }
        skipSpaces()
        // Attributes: @name or @name(...).
        while i < chars.count, chars[i] == "@" {
            i += 1
            _ = word()
            if i < chars.count, chars[i] == "(" {
                var depth = 0
                repeat {
                    if chars[i] == "(" { depth += 1 } else if chars[i] == ")" { depth -= 1 }
                    i += 1
                } while i < chars.count && depth > 0
            }
            skipSpaces()
        }
        let insertAt = i
        var hasAccess = false
        while true {
            let save = i
            let w = word()
            if modifiers.contains(w) {
                if accessModifiers.contains(w) { hasAccess = true }
                // private(set) and the like
                if i < chars.count, chars[i] == "(" { while i < chars.count, chars[i] != ")" { i += 1 }; i += 1 }
                skipSpaces()
                continue
            }
            if declarationKeywords.contains(w), i == chars.count || !(chars[i].isLetter || chars[i].isNumber || chars[i] == "_") {
                return (w, insertAt, hasAccess)
            }
            i = save
            return nil
        }
    }
}

/// Tracks brackets, strings (with interpolation) and comments line by line, enough to know whether a
/// line starts outside every bracket.
struct Scanner {
    private enum Context { case string(multiline: Bool), interpolation(depth: Int) }
    private var stack: [Context] = []
    private var blockComment = 0
    private var depth = 0
    /// `{` opened at the top level so far.
    private(set) var braceOpenings = 0

    var isAtTopLevel: Bool { depth == 0 && stack.isEmpty && blockComment == 0 }

    mutating func scan(_ line: String) {
        let c = Array(line)
        var i = 0
        func at(_ s: String) -> Bool {
            let p = Array(s)
            return i + p.count <= c.count && Array(c[i..<(i + p.count)]) == p
        }
        while i < c.count {
            if blockComment > 0 {
                if at("*/") { blockComment -= 1; i += 2 } else if at("/*") { blockComment += 1; i += 2 } else { i += 1 }
                continue
            }
            switch stack.last {
            case .string(let multiline)?:
                if c[i] == "\\" {
                    if i + 1 < c.count, c[i + 1] == "(" { stack.append(.interpolation(depth: 0)); i += 2 } else { i += 2 }
                } else if multiline ? at("\"\"\"") : c[i] == "\"" {
                    stack.removeLast(); i += multiline ? 3 : 1
                } else { i += 1 }
            case .interpolation(let d)?:
                if c[i] == "(" { stack[stack.count - 1] = .interpolation(depth: d + 1) }
                else if c[i] == ")" { if d == 0 { stack.removeLast() } else { stack[stack.count - 1] = .interpolation(depth: d - 1) } }
                else if at("\"\"\"") { stack.append(.string(multiline: true)); i += 3; continue }
                else if c[i] == "\"" { stack.append(.string(multiline: false)) }
                i += 1
            case nil:
                if at("//") { return }
                if at("/*") { blockComment += 1; i += 2; continue }
                if at("\"\"\"") { stack.append(.string(multiline: true)); i += 3; continue }
                switch c[i] {
                case "\"": stack.append(.string(multiline: false))
                case "{": depth += 1; braceOpenings += 1
                case "(", "[": depth += 1
                case "}", ")", "]": depth -= 1
                default: break
                }
                i += 1
            }
        }
        // A single-line string cannot continue on the next line.
        while case .string(false)? = stack.last { stack.removeLast() }
    }
}
