import Tape

/// The structure of a parameter collection: named tensors of fixed shapes laid out back to back in
/// one flat vector. Layers keep their structure (`tensors(of:)`); optimizers and hypergradient
/// methods see one vector of `count` numbers. Round trips are exact (the flat vector *is* the storage).
public struct ParameterLayout: Equatable, Sendable, CustomStringConvertible {
    /// One named tensor of the collection and where it sits in the flat vector.
    public struct Entry: Equatable, Sendable {
        /// The tensor's name, unique in the layout (e.g. "layer0.weight").
        public var name: String
        /// The tensor's shape.
        public var shape: Shape
        /// Offset of the first element in the flat vector.
        public var offset: Int
    }

    /// The named tensors in the order they were added, which is their order in the flat vector.
    public private(set) var entries: [Entry] = []
    /// Total number of scalars: the length of the flat vector.
    public private(set) var count = 0

    /// An empty layout; add entries with `append(_:shape:)`.
    public init() {}

    /// A layout of the given named shapes, in order.
    public init(_ named: [(String, Shape)]) {
        for (n, s) in named { append(n, shape: s) }
    }

    /// Adds a tensor at the end of the flat vector. Names must be unique.
    public mutating func append(_ name: String, shape: Shape) {
        require(!entries.contains { $0.name == name }, "ParameterLayout: duplicate parameter name '\(name)'")
        entries.append(Entry(name: name, shape: shape, offset: count))
        count += shape.count
    }

    /// Appends another layout's entries, prefixing their names with `prefix` (e.g. "layer0.").
    public mutating func append(contentsOf other: ParameterLayout, prefix: String) {
        for e in other.entries { append(prefix + e.name, shape: e.shape) }
    }

    /// The entry called `name`; traps with the list of names if it does not exist.
    public func entry(_ name: String) -> Entry {
        guard let e = entries.first(where: { $0.name == name }) else {
            fatalError("ParameterLayout: no parameter '\(name)'; have \(entries.map(\.name))")
        }
        return e
    }

    /// The flat vector of the given tensors (one per entry, in order, of the entry's shape).
    public func flatten(_ tensors: [Tensor]) -> Tensor {
        require(tensors.count == entries.count, "ParameterLayout.flatten: \(tensors.count) tensors for \(entries.count) entries")
        var flat = [Double]()
        flat.reserveCapacity(count)
        for (e, t) in zip(entries, tensors) {
            require(t.shape == e.shape, "ParameterLayout.flatten: '\(e.name)' has shape \(t.shape), expected \(e.shape)")
            flat += t.scalars
        }
        return Tensor(flat)
    }

    /// The named tensors stored in a flat vector of length `count`.
    public func tensors(of flat: Tensor) -> [Tensor] {
        checkFlat(flat.shape, "tensors(of:)")
        return entries.map { e in Tensor(shape: e.shape, scalars: Array(flat.scalars[e.offset..<e.offset + e.shape.count])) }
    }

    /// The named tensors of a flat parameter Variable, as differentiable slices (tape operations).
    public func tensors(of flat: Variable) -> [Variable] {
        checkFlat(flat.shape, "tensors(of:)")
        return entries.map { e in
            let part = flat.slice(alongAxis: 0, start: e.offset, count: e.shape.count)
            return e.shape.rank == 1 ? part : part.reshaped(e.shape)
        }
    }

    private func checkFlat(_ s: Shape, _ op: String) {
        require(s == Shape([count]), "ParameterLayout.\(op): flat vector has shape \(s), expected (\(count))")
    }

    /// The entries and the total, "name(shape), … = count scalars".
    public var description: String {
        entries.map { "\($0.name)\($0.shape)" }.joined(separator: ", ") + " = \(count) scalars"
    }
}

/// A parameter collection: a layout and the flat vector holding its values (value semantics).
/// `flat` is what optimizers and hypergradient methods use; `self["name"]` reads one tensor.
public struct Parameters: Equatable, Sendable {
    /// The names, shapes and offsets of the tensors in `flat`.
    public let layout: ParameterLayout
    /// All parameters in one vector of shape (layout.count).
    public var flat: Tensor {
        didSet { require(flat.shape == Shape([layout.count]), "Parameters: flat vector must have shape (\(layout.count)), got \(flat.shape)") }
    }

    /// Parameters with the given flat values.
    public init(layout: ParameterLayout, flat: Tensor) {
        require(flat.shape == Shape([layout.count]), "Parameters: flat vector has shape \(flat.shape), layout needs (\(layout.count))")
        self.layout = layout
        self.flat = flat
    }

    /// Parameters from one tensor per layout entry.
    public init(layout: ParameterLayout, tensors: [Tensor]) {
        self.init(layout: layout, flat: layout.flatten(tensors))
    }

    /// The named tensors, in layout order.
    public var tensors: [Tensor] { layout.tensors(of: flat) }

    /// One named tensor (a copy); setting writes it back into the flat vector.
    public subscript(name: String) -> Tensor {
        get {
            let e = layout.entry(name)
            return Tensor(shape: e.shape, scalars: Array(flat.scalars[e.offset..<e.offset + e.shape.count]))
        }
        set {
            let e = layout.entry(name)
            require(newValue.shape == e.shape, "Parameters: '\(name)' has shape \(e.shape), got \(newValue.shape)")
            var s = flat.scalars
            s.replaceSubrange(e.offset..<e.offset + e.shape.count, with: newValue.scalars)
            flat = Tensor(s)
        }
    }
}
