import Foundation

// Turns the Swift blocks of Markdown documents into Swift sources (see Markdown.swift for the
// fragment markers). Two modes:
//
//   DocSnippetExtractor --tests ROOT OUTDIR DOC.md...
//       one test source per document, OUTDIR/<name>.swift (name from the path relative to ROOT):
//       the document's declarations at file scope (fileprivate), its statements, in order, in one
//       throwing @Test function; `#sourceLocation` points every line at the Markdown, so a compiler
//       error or a failed `require` names the document and line. (Run by the DocSnippets build plugin.)
//   DocSnippetExtractor --main DOC.md OUT.swift
//       the document's blocks as one main.swift, imports first (tools/check-user-package.sh).

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("DocSnippetExtractor: \(message)\n".utf8))
    exit(1)
}

func read(_ path: String) -> String {
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
        fail("cannot read \(path)")
    }
    return text
}

/// Writes only when the contents change, so an unchanged document does not recompile its test.
func write(_ text: String, to path: String) {
    if FileManager.default.contents(atPath: path) == Data(text.utf8) { return }
    do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch { fail("cannot write \(path): \(error)") }
}

/// "docs/layers.md" → "docs_layers_md".
func identifier(_ relative: String) -> String {
    String(relative.map { $0.isLetter || $0.isNumber ? $0 : "_" })
}

func literal(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

func testSource(document path: String, relative: String) -> String {
    let blocks = Markdown.swiftBlocks(in: read(path))
    let compiled = blocks.filter { !$0.isFragment }
    var out = "// Generated from \(relative) by DocSnippetExtractor (Plugins/DocSnippets): edit the document, not this file.\n"
    out += "// \(blocks.count) Swift block(s), \(blocks.count - compiled.count) marked as fragment(s).\n"
    guard !compiled.isEmpty else { return out }
    let code = SwiftSplitter.split(compiled, filePrivate: true)
    out += (["import Testing"] + code.imports.filter { $0 != "import Testing" }).joined(separator: "\n") + "\n\n"
    func emit(_ chunk: SplitCode.Chunk, indent: String) {
        out += "#sourceLocation(file: \(literal(path)), line: \(chunk.firstLine))\n"
        for line in chunk.lines { out += indent + line + "\n" }
        out += "#sourceLocation()\n"
    }
    for d in code.declarations { emit(d, indent: "") }
    out += "\n@Suite struct DocSnippets_\(identifier(relative)) {\n"
    out += "    @Test(\(literal(relative + ": every Swift block compiles and runs"))) func blocks() throws {\n"
    for s in code.statements { emit(s, indent: "        ") }
    out += "    }\n}\n"
    return out
}

func mainSource(document path: String) -> String {
    let compiled = Markdown.swiftBlocks(in: read(path)).filter { !$0.isFragment }
    var imports: [String] = [], body: [String] = []
    for block in compiled {
        for line in block.lines {
            let t = line.trimmingSpaces()
            if t.hasPrefix("import ") { if !imports.contains(t) { imports.append(t) } } else { body.append(line) }
        }
        body.append("")
    }
    return (imports + [""] + body).joined(separator: "\n")
}

let args = Array(CommandLine.arguments.dropFirst())
switch args.first {
case "--tests":
    guard args.count >= 3 else { fail("usage: --tests ROOT OUTDIR DOC.md...") }
    let root = URL(fileURLWithPath: args[1]).standardizedFileURL.path
    let outDir = args[2]
    try? FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
    for doc in args.dropFirst(3) {
        let full = URL(fileURLWithPath: doc).standardizedFileURL.path
        let relative = full.hasPrefix(root + "/") ? String(full.dropFirst(root.count + 1)) : full
        write(testSource(document: full, relative: relative), to: outDir + "/" + identifier(relative) + ".swift")
    }
case "--main":
    guard args.count == 3 else { fail("usage: --main DOC.md OUT.swift") }
    write(mainSource(document: args[1]), to: args[2])
default:
    fail("usage: --tests ROOT OUTDIR DOC.md... | --main DOC.md OUT.swift")
}
