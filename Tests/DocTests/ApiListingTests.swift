import Foundation
import Testing

/// docs/api.md lists every public declaration of Tape, Layers and Bilevel, and nothing else: a new public
/// function that is not listed, or a listed name that was renamed or removed, fails here with what to change.
@Suite("docs/api.md matches the public API")
struct ApiListingTests {
    /// The listing: module → owner ("" for free functions) → members, from the headings and the member lines
    /// (lines made only of `name` · `name` …) of docs/api.md.
    static func listing() throws -> [String: [String: Set<String>]] {
        var out: [String: [String: Set<String>]] = [:]
        var module = "", owner: String? = nil
        let memberLine = try NSRegularExpression(pattern: "^`[^`]+`( · `[^`]+`)*$")
        for line in try SourceScan.read("docs/api.md").components(separatedBy: "\n") {
            if line.hasPrefix("## ") { module = String(line.dropFirst(3)); owner = nil; continue }
            if line.hasPrefix("### ") {
                let title = line.dropFirst(4)
                owner = title == "Free functions" ? "" : title.trimmingCharacters(in: CharacterSet(charactersIn: "`"))
                out[module, default: [:]][owner!, default: []] = out[module]?[owner!] ?? []
                continue
            }
            guard let owner, memberLine.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil else { continue }
            for name in line.components(separatedBy: " · ") {
                out[module, default: [:]][owner, default: []].insert(name.trimmingCharacters(in: CharacterSet(charactersIn: "`")))
            }
        }
        return out
    }

    @Test("every public declaration is listed under its module and type, and every listed name exists",
          arguments: ["Tape", "Layers", "Bilevel"])
    func listingMatchesSources(module: String) throws {
        let declared = try SourceScan.publicDeclarations(module: module)
        let listed = try Self.listing()[module] ?? [:]
        let types = Set(declared.filter(\.isType).map { $0.owner.isEmpty ? $0.member : $0.owner + "." + $0.member })
        let listedTypes = Set(listed.keys.filter { !$0.isEmpty })
        #expect(types.subtracting(listedTypes).isEmpty,
                "public types of \(module) missing from docs/api.md: \(types.subtracting(listedTypes).sorted())")
        #expect(listedTypes.subtracting(types).isEmpty,
                "docs/api.md lists types that \(module) does not declare publicly: \(listedTypes.subtracting(types).sorted())")
        let members = declared.filter { !$0.isType }
        var missing: [String] = [], stale: [String] = []
        for d in members where !(listed[d.owner]?.contains(d.member) ?? false) { missing.append(d.description) }
        for (owner, names) in listed {
            for name in names where !members.contains(PublicDeclaration(owner: owner, member: name, isType: false)) {
                stale.append(owner.isEmpty ? name : owner + "." + name)
            }
        }
        #expect(missing.isEmpty, "public declarations of \(module) missing from docs/api.md:\n\(missing.sorted().joined(separator: "\n"))")
        #expect(stale.isEmpty, "docs/api.md lists names that \(module) does not declare publicly:\n\(stale.sorted().joined(separator: "\n"))")
        #expect(members.count > 20, "the scan found only \(members.count) public members in \(module): is the scanner broken?")
    }

    /// The scanner itself, on a source whose public surface is known.
    @Test func scannerFindsExactlyThePublicDeclarations() {
        let source = """
        /// A doc comment mentioning public func notReal()
        public struct Box<T>: Sendable {
            public var value: T
            let hidden: Int
            public init(value: T, hidden: Int = 0) { self.value = value; self.hidden = hidden }
            public func map<U>(_ f: (T) -> U,
                               label other: [Int] = [1, 2]) -> Box<U> {
                let s = "public func insideAString()"
                func local() {}
                return Box<U>(value: f(value))
            }
            public static func + (a: Box, b: Box) -> Box { a }
            public enum Kind { case one, two(Int) }
            struct Internal { public var notPublicAPI: Int }
        }
        public protocol Shaped {
            var shape: [Int] { get }
            func scaled(by factor: Double) -> Self
        }
        extension Box {
            public subscript(i: Int) -> T { value }
            func internalHelper() {}
        }
        public func free(_ x: Int, in range: Range<Int> = 0..<1, using g: (Int) -> Int) -> Int { x }
        """
        let found = Set(SourceScan.scan(source).map(\.description))
        let expected: Set<String> = ["Box", "Box.value", "Box.init(value:hidden:)", "Box.map(_:label:)", "Box.+", "Box.Kind",
                                     "Box.Kind.one", "Box.Kind.two", "Shaped", "Shaped.shape", "Shaped.scaled(by:)",
                                     "Box.subscript(i:)", "free(_:in:using:)"]
        #expect(found.subtracting(expected).isEmpty, "found but not public: \(found.subtracting(expected).sorted())")
        #expect(expected.subtracting(found).isEmpty, "public but not found: \(expected.subtracting(found).sorted())")
    }
}
