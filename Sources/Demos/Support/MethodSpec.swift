import Foundation
import Tape
import Layers
import Bilevel

/// A hypergradient method named on the command line: exact | identity | neumann:K | cg:K | damped:ETA | unrolled:K.
struct MethodSpec: Equatable {
    enum Kind: String { case exact, identity, neumann, cg, damped, unrolled }
    var kind: Kind
    var k: Int?
    var eta: Double?

    var label: String {
        switch kind {
        case .exact, .identity: kind.rawValue
        case .damped: "damped η=\(fmt(eta ?? 0, 3))"
        default: "\(kind.rawValue) K=\(k ?? 0)"
        }
    }

    /// The method's family, for grouped legends (`Plot.series(_:_:_:group:)`): one colour per family.
    var family: String {
        switch kind {
        case .exact: "exact"
        case .identity: "identity"
        case .neumann: "Neumann"
        case .cg: "CG"
        case .damped: "damped"
        case .unrolled: "unrolled"
        }
    }

    /// The family's number in `Plot.style(family:member:)`, fixed so that a family has the same colour in every
    /// picture: Neumann blue, CG red, damped green, unrolled orange, identity purple, exact grey (demos usually
    /// draw exact black and dashed).
    var familyNumber: Int {
        switch kind {
        case .neumann: 0
        case .cg: 1
        case .damped: 2
        case .unrolled: 3
        case .identity: 4
        case .exact: 7
        }
    }

    /// The look of each of `specs` in one plot: its family's colour, and one dash pattern per member of the family
    /// in the order given (shades and markers past five members). Distinct for distinct specs.
    static func styles(_ specs: [MethodSpec]) -> [Plot.Style] {
        var members: [Int: Int] = [:]
        return specs.map { spec in
            let m = members[spec.familyNumber, default: 0]
            members[spec.familyNumber] = m + 1
            return Plot.style(family: spec.familyNumber, member: m)
        }
    }

    /// Parses one spec; a malformed one (e.g. `neumann:abc`) is a usage error naming the flag.
    static func parse(_ s: String, flag: String) throws -> MethodSpec {
        let parts = s.split(separator: ":", maxSplits: 1).map(String.init)
        guard let kind = Kind(rawValue: parts.first ?? "") else {
            throw UsageError("--\(flag): unknown method '\(s)'; use exact, identity, neumann:K, cg:K, damped:ETA or unrolled:K")
        }
        switch kind {
        case .exact, .identity:
            guard parts.count == 1 else { throw UsageError("--\(flag): '\(kind.rawValue)' takes no parameter, got '\(s)'") }
            return MethodSpec(kind: kind)
        case .damped:
            guard parts.count == 2 else { throw UsageError("--\(flag): damped needs a damping, e.g. damped:0.1") }
            return MethodSpec(kind: kind, eta: try Arguments.parseDouble(parts[1], flag: flag, in: 1e-12...1e12))
        default:
            guard parts.count == 2 else { throw UsageError("--\(flag): \(kind.rawValue) needs K, e.g. \(kind.rawValue):10") }
            return MethodSpec(kind: kind, k: try Arguments.parseInt(parts[1], flag: flag, in: 1...1_000_000))
        }
    }

    static func parseList(_ s: String, flag: String) throws -> [MethodSpec] {
        let items = s.split(separator: ",").map(String.init)
        guard !items.isEmpty else { throw UsageError("--\(flag) needs at least one method") }
        return try items.map { try parse($0, flag: flag) }
    }

    /// The library method, with α the inner step (Neumann step and unrolled SGD rate).
    func method(innerStep alpha: Double) -> any HypergradientMethod {
        switch kind {
        case .exact: ExactHypergradient()
        case .identity: IdentityInverse()
        case .neumann: NeumannSeries(terms: k!, step: alpha)
        case .cg: TruncatedConjugateGradient(iterations: k!)
        case .damped: DampedInverse(damping: eta!)
        case .unrolled: TruncatedUnrolling(steps: k!, optimizer: SGD(learningRate: alpha))
        }
    }
}
