import Foundation

/// A JSON value with deterministic output: object keys are sorted, numbers print in Swift's shortest
/// round-trip form (integral values without a fraction), so the same numbers always give byte-identical
/// files. Non-finite numbers and duplicate keys are refused with an error naming where they are.
indirect enum JSON {
    case number(Double)
    case int(Int)
    case string(String)
    case bool(Bool)
    case null
    case array([JSON])
    case object([(String, JSON)])

    static func numbers(_ xs: [Double]) -> JSON { .array(xs.map(JSON.number)) }
    static func optional(_ x: Double?) -> JSON { x.map(JSON.number) ?? .null }

    /// Pretty-printed text; throws on a non-finite number (a result file never holds a silent NaN).
    func render() throws -> String {
        var out = ""
        try write(into: &out, indent: 0, path: "$")
        return out + "\n"
    }

    private func write(into out: inout String, indent: Int, path: String) throws {
        let pad = String(repeating: "  ", count: indent + 1), end = String(repeating: "  ", count: indent)
        switch self {
        case .number(let x):
            guard x.isFinite else { throw DemoError("refusing to write \(x) at \(path) in result.json: the computation produced a non-finite number") }
            out += JSON.format(x)
        case .int(let i): out += String(i)
        case .string(let s): out += JSON.quote(s)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let xs):
            if xs.isEmpty { out += "[]"; return }
            let scalarOnly = xs.allSatisfy { if case .array = $0 { return false }; if case .object = $0 { return false }; return true }
            if scalarOnly {
                out += "["
                for (i, x) in xs.enumerated() { if i > 0 { out += ", " }; try x.write(into: &out, indent: indent, path: "\(path)[\(i)]") }
                out += "]"
            } else {
                out += "[\n"
                for (i, x) in xs.enumerated() {
                    out += pad
                    try x.write(into: &out, indent: indent + 1, path: "\(path)[\(i)]")
                    out += i + 1 < xs.count ? ",\n" : "\n"
                }
                out += end + "]"
            }
        case .object(let kv):
            if kv.isEmpty { out += "{}"; return }
            // Sorted keys: the file does not depend on the order a demo happened to build its object in.
            let sorted = kv.sorted { $0.0 < $1.0 }
            for (a, b) in zip(sorted, sorted.dropFirst()) where a.0 == b.0 {
                throw DemoError("refusing to write a JSON object with the key '\(a.0)' twice at \(path)")
            }
            out += "{\n"
            for (i, (k, v)) in sorted.enumerated() {
                out += pad + JSON.quote(k) + ": "
                try v.write(into: &out, indent: indent + 1, path: "\(path).\(k)")
                out += i + 1 < kv.count ? ",\n" : "\n"
            }
            out += end + "}"
        }
    }

    /// A finite number as JSON text: integral values below 1e15 without a fraction ("3", not "3.0"),
    /// everything else in Swift's shortest round-trip form ("0.1", "1e-05"), which parses back exactly.
    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    }

    static func quote(_ s: String) -> String {
        var r = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": r += "\\\""
            case "\\": r += "\\\\"
            case "\n": r += "\\n"
            case "\t": r += "\\t"
            default: r += c.value < 0x20 ? String(format: "\\u%04x", c.value) : String(c)
            }
        }
        return r + "\""
    }
}

/// A failure while running a demo (not a usage mistake): message on stderr, exit status 1.
struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
