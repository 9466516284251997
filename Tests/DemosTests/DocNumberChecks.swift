import Foundation
@testable import Demos

/// A number quoted in docs/demos, with the run that produces it, read from a marker in the page:
///
///     | 3 | 0.0038 | 0.3 | <!-- check: kaczmarz : warm.max_residual_per_cycle[2] = 0.0038; cold.max_residual_per_cycle[2] = 0.3 -->
///
/// `<!-- check: ARGS : PATH = VALUE [± TOL] [; PATH = VALUE [± TOL] …] -->`. ARGS is a Demos command line
/// (words split at spaces; `--out` is added); PATH a path into its result.json (`a.b[2].c`, `[-1]` the last
/// entry). TOL is absolute (`± 1e-3`) or relative (`± 2%`); without it, the quoted VALUE must be the result
/// rounded to the digits it shows (± half a unit of its last digit). A marker on a line with other text must
/// sit next to the number it checks: each VALUE must appear in that line's text. A marker alone on its line
/// checks a number the text does not quote as such (e.g. the quick run behind a full-run figure).
struct DocCheck: CustomStringConvertible {
    var file: String
    var line: Int
    var arguments: [String]
    var path: String
    var literal: String
    var value: Double
    /// Absolute tolerance, or nil with `relative`.
    var tolerance: Double
    var relative: Bool

    var description: String { "\(file):\(line): \(arguments.joined(separator: " ")) : \(path) = \(literal)" }

    /// Every marker in `text` (a page called `file`); malformed markers are errors naming the line.
    static func parse(_ text: String, file: String) throws -> [DocCheck] {
        var checks: [DocCheck] = []
        var inFence = false
        for (k, line) in text.components(separatedBy: "\n").enumerated() {
            // Markers shown as examples, in code blocks or `code spans`, are not markers.
            if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") { inFence.toggle(); continue }
            if inFence { continue }
            var rest = Substring(line)
            var visible = ""
            while let open = rest.range(of: "<!--") {
                visible += rest[..<open.lowerBound]
                let inCode = visible.filter { $0 == "`" }.count % 2 == 1
                guard let close = rest[open.upperBound...].range(of: "-->") else {
                    if inCode { break }
                    throw DocCheckError("\(file):\(k + 1): unterminated comment")
                }
                let body = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
                if inCode { visible += rest[open.lowerBound..<close.upperBound] }
                rest = rest[close.upperBound...]
                guard body.hasPrefix("check:"), !inCode else { continue }
                checks += try parseMarker(String(body.dropFirst(6)), file: file, line: k + 1)
            }
            visible += rest
            // An inline marker must agree with the number it sits beside.
            let onLine = checks.filter { $0.file == file && $0.line == k + 1 }
            if !visible.trimmingCharacters(in: .whitespaces).isEmpty {
                for c in onLine where !DocCheck.contains(visible, number: c.literal) {
                    throw DocCheckError("\(c): the marker's value \(c.literal) does not appear in the text of its line")
                }
            }
        }
        return checks
    }

    static func parseMarker(_ body: String, file: String, line: Int) throws -> [DocCheck] {
        func bad(_ what: String) -> DocCheckError { DocCheckError("\(file):\(line): malformed check marker (\(what)): \(body)") }
        guard let sep = body.range(of: " : ") else { throw bad("no ' : ' between the command and the checks") }
        let args = body[..<sep.lowerBound].split(separator: " ").map(String.init)
        guard !args.isEmpty else { throw bad("no command") }
        return try body[sep.upperBound...].split(separator: ";").map { assertion in
            let parts = assertion.components(separatedBy: "=")
            guard parts.count == 2 else { throw bad("expected PATH = VALUE") }
            let path = parts[0].trimmingCharacters(in: .whitespaces)
            let rhs = parts[1].replacingOccurrences(of: "+-", with: "±").components(separatedBy: "±").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !path.isEmpty, (1...2).contains(rhs.count), let value = Double(rhs[0]) else { throw bad("expected PATH = VALUE [± TOL]") }
            var tolerance = halfUnitOfLastDigit(rhs[0]), relative = false
            if rhs.count == 2 {
                relative = rhs[1].hasSuffix("%")
                guard let t = Double(relative ? String(rhs[1].dropLast()) : rhs[1]), t >= 0 else { throw bad("tolerance '\(rhs[1])'") }
                tolerance = relative ? t / 100 : t
            }
            return DocCheck(file: file, line: line, arguments: args, path: path, literal: rhs[0], value: value, tolerance: tolerance, relative: relative)
        }
    }

    /// Half a unit of the last digit shown: 0.0038 → 5e-5, 9972 → 0.5, 7e-13 → 5e-14, 1.5e4 → 500.
    static func halfUnitOfLastDigit(_ literal: String) -> Double {
        let lower = literal.lowercased()
        let mantissa = lower.split(separator: "e").first.map(String.init) ?? lower
        let exponent = lower.contains("e") ? Int(lower.split(separator: "e").last!) ?? 0 : 0
        let decimals = mantissa.split(separator: ".", omittingEmptySubsequences: false).dropFirst().first?.count ?? 0
        return 0.5 * pow(10, Double(exponent - decimals))
    }

    /// Whether `number` occurs in `text` as a whole token (not inside a longer number).
    static func contains(_ text: String, number: String) -> Bool {
        let text = text.replacingOccurrences(of: "−", with: "-")   // the pages write minus signs as −
        var search = text[...]
        while let r = search.range(of: number) {
            let before = r.lowerBound > text.startIndex ? text[text.index(before: r.lowerBound)] : " "
            let after = r.upperBound < text.endIndex ? text[r.upperBound] : " "
            let numeric: (Character) -> Bool = { $0.isNumber || $0 == "." }
            if !numeric(before) && !numeric(after) && before != "-" && before != "e" { return true }
            search = text[r.upperBound...]
        }
        return false
    }

    /// The number at `path` in a result (`a.b[2].c`, `[-1]` for the last entry); nil when there is none.
    static func lookup(_ path: String, in json: JSON) -> Double? {
        var current: JSON? = json
        var token = ""
        func step() {
            guard !token.isEmpty else { return }
            current = current?[token]
            token = ""
        }
        var chars = Substring(path)
        while let c = chars.first {
            chars = chars.dropFirst()
            switch c {
            case ".": step()
            case "[":
                step()
                guard let close = chars.firstIndex(of: "]"), let i = Int(chars[..<close]), case .array(let xs)? = current else { return nil }
                let k = i < 0 ? xs.count + i : i
                current = xs.indices.contains(k) ? xs[k] : nil
                chars = chars[chars.index(after: close)...]
            default: token.append(c)
            }
        }
        step()
        return current?.double
    }

    /// Nil when `actual` agrees with the quoted value, else what is wrong.
    func mismatch(_ actual: Double?) -> String? {
        guard let actual else { return "\(self): result.json has no number at \(path)" }
        let allowed = relative ? tolerance * abs(value) : tolerance
        guard abs(actual - value) <= allowed * (1 + 1e-9) else {
            return "\(self): the run gives \(actual) (allowed ± \(allowed)); update the page (and its marker) or find the drift"
        }
        return nil
    }
}

struct DocCheckError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
