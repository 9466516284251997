import TapeKernels
/// A dense array of `Double` with a `Shape` of rank 0, 1 or 2, stored row-major and contiguous.
///
/// `Tensor` is a value type (copy-on-write through its `[Double]` storage). It is what goes in
/// and comes out of differentiation; inside a differentiated function values are `Variable`s.
public struct Tensor: Equatable, Sendable, CustomStringConvertible {
    /// The shape; `scalars.count == shape.count` always holds.
    public private(set) var shape: Shape
    /// The elements in row-major order.
    public var scalars: [Double] {
        get { storage }
        set { storage = newValue; checkCount() }
        // In place: `t.scalars[i] = x` from another module must not copy the array. With a `didSet` observer
        // the compiler's cross-module code read the array, wrote the element into a copy and set it back.
        _modify { yield &storage; checkCount() }
    }
    /// The storage behind `scalars`.
    @usableFromInline var storage: [Double]

    @inline(__always) private func checkCount() {
        require(storage.count == shape.count,
                "Tensor: \(storage.count) scalars do not fill shape \(shape) (\(shape.count) needed)")
    }

    /// A tensor of `shape` holding `scalars` (row-major; the count must match).
    public init(shape: Shape, scalars: [Double]) {
        self.shape = shape
        self.storage = scalars
        checkCount()
    }

    /// A tensor whose shape is given as a list of dimensions, e.g. `Tensor(shape: dims, scalars: …)` with
    /// `dims: [Int]` (at most two; `Shape(dims)` is the same shape as a value).
    public init(shape dimensions: [Int], scalars: [Double]) {
        self.init(shape: Shape(dimensions), scalars: scalars)
    }

    /// A rank-0 tensor.
    public init(_ scalar: Double) { self.init(shape: .scalar, scalars: [scalar]) }

    /// A rank-1 tensor (vector).
    public init(_ vector: [Double]) { self.init(shape: Shape([vector.count]), scalars: vector) }

    /// A rank-2 tensor from rows of equal length.
    public init(rows: [[Double]]) {
        let cols = rows.first?.count ?? 0
        require(rows.allSatisfy { $0.count == cols }, "Tensor(rows:): rows have different lengths")
        self.init(shape: Shape([rows.count, cols]), scalars: rows.flatMap { $0 })
    }

    /// A tensor of `shape` filled with `value`.
    public init(repeating value: Double, shape: Shape) {
        self.init(shape: shape, scalars: [Double](repeating: value, count: shape.count))
    }

    /// Zeros of `shape`.
    public static func zeros(_ shape: Shape) -> Tensor { Tensor(repeating: 0, shape: shape) }
    /// Ones of `shape`.
    public static func ones(_ shape: Shape) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// Independent normal entries, mean `mean`, standard deviation `standardDeviation`, drawn from `generator`.
    public static func randomNormal(_ shape: Shape, mean: Double = 0, standardDeviation: Double = 1,
                                    using generator: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.count).map { _ in mean + standardDeviation * generator.nextNormal() })
    }

    /// Independent uniform entries in `[low, high)`, drawn from `generator`.
    public static func randomUniform(_ shape: Shape, in range: Range<Double> = 0..<1,
                                     using generator: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.count).map { _ in
            range.lowerBound + (range.upperBound - range.lowerBound) * generator.nextUniform()
        })
    }

    /// The `n × n` identity matrix.
    public static func identity(_ n: Int) -> Tensor {
        var t = Tensor.zeros([n, n])
        for i in 0..<n { t.scalars[i * n + i] = 1 }
        return t
    }

    /// Number of elements.
    @inlinable public var count: Int { scalars.count }
    /// Rank of the shape.
    @inlinable public var rank: Int { shape.rank }

    /// The single element of a tensor with one element (any rank).
    public var scalar: Double {
        require(count == 1, "Tensor.scalar: tensor of shape \(shape) has \(count) elements, not 1")
        return scalars[0]
    }

    /// Element `(row, col)` of a rank-2 tensor.
    public subscript(row: Int, col: Int) -> Double {
        get {
            require(rank == 2 && row >= 0 && row < shape.rows && col >= 0 && col < shape.cols,
                         "Tensor[\(row), \(col)]: out of range for shape \(shape)")
            return scalars[row * shape.cols + col]
        }
        set {
            require(rank == 2 && row >= 0 && row < shape.rows && col >= 0 && col < shape.cols,
                         "Tensor[\(row), \(col)]: out of range for shape \(shape)")
            scalars[row * shape.cols + col] = newValue
        }
    }

    /// The same elements with another shape of equal element count.
    public func reshaped(_ newShape: Shape) -> Tensor {
        require(newShape.count == shape.count,
                     "reshape: cannot reshape \(shape) (\(shape.count) elements) to \(newShape) (\(newShape.count) elements)")
        return Tensor(shape: newShape, scalars: scalars)
    }

    /// The matrix transpose (a vector or scalar is returned unchanged), like `Variable.transposed()`.
    public func transposed() -> Tensor {
        guard rank == 2 else { return self }
        let (m, n) = (shape.rows, shape.cols)
        var out = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { out[j * m + i] = scalars[i * n + j] } }
        return Tensor(shape: [n, m], scalars: out)
    }

    /// Row `i` of a rank-2 tensor, as a vector.
    public func row(_ i: Int) -> Tensor {
        require(rank == 2 && i >= 0 && i < shape.rows, "Tensor.row(\(i)): out of range for shape \(shape)")
        let n = shape.cols
        return Tensor(Array(scalars[(i * n)..<((i + 1) * n)]))
    }

    /// Whether every element is finite (no NaN, no ±∞).
    public var isFinite: Bool { scalars.allSatisfy { $0.isFinite } }

    /// `Tensor(x)`, `Tensor([…])`, or for a matrix `Tensor([[…], …])` with one row per line.
    public var description: String {
        func fmt(_ x: Double) -> String { String(x) }
        switch rank {
        case 0: return "Tensor(\(fmt(scalars[0])))"
        case 1: return "Tensor(" + "[" + scalars.map(fmt).joined(separator: ", ") + "])"
        default:
            let n = shape.cols
            let rows = (0..<shape.rows).map { i in "[" + scalars[(i * n)..<((i + 1) * n)].map(fmt).joined(separator: ", ") + "]" }
            return "Tensor([" + rows.joined(separator: ",\n        ") + "])"
        }
    }
}

