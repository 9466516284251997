import Foundation
import PackagePlugin

/// Build-tool plugin of the DocTests target: before the target compiles, DocSnippetExtractor turns every
/// Swift block of README.md and docs/**/*.md into a test source (one per document), so the compiler checks
/// the documentation as part of `swift test` and the test runs it. A document that changes re-runs the
/// extraction; a block that no longer compiles fails the build of the tests.
@main
struct DocSnippets: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        var documents = [root.appendingPathComponent("README.md")]
        let docs = root.appendingPathComponent("docs")
        if let files = FileManager.default.enumerator(at: docs, includingPropertiesForKeys: nil) {
            for case let file as URL in files where file.pathExtension == "md" { documents.append(file) }
        }
        documents = documents.map(\.standardizedFileURL).sorted { $0.path < $1.path }
        let rootPath = root.standardizedFileURL.path
        let outDir = context.pluginWorkDirectoryURL.appendingPathComponent("DocSnippets")
        let outputs = documents.map { doc -> URL in
            let relative = doc.path.hasPrefix(rootPath + "/") ? String(doc.path.dropFirst(rootPath.count + 1)) : doc.lastPathComponent
            return outDir.appendingPathComponent(String(relative.map { $0.isLetter || $0.isNumber ? $0 : "_" }) + ".swift")
        }
        return [.buildCommand(displayName: "Extracting the Swift blocks of \(documents.count) Markdown documents",
                              executable: try context.tool(named: "DocSnippetExtractor").url,
                              arguments: ["--tests", rootPath, outDir.path] + documents.map(\.path),
                              inputFiles: documents, outputFiles: outputs)]
    }
}
