/// Checks a programmer-error condition in every build configuration and stops with the message.
///
/// Why not `precondition`: the standard library drops `precondition`'s message in optimized (`-O`)
/// builds, so a user running a release build would see a bare trap. `fatalError` keeps its message,
/// so this prints e.g. "Fatal error: matmul: shapes (2, 3) and (4, 5) do not fit" and traps.
@inlinable @inline(__always)
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if _slowPath(!condition()) { fatalError(message(), file: file, line: line) }
}
