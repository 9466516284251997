/// The shape of a `Tensor`: rank 0 (scalar), 1 (vector of `n`) or 2 (matrix of `rows × cols`).
///
/// Broadcasting follows NumPy for ranks up to 2: shapes are aligned at their trailing
/// dimension, and a dimension of size 1 (or a missing one) stretches to match the other.
/// So a vector `(n)` acts as a row `(1, n)`, and `(m, 1)` is a column.
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    // Stored inline (no array) so that copying a shape costs no reference counting: shapes
    // travel with every buffer through every sweep.
    @usableFromInline let storedRank: Int
    @usableFromInline let d0: Int
    @usableFromInline let d1: Int

    /// The dimensions, outermost first; empty for a scalar.
    public var dimensions: [Int] { storedRank == 0 ? [] : storedRank == 1 ? [d0] : [d0, d1] }

    /// A shape with the given dimensions (at most 2, each ≥ 0).
    public init(_ dimensions: [Int]) {
        require(dimensions.count <= 2,
                     "Shape: rank \(dimensions.count) is not supported (ranks 0, 1 and 2 are); got \(dimensions)")
        require(dimensions.allSatisfy { $0 >= 0 }, "Shape: negative dimension in \(dimensions)")
        storedRank = dimensions.count
        d0 = dimensions.count > 0 ? dimensions[0] : 1
        d1 = dimensions.count > 1 ? dimensions[1] : 1
    }

    /// A matrix shape `rows × cols`.
    @inlinable public init(rows: Int, cols: Int) {
        require(rows >= 0 && cols >= 0, "Shape: negative dimension in (\(rows), \(cols))")
        storedRank = 2; d0 = rows; d1 = cols
    }

    /// A shape from a literal list of dimensions, e.g. `[2, 3]`.
    public init(arrayLiteral elements: Int...) { self.init(elements) }

    /// A shape from its stored fields, without building an array (hot paths).
    @inlinable init(rank: Int, _ d0: Int, _ d1: Int) {
        storedRank = rank; self.d0 = d0; self.d1 = d1
    }

    /// Dimension `i` (0 ≤ i < rank), outermost first.
    @inlinable func dimension(_ i: Int) -> Int { i == 0 ? d0 : d1 }

    /// This shape with dimension `axis` replaced by `size`.
    @inlinable func replacing(axis: Int, with size: Int) -> Shape {
        storedRank == 1 ? Shape(rank: 1, size, 1) : axis == 0 ? Shape(rank: 2, size, d1) : Shape(rank: 2, d0, size)
    }

    /// The scalar shape `()`.
    public static let scalar = Shape([])

    /// Number of dimensions (0, 1 or 2).
    @inlinable public var rank: Int { storedRank }

    /// Number of elements: the product of the dimensions (1 for a scalar).
    @inlinable public var count: Int { d0 * d1 }

    /// Rows when viewed as a matrix: a scalar is `1 × 1`, a vector `(n)` is `1 × n`.
    @inlinable public var rows: Int { storedRank == 2 ? d0 : 1 }

    /// Columns when viewed as a matrix.
    @inlinable public var cols: Int { storedRank == 2 ? d1 : d0 }

    /// Size of `axis` (negative axes count from the end).
    public func size(alongAxis axis: Int) -> Int { dimension(normalizedAxis(axis, op: "size")) }

    /// `(2, 3)`, `(5)`, `()`, as in NumPy but with `(5)` rather than `(5,)`.
    public var description: String { "(" + dimensions.map(String.init).joined(separator: ", ") + ")" }

    /// Resolves a possibly negative axis; traps with a message naming `op` if out of range.
    public func normalizedAxis(_ axis: Int, op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        require(a >= 0 && a < rank, "\(op): axis \(axis) is out of range for shape \(self)")
        return a
    }

    /// This shape with `axis` removed (or kept as size 1 when `keepingDimension`).
    func reduced(alongAxis axis: Int, keepingDimension: Bool) -> Shape {
        if keepingDimension { return replacing(axis: axis, with: 1) }
        if storedRank == 1 { return .scalar }
        return Shape(rank: 1, axis == 0 ? d1 : d0, 1)
    }

    /// The NumPy broadcast of two shapes, or `nil` when they are incompatible.
    public static func broadcast(_ a: Shape, _ b: Shape) -> Shape? {
        if a == b { return a }
        if a.storedRank == 0 { return b }
        if b.storedRank == 0 { return a }
        // Align trailing dimensions; no arrays, since this runs for every elementwise op.
        let rank = max(a.rank, b.rank)
        var out = (1, 1)
        for i in 0..<rank {
            let da = i < a.rank ? a.dimension(a.rank - 1 - i) : 1
            let db = i < b.rank ? b.dimension(b.rank - 1 - i) : 1
            let o: Int
            if da == db || db == 1 { o = da } else if da == 1 { o = db } else { return nil }
            if rank - 1 - i == 0 { out.0 = o } else { out.1 = o }
        }
        return Shape(rank: rank, out.0, out.1)
    }

    /// Whether the two shapes hold the same elements in the same order, differing at most by
    /// dimensions of size 1 (as `(n)`, `(1, n)` and `(n, 1)` do).
    func isSqueezeEquivalent(to other: Shape) -> Bool {
        if self == other { return true }
        // Compare the dimensions that are not 1, in order.
        func squeezed(_ s: Shape) -> (Int, Int, Int) {
            var n = 0, v = (0, 0)
            for i in 0..<s.rank where s.dimension(i) != 1 { if n == 0 { v.0 = s.dimension(i) } else { v.1 = s.dimension(i) }; n += 1 }
            return (n, v.0, v.1)
        }
        return squeezed(self) == squeezed(other)
    }

    /// Whether this shape broadcasts to `target` without changing `target`.
    func broadcasts(to target: Shape) -> Bool { Shape.broadcast(self, target) == target }

    /// Strides of this shape inside the 2-D iteration space of `target` (rows, cols):
    /// 0 along a broadcast dimension. Assumes `broadcasts(to: target)`.
    func strides(in target: Shape) -> (row: Int, col: Int) {
        let colStride = (cols == target.cols) ? 1 : 0
        let rowStride = (rows == target.rows && target.rows > 1) ? cols : 0
        return (rowStride, colStride)
    }
}
