import Foundation

/// A long run's state on disk: the step reached and named arrays of Doubles.
///
/// Each number is stored as the hexadecimal bit pattern of its Double, so a resumed run continues from
/// *exactly* the same state (also NaN placeholders and −0) and ends with the same numbers, byte for byte.
/// Integers (counters, indices) go in as Doubles, exact below 2⁵³. The file is JSON with sorted keys,
/// written atomically (temporary name + rename), so an interruption never leaves a half-written state:
///
///     {"arrays": {"lambda": ["3ff0000000000000", …], …}, "format": "bilevelkit-checkpoint-1", "step": 30}
struct CheckpointFile: Equatable {
    static let format = "bilevelkit-checkpoint-1"

    /// The number of (outer) steps done when the state was saved.
    var step: Int
    var arrays: [String: [Double]]

    init(step: Int, arrays: [String: [Double]] = [:]) {
        self.step = step
        self.arrays = arrays
    }

    /// The array `name`; a missing one means the file was written by another program or version.
    func array(_ name: String) throws -> [Double] {
        guard let a = arrays[name] else { throw DemoError("checkpoint: no array '\(name)' (written by another demo or version?)") }
        return a
    }

    /// A single integer stored as a one-element array.
    func integer(_ name: String) throws -> Int {
        let a = try array(name)
        guard a.count == 1, let v = Int(exactly: a[0]) else { throw DemoError("checkpoint: '\(name)' is not an integer") }
        return v
    }

    /// An array of integers.
    func integers(_ name: String) throws -> [Int] {
        try array(name).map { v in
            guard let i = Int(exactly: v) else { throw DemoError("checkpoint: '\(name)' holds a non-integer") }
            return i
        }
    }

    /// The JSON text of the file.
    func render() throws -> String {
        let hexArrays = arrays.map { (name, xs) in (name, JSON.array(xs.map { .string(String($0.bitPattern, radix: 16)) })) }
        return try JSON.object([("format", .string(CheckpointFile.format)), ("step", .int(step)), ("arrays", .object(hexArrays))]).render()
    }

    /// Parses the JSON text of a file; `source` names it in errors.
    static func parse(_ data: Data, source: String) throws -> CheckpointFile {
        guard let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw DemoError("checkpoint \(source) is not valid JSON (truncated or not a checkpoint)")
        }
        guard o["format"] as? String == format else { throw DemoError("checkpoint \(source) is not a \(format) file") }
        guard let step = o["step"] as? Int, step >= 0 else { throw DemoError("checkpoint \(source): missing or negative 'step'") }
        guard let raw = o["arrays"] as? [String: Any] else { throw DemoError("checkpoint \(source): missing 'arrays'") }
        var arrays: [String: [Double]] = [:]
        for (name, value) in raw {
            guard let hex = value as? [String] else { throw DemoError("checkpoint \(source): '\(name)' is not a list of numbers") }
            arrays[name] = try hex.map { s in
                guard let bits = UInt64(s, radix: 16) else { throw DemoError("checkpoint \(source): malformed number '\(s)' in '\(name)'") }
                return Double(bitPattern: bits)
            }
        }
        return CheckpointFile(step: step, arrays: arrays)
    }

    /// Writes the file atomically, creating its folder if needed.
    func save(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw DemoError("cannot create the folder of checkpoint \(path): \(error.localizedDescription)")
        }
        try OutputDirectory.writeAtomically(try render(), to: url)
    }

    /// Reads a file written by `save`; nil when there is none (a run that had not started yet).
    static func load(from path: String) throws -> CheckpointFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw DemoError("cannot read checkpoint \(path)") }
        return try parse(data, source: path)
    }
}
