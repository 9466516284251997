import Foundation

/// The public declarations of a module's sources, found by a plain scan (no compiler): good enough for the
/// checks that the documentation lists every one of them. A declaration is public when it says `public` (or
/// `open`) inside public types and extensions, or is a requirement of a public protocol or a case of a public enum.
struct PublicDeclaration: Hashable, CustomStringConvertible {
    /// "" for a module-level declaration, else the type's name with its enclosing types ("ConjugateGradient.Status").
    var owner: String
    /// The type's own name for a type; else the member as the listing writes it: `name(label:label:)` for a
    /// function, initializer or subscript, `name` for a property, an enum case or an operator.
    var member: String
    var isType: Bool
    var description: String { owner.isEmpty ? member : owner + "." + member }
}

enum SourceScan {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func read(_ relative: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
    }

    /// Every public declaration of `Sources/<module>`.
    static func publicDeclarations(module: String) throws -> Set<PublicDeclaration> {
        let dir = root.appendingPathComponent("Sources/\(module)")
        var out = Set<PublicDeclaration>()
        guard let files = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil) else { return out }
        for case let file as URL in files where file.pathExtension == "swift" {
            out.formUnion(scan(try String(contentsOf: file, encoding: .utf8)))
        }
        return out
    }

    private struct Scope {
        var name: String?          // nil: a function body or other block
        var kind: String           // struct, enum, protocol, extension, …, or "block"
        var isPublic: Bool
        var depth: Int             // brace depth inside the scope
    }

    static let typeKinds: Set<String> = ["struct", "class", "enum", "protocol", "actor", "typealias", "extension"]
    static let modifiers: Set<String> = ["public", "open", "private", "fileprivate", "internal", "package", "final", "static",
                                         "class", "mutating", "nonmutating", "indirect", "nonisolated", "override", "convenience",
                                         "required", "prefix", "postfix", "infix", "lazy", "weak", "unowned", "dynamic"]

    static func scan(_ source: String) -> Set<PublicDeclaration> {
        let lines = strippedLines(source)
        var out = Set<PublicDeclaration>()
        var scopes: [Scope] = []
        var depth = 0
        var i = 0
        while i < lines.count {
            var text = lines[i]
            // A declaration whose parameter list continues on the next lines: join until the parentheses close.
            while balance(text, "(", ")") > 0 && i + 1 < lines.count { i += 1; text += " " + lines[i] }
            i += 1
            let braces = balance(text, "{", "}")
            let owner = scopes.last
            let atMemberLevel = owner.map { $0.depth == depth && $0.name != nil } ?? true
            guard atMemberLevel, let decl = declaration(text) else {
                depth += braces
                while let last = scopes.last, depth < last.depth { scopes.removeLast() }
                continue
            }
            let inPublicType = scopes.allSatisfy { $0.isPublic || $0.kind == "extension" }
            let ownerName = scopes.compactMap(\.name).joined(separator: ".")
            let isPublic = decl.modifiers.contains("public") || decl.modifiers.contains("open")
                || (owner.map { $0.kind == "protocol" && $0.isPublic } ?? false)
            if decl.keyword == "case" {
                if let owner, owner.kind == "enum", owner.isPublic, inPublicType {
                    for name in decl.names { out.insert(PublicDeclaration(owner: ownerName, member: name, isType: false)) }
                }
            } else if isPublic && inPublicType && decl.keyword != "extension" {
                let isType = typeKinds.contains(decl.keyword)
                for name in decl.names { out.insert(PublicDeclaration(owner: ownerName, member: name, isType: isType)) }
                // A one-line enum: `public enum E { case a, b }`.
                if decl.keyword == "enum", braces == 0, let open = text.firstIndex(of: "{"),
                   let body = declaration(String(text[text.index(after: open)...].prefix { $0 != "}" })), body.keyword == "case" {
                    let inner = ownerName.isEmpty ? decl.names[0] : ownerName + "." + decl.names[0]
                    for name in body.names { out.insert(PublicDeclaration(owner: inner, member: name, isType: false)) }
                }
            }
            if braces > 0 {
                let named = typeKinds.contains(decl.keyword) && decl.keyword != "typealias"
                scopes.append(Scope(name: named ? decl.names.first : nil, kind: named ? decl.keyword : "block",
                                    isPublic: isPublic, depth: depth + 1))
            }
            depth += braces
            while let last = scopes.last, depth < last.depth { scopes.removeLast() }
        }
        return out
    }

    struct Declaration { var keyword: String; var modifiers: Set<String>; var names: [String] }

    /// The declaration a line starts, if it starts one.
    static func declaration(_ line: String) -> Declaration? {
        var rest = Substring(line.trimmingCharacters(in: .whitespaces))
        // Attributes.
        while rest.hasPrefix("@") {
            rest = rest.dropFirst().drop { $0.isLetter || $0.isNumber || $0 == "_" }
            if rest.hasPrefix("(") {
                var d = 0
                while let c = rest.first { rest = rest.dropFirst(); if c == "(" { d += 1 } else if c == ")" { d -= 1; if d == 0 { break } } }
            }
            rest = rest.drop { $0 == " " }
        }
        var mods = Set<String>()
        while true {
            let word = String(rest.prefix { $0.isLetter })
            guard modifiers.contains(word) else { break }
            // `class` is a modifier only before func/var; otherwise it declares a class.
            let after = rest.dropFirst(word.count).drop { $0 == " " }
            if word == "class" && !(after.hasPrefix("func") || after.hasPrefix("var")) { break }
            mods.insert(word)
            rest = after
            if rest.hasPrefix("(") { rest = rest.drop { $0 != ")" }.dropFirst().drop { $0 == " " } }   // private(set)
        }
        let keyword = String(rest.prefix { $0.isLetter })
        rest = rest.dropFirst(keyword.count).drop { $0 == " " }
        switch keyword {
        case "struct", "class", "enum", "protocol", "actor", "typealias", "associatedtype":
            return Declaration(keyword: keyword, modifiers: mods, names: [identifier(rest)])
        case "extension":
            return Declaration(keyword: keyword, modifiers: mods, names: [String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." })])
        case "func":
            let name = rest.first.map { $0.isLetter || $0 == "_" } == true ? identifier(rest) : String(rest.prefix { $0 != " " && $0 != "(" && $0 != "<" })
            if !(name.first.map { $0.isLetter || $0 == "_" } ?? false) { return Declaration(keyword: keyword, modifiers: mods, names: [name]) }
            return Declaration(keyword: keyword, modifiers: mods, names: [name + labels(rest.dropFirst(name.count))])
        case "init", "subscript":
            let params = rest.drop { $0 == "?" || $0 == "!" }
            return Declaration(keyword: keyword, modifiers: mods, names: [keyword + labels(params)])
        case "var", "let":
            if rest.hasPrefix("(") {   // let (a, b) = …
                let inside = rest.dropFirst().prefix { $0 != ")" }
                return Declaration(keyword: keyword, modifiers: mods, names: inside.split(separator: ",").map { identifier($0.drop { $0 == " " }) })
            }
            return Declaration(keyword: keyword, modifiers: mods, names: [identifier(rest)])
        case "case":
            guard !rest.hasPrefix(".") && !rest.hasPrefix("let") else { return nil }   // a pattern, not a declaration
            var names: [String] = [], d = 0, current = ""
            for c in rest {
                if c == "(" { d += 1 } else if c == ")" { d -= 1 } else if d == 0 && c == "," { names.append(current); current = "" } else if d == 0 { current.append(c) }
                if d == 0 && (c == "=" || c == ":") { break }
            }
            names.append(current)
            return Declaration(keyword: keyword, modifiers: mods, names: names.map { identifier(Substring($0.trimmingCharacters(in: .whitespaces))) }.filter { !$0.isEmpty })
        default:
            return nil
        }
    }

    static func identifier(_ s: Substring) -> String {
        var t = s
        if t.hasPrefix("`") { t = t.dropFirst() }
        return String(t.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
    }

    /// "(of:at:along:)" from a parameter list "(of f: …, at x: …, along v: …)" (after optional generics).
    static func labels(_ s: Substring) -> String {
        var t = s.drop { $0 == " " }
        if t.hasPrefix("<") {
            var d = 0
            while let c = t.first { t = t.dropFirst(); if c == "<" { d += 1 } else if c == ">" { d -= 1; if d == 0 { break } } }
        }
        guard t.hasPrefix("(") else { return "" }
        var params: [String] = [], current = "", d = 0
        for c in t.dropFirst() {
            let arrow = c == ">" && current.hasSuffix("-")
            let generic = c == "<" && (current.last.map { $0.isLetter || $0.isNumber } ?? false)   // not 0..<1
            if c == "(" || c == "[" || generic { d += 1 } else if (c == ")" || c == "]" || c == ">") && !arrow {
                if d == 0 { break }
                if c != ">" || d > 0 { d -= 1 }
            }
            if d == 0 && c == "," { params.append(current); current = "" } else { current.append(c) }
        }
        if !current.trimmingCharacters(in: .whitespaces).isEmpty { params.append(current) }
        let names = params.map { p -> String in
            let head = p.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            return head.split(separator: " ").first.map(String.init) ?? "_"
        }
        return "(" + names.map { $0 + ":" }.joined() + ")"
    }

    static func balance(_ s: String, _ open: Character, _ close: Character) -> Int {
        s.reduce(0) { $0 + ($1 == open ? 1 : $1 == close ? -1 : 0) }
    }

    /// The source's lines with comments and the contents of string literals removed.
    static func strippedLines(_ source: String) -> [String] {
        var out: [String] = [], line = ""
        var inString = false, multiline = false, blockComment = 0
        let chars = Array(source)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
            if c == "\n" {
                out.append(line); line = ""
                if inString && !multiline { inString = false }
                i += 1; continue
            }
            if blockComment > 0 {
                if c == "*" && next == "/" { blockComment -= 1; i += 2 } else if c == "/" && next == "*" { blockComment += 1; i += 2 } else { i += 1 }
                continue
            }
            if inString {
                if c == "\\" { i += 2; continue }
                if multiline && c == "\"" && next == "\"" && i + 2 < chars.count && chars[i + 2] == "\"" { inString = false; line += "\"\"\""; i += 3; continue }
                if !multiline && c == "\"" { inString = false; line.append(c) }
                i += 1; continue
            }
            if c == "/" && next == "/" { while i < chars.count && chars[i] != "\n" { i += 1 }; continue }
            if c == "/" && next == "*" { blockComment += 1; i += 2; continue }
            if c == "\"" {
                multiline = next == "\"" && i + 2 < chars.count && chars[i + 2] == "\""
                inString = true
                line += multiline ? "\"\"\"" : "\""
                i += multiline ? 3 : 1
                continue
            }
            line.append(c); i += 1
        }
        out.append(line)
        return out
    }
}
