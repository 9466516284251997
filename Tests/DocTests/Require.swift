import Testing

/// The documents check their claims with `require(condition, message)`, Tape's check that stops a program
/// with the message. Here the same call records a test issue at the document's line instead (the generated
/// sources point `#filePath` and `#line` at the Markdown), so one failing claim does not stop the test run.
/// Same signature as `Tape.require`, so this module's declaration shadows the imported one.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #filePath, line: UInt = #line) {
    guard !condition() else { return }
    let path = String(describing: file)
    Issue.record(Comment(rawValue: message()),
                 sourceLocation: SourceLocation(fileID: "DocTests/" + (path.split(separator: "/").last.map(String.init) ?? path),
                                                filePath: path, line: Int(line), column: 1))
}
