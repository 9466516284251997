import Foundation

/// The folder a demo writes into.
///
/// Every file is written whole or not at all: to a temporary name in the same folder, then renamed over the
/// final name. A demo's folder is *staged*: `write` keeps the files in memory and `DemoCLI` commits them only
/// when the demo succeeds, so a failed or refused run leaves no partial output (and removes the folder if it
/// created it). Checkpoints use an unstaged folder: they must reach the disk while the run goes on.
final class OutputDirectory {
    let url: URL
    /// Whether `write` defers to `commit()`.
    let staged: Bool
    /// True when this object created the folder (so `discard()` may remove it again).
    private let created: Bool
    private var pending: [(name: String, text: String)] = []

    /// Creates the folder (and parents) and checks that a file can be written in it; a folder that cannot be
    /// created or written is a usage error (exit 2), and nothing is left behind.
    init(path: String, staged: Bool = false) throws {
        url = URL(fileURLWithPath: path, isDirectory: true)
        self.staged = staged
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let existed = fm.fileExists(atPath: url.path, isDirectory: &isDir)
        if existed && !isDir.boolValue { throw UsageError("--out \(path) exists and is not a folder") }
        if !existed { try OutputDirectory.makeFolders(url, flag: path) }
        created = !existed
        // Probe with a real file: access(2) says yes to root even where a write would fail.
        let probe = url.appendingPathComponent(".write-probe-\(getpid())")
        guard fm.createFile(atPath: probe.path, contents: Data()) else {
            if created { try? fm.removeItem(at: url) }
            throw UsageError("--out \(path) is not writable")
        }
        try? fm.removeItem(at: probe)
    }

    /// Writes `text` to `name` (atomically; deferred to `commit()` when staged); returns the final path.
    @discardableResult
    func write(_ text: String, to name: String) throws -> String {
        guard !name.isEmpty, !name.contains("/") else { throw DemoError("output file name '\(name)' must be a plain file name") }
        if staged {
            pending.removeAll { $0.name == name }
            pending.append((name, text))
        } else {
            try OutputDirectory.writeAtomically(text, to: url.appendingPathComponent(name))
        }
        return url.appendingPathComponent(name).path
    }

    /// The names of the files staged so far, in the order first written.
    var pendingFiles: [String] { pending.map(\.name) }

    /// Writes every staged file atomically. If one fails, the ones this commit already wrote are removed.
    func commit() throws {
        var written: [URL] = []
        // result.json last: a folder holding it is a finished run (what `sweep` takes as done).
        let ordered = pending.filter { $0.name != "result.json" } + pending.filter { $0.name == "result.json" }
        do {
            for (name, text) in ordered {
                let final = url.appendingPathComponent(name)
                try OutputDirectory.writeAtomically(text, to: final)
                written.append(final)
            }
        } catch {
            for f in written { try? FileManager.default.removeItem(at: f) }
            throw error
        }
        pending = []
    }

    /// Drops the staged files and removes the folder if this object created it and it is still empty.
    func discard() {
        pending = []
        guard created, let contents = try? FileManager.default.contentsOfDirectory(atPath: url.path), contents.isEmpty else { return }
        try? FileManager.default.removeItem(at: url)
    }

    /// Writes result.json (or another name).
    @discardableResult
    func writeJSON(_ json: JSON, to name: String = "result.json") throws -> String { try write(try json.render(), to: name) }

    /// Writes a CSV with a header row; every row must have one value per column. Non-finite values are
    /// written as empty cells (a gap in a series), never as "nan".
    @discardableResult
    func writeCSV(_ name: String, header: [String], rows: [[Double]]) throws -> String {
        try write(csv(header: header, rows: rows, file: name), to: name)
    }

    /// Writes a CSV of several named series (one column each); shorter series end in empty cells.
    @discardableResult
    func writeColumns(_ name: String, _ columns: [(String, [Double])]) throws -> String {
        let n = columns.map { $0.1.count }.max() ?? 0
        let rows = (0..<n).map { i in columns.map { i < $0.1.count ? $0.1[i] : .nan } }
        return try writeCSV(name, header: columns.map(\.0), rows: rows)
    }

    /// mkdir -p, one level at a time, so the error names the folder that failed and the system's reason
    /// (Foundation's message for this is often a misleading "file doesn't exist"). Folders it made are removed
    /// again if a deeper one fails.
    static func makeFolders(_ url: URL, flag path: String) throws {
        var missing: [URL] = []
        var u = url.standardizedFileURL
        while !FileManager.default.fileExists(atPath: u.path) && u.path != "/" { missing.append(u); u = u.deletingLastPathComponent() }
        var made: [URL] = []
        for dir in missing.reversed() {
            if mkdir(dir.path, 0o755) != 0 && errno != EEXIST {
                let reason = String(cString: strerror(errno))
                for m in made.reversed() { rmdir(m.path) }
                throw UsageError("--out \(path) cannot be created: mkdir \(dir.path): \(reason)")
            }
            made.append(dir)
        }
    }

    /// temp name in the same folder (same file system, so the rename is atomic), then rename.
    static func writeAtomically(_ text: String, to final: URL) throws {
        let temp = final.deletingLastPathComponent().appendingPathComponent(".\(final.lastPathComponent).tmp-\(getpid())")
        do {
            try Data(text.utf8).write(to: temp)
            if rename(temp.path, final.path) != 0 {
                throw DemoError("cannot rename \(temp.path) to \(final.path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw error as? DemoError ?? DemoError("cannot write \(final.path): \(error.localizedDescription)")
        }
    }
}

/// CSV text: a header row, then one line per row; numbers in Swift's shortest round-trip form.
func csv(header: [String], rows: [[Double]], file: String = "CSV") throws -> String {
    var text = header.map(csvField).joined(separator: ",") + "\n"
    for (k, r) in rows.enumerated() {
        guard r.count == header.count else { throw DemoError("\(file): row \(k) has \(r.count) values for \(header.count) columns") }
        text += r.map { $0.isFinite ? JSON.format($0) : "" }.joined(separator: ",") + "\n"
    }
    return text
}

/// A header cell, quoted when it holds a comma, quote or newline (RFC 4180).
func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
