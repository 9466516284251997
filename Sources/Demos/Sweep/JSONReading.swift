import Foundation

extension JSON {
    /// Parses JSON text (RFC 8259) into a `JSON` value: integers without a fraction or exponent become `.int`,
    /// other numbers `.number`; object keys keep their order in the text. Reads what `render()` writes and any
    /// other well-formed JSON; malformed text is a `DemoError` naming the line and column.
    static func parse(_ text: String) throws -> JSON {
        var reader = JSONReader(Array(text.utf8))
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.atEnd else { throw reader.error("unexpected text after the JSON value") }
        return value
    }

    /// Parses a file (see `parse`); errors name the file.
    static func read(_ url: URL) throws -> JSON {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw DemoError("cannot read \(url.path): \(error.localizedDescription)") }
        guard let text = String(data: data, encoding: .utf8) else { throw DemoError("\(url.path) is not UTF-8 text") }
        do { return try parse(text) } catch let e as DemoError { throw DemoError("\(url.path): \(e.description)") }
    }

    /// The member `key` of an object (nil for other values or a missing key).
    subscript(key: String) -> JSON? {
        guard case .object(let kv) = self else { return nil }
        return kv.first { $0.0 == key }?.1
    }

    /// A number (`.number` or `.int`) as a Double; nil for anything else.
    var double: Double? {
        switch self {
        case .number(let x): return x
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    /// A string value; nil for anything else.
    var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
}

/// A recursive-descent reader over UTF-8 bytes.
private struct JSONReader {
    let bytes: [UInt8]
    var i = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { i >= bytes.count }

    func error(_ what: String) -> DemoError {
        let before = bytes[..<min(i, bytes.count)]
        let line = before.filter { $0 == 10 }.count + 1
        let column = i - (before.lastIndex(of: 10).map { $0 + 1 } ?? 0) + 1
        return DemoError("JSON: \(what) at line \(line), column \(column)")
    }

    mutating func skipSpace() {
        while i < bytes.count, [32, 9, 10, 13].contains(bytes[i]) { i += 1 }
    }

    mutating func expect(_ literal: String, _ value: JSON) throws -> JSON {
        let lit = Array(literal.utf8)
        guard i + lit.count <= bytes.count, Array(bytes[i..<i + lit.count]) == lit else { throw error("unexpected character") }
        i += lit.count
        return value
    }

    mutating func value(depth: Int) throws -> JSON {
        guard depth < 512 else { throw error("nesting deeper than 512 levels") }
        guard !atEnd else { throw error("unexpected end of text") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        default: return try number()
        }
    }

    mutating func object(depth: Int) throws -> JSON {
        i += 1
        var members: [(String, JSON)] = []
        skipSpace()
        if !atEnd, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard !atEnd, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
            let key = try string()
            skipSpace()
            guard !atEnd, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':' after the key \"\(key)\"") }
            i += 1
            skipSpace()
            members.append((key, try value(depth: depth + 1)))
            skipSpace()
            guard !atEnd else { throw error("unexpected end of text in an object") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw error("expected ',' or '}'")
        }
    }

    mutating func array(depth: Int) throws -> JSON {
        i += 1
        var elements: [JSON] = []
        skipSpace()
        if !atEnd, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
        while true {
            skipSpace()
            elements.append(try value(depth: depth + 1))
            skipSpace()
            guard !atEnd else { throw error("unexpected end of text in an array") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(elements) }
            throw error("expected ',' or ']'")
        }
    }

    mutating func string() throws -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard !atEnd else { throw error("unterminated string") }
            let c = bytes[i]
            i += 1
            if c == UInt8(ascii: "\"") { break }
            guard c >= 0x20 else { throw error("control character in a string") }
            guard c == UInt8(ascii: "\\") else { out.append(c); continue }
            guard !atEnd else { throw error("unterminated escape") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {   // a surrogate pair: \uD83D\uDE00
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { throw error("unpaired surrogate") }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw error("invalid escape \\\(Character(Unicode.Scalar(e)))")
            }
        }
        guard let s = String(bytes: out, encoding: .utf8) else { throw error("invalid UTF-8 in a string") }
        return s
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else { throw error("invalid \\u escape") }
        i += 4
        return v
    }

    mutating func number() throws -> JSON {
        let start = i
        func digits() -> Int { let s = i; while i < bytes.count, (48...57).contains(bytes[i]) { i += 1 }; return i - s }
        if !atEnd, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard digits() > 0 else { i = start; throw error("unexpected character") }
        var integral = true
        if !atEnd, bytes[i] == UInt8(ascii: ".") {
            i += 1; integral = false
            guard digits() > 0 else { throw error("expected digits after '.'") }
        }
        if !atEnd, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1; integral = false
            if !atEnd, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw error("expected digits in the exponent") }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if integral, let n = Int(text) { return .int(n) }
        guard let x = Double(text), x.isFinite else { throw error("number \(text) out of range") }
        return .number(x)
    }
}
