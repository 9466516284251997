import Foundation

/// The folder a demo writes into. Every file is written whole or not at all: to a temporary name in
/// the same folder, then renamed over the final name.
struct OutputDirectory {
    let url: URL

    /// Creates the folder (and parents); a folder that cannot be created or written is a usage error.
    init(path: String) throws {
        url = URL(fileURLWithPath: path, isDirectory: true)
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue {
            throw UsageError("--out \(path) exists and is not a folder")
        }
        do { try fm.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw UsageError("--out \(path) cannot be created: \(error.localizedDescription)")
        }
        guard fm.isWritableFile(atPath: url.path) else { throw UsageError("--out \(path) is not writable") }
    }

    /// Writes `text` to `name` atomically; returns the final path.
    @discardableResult
    func write(_ text: String, to name: String) throws -> String {
        let final = url.appendingPathComponent(name)
        let temp = url.appendingPathComponent(".\(name).tmp-\(getpid())")
        do {
            try Data(text.utf8).write(to: temp)
            if rename(temp.path, final.path) != 0 {
                throw DemoError("cannot rename \(temp.path) to \(final.path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw error as? DemoError ?? DemoError("cannot write \(final.path): \(error.localizedDescription)")
        }
        return final.path
    }

    /// Writes result.json.
    @discardableResult
    func writeJSON(_ json: JSON, to name: String = "result.json") throws -> String { try write(try json.render(), to: name) }

    /// Writes a CSV with a header row; every row must have one value per column.
    @discardableResult
    func writeCSV(_ name: String, header: [String], rows: [[Double]]) throws -> String {
        var text = header.joined(separator: ",") + "\n"
        for r in rows {
            guard r.count == header.count else { throw DemoError("\(name): row of \(r.count) values for \(header.count) columns") }
            text += r.map { $0.isFinite ? "\($0)" : "" }.joined(separator: ",") + "\n"
        }
        return try write(text, to: name)
    }

    /// Writes a CSV of several named series of equal length (one column each).
    @discardableResult
    func writeColumns(_ name: String, _ columns: [(String, [Double])]) throws -> String {
        let n = columns.map { $0.1.count }.max() ?? 0
        let rows = (0..<n).map { i in columns.map { i < $0.1.count ? $0.1[i] : .nan } }
        return try writeCSV(name, header: columns.map(\.0), rows: rows)
    }
}