// MARK: - Vector-space helpers used throughout (eager, not recorded on any tape)

extension Tensor {
    /// Elementwise sum of two tensors of the same shape.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        require(a.shape == b.shape, "Tensor +: shapes \(a.shape) and \(b.shape) differ")
        return a.combined(with: b) { $0 + $1 }
    }
    /// Elementwise difference of two tensors of the same shape.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        require(a.shape == b.shape, "Tensor -: shapes \(a.shape) and \(b.shape) differ")
        return a.combined(with: b) { $0 - $1 }
    }
    /// Every element scaled by `s`.
    public static func * (s: Double, a: Tensor) -> Tensor { a.combined(with: a) { x, _ in s * x } }
    /// Negation.
    public static prefix func - (a: Tensor) -> Tensor { a.combined(with: a) { x, _ in -x } }

    /// f(aᵢ, bᵢ) elementwise into a new tensor of a's shape, as one loop over raw buffers (which the compiler
    /// vectorizes; these helpers run on every iterate of CG and Neumann, whose vectors have every weight).
    @inline(__always)
    private func combined(with other: Tensor, _ f: (Double, Double) -> Double) -> Tensor {
        let n = count
        let out = [Double](unsafeUninitializedCapacity: n) { buffer, initialized in
            scalars.withUnsafeBufferPointer { x in other.scalars.withUnsafeBufferPointer { y in
                for i in 0..<n { buffer[i] = f(x[i], y[i]) }
            } }
            initialized = n
        }
        return Tensor(shape: shape, scalars: out)
    }

    /// ⟨a, b⟩ = Σᵢ aᵢ bᵢ over all elements (shapes must match), summed in four interleaved partial sums
    /// (elements i ≡ 0, 1, 2, 3 mod 4, then (s₀ + s₁) + (s₂ + s₃)): four independent chains of additions run
    /// at once instead of one, and the rounding error grows no faster than the one-by-one sum's (`Kernels.dot`).
    public func dot(_ other: Tensor) -> Double {
        require(shape == other.shape, "Tensor.dot: shapes \(shape) and \(other.shape) differ")
        return scalars.withUnsafeBufferPointer { x in other.scalars.withUnsafeBufferPointer { y in
            x.isEmpty ? 0 : Kernels.dot(x.baseAddress!, y.baseAddress!, count: x.count)
        } }
    }

    /// Euclidean (Frobenius) norm ‖a‖₂.
    public var norm: Double { dot(self).squareRoot() }

    /// The matrix product of rank-2 tensors (eager; uses the same kernel as `Variable.matmul`).
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        let outShape = Shape.matmulResult(shape, other.shape, transposeSelf, transposeOther, op: "Tensor.matmul")
        var out = [Double](repeating: 0, count: outShape.count)
        scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { c in
                    guard let ap = a.baseAddress, let bp = b.baseAddress, let cp = c.baseAddress else { return }
                    let m = outShape.rows, n = outShape.cols, k = transposeSelf ? shape.rows : shape.cols
                    // Eager products borrow packing buffers for the call only.
                    let arena = Arena()
                    GemmContext.multiply(transposeSelf, transposeOther, m, n, k, ap, shape.cols, bp, other.shape.cols, cp, n,
                                         beta: 0, arena: arena)
                }
            }
        }
        return Tensor(shape: outShape, scalars: out)
    }

    /// Overwrites the elements with `count` values from `p` (zeros when nil), in place when the
    /// storage is not shared.
    mutating func overwrite(from p: UnsafePointer<Double>?) {
        let n = shape.count
        scalars.withUnsafeMutableBufferPointer { b in
            guard n > 0, let base = b.baseAddress else { return }
            if let p { tk_copy(base, p, n) } else { base.update(repeating: 0, count: n) }
        }
    }

    /// Largest |aᵢ − bᵢ| over all elements (shapes must match).
    public func maxAbsoluteDifference(_ other: Tensor) -> Double {
        require(shape == other.shape, "maxAbsoluteDifference: shapes \(shape) and \(other.shape) differ")
        return zip(scalars, other.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }
}

extension Shape {
    /// Result shape of `op(a) · op(b)` for rank-2 `a`, `b`; traps naming both shapes when they do not fit.
    static func matmulResult(_ a: Shape, _ b: Shape, _ ta: Bool, _ tb: Bool, op: String) -> Shape {
        require(a.rank == 2 && b.rank == 2,
                     "\(op): both operands must be rank 2, got shapes \(a) and \(b)")
        let (m, k1) = ta ? (a.cols, a.rows) : (a.rows, a.cols)
        let (k2, n) = tb ? (b.cols, b.rows) : (b.rows, b.cols)
        require(k1 == k2, "\(op): shapes \(a)\(ta ? "ᵀ" : "") and \(b)\(tb ? "ᵀ" : "") do not fit (inner dimensions \(k1) and \(k2) differ)")
        return Shape(rows: m, cols: n)
    }
}
