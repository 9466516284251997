import Tape

/// One row per operation: a function of some inputs, the inputs' shapes, and where the inputs
/// may be drawn from (e.g. positive for log). Adding an op to the engine adds one row here; its attributes
/// (slice ranges, pad lengths, reshapes) are written relative to the input's shape, so that the row also runs
/// at `largeInputs` sizes (ReleaseTests).
struct OpCase: Sendable, CustomStringConvertible {
    enum Domain: Sendable { case any, positive, awayFromZero }
    let name: String
    let shapes: [Shape]
    let domain: Domain
    let f: @Sendable ([Variable]) -> Variable
    var description: String { name }

    init(_ name: String, _ shapes: [Shape], _ domain: Domain = .any, _ f: @escaping @Sendable ([Variable]) -> Variable) {
        self.name = name; self.shapes = shapes; self.domain = domain; self.f = f
    }

    /// Seeded inputs for this row.
    func inputs(seed: UInt64) -> [Tensor] { inputs(seed: seed, shapes: shapes) }

    /// The same row at sizes whose values reach the sweep's buffer release (`Arena.largeMinimum` = 16,384
    /// doubles): every dimension other than 1 times 43 (3 × 4 → 129 × 172; 3 × 3 → 129 × 129), or, in a row
    /// of vectors and scalars only, times 4,100 (4 → 16,400). The rows' attributes are relative to the input's
    /// shape, so the same function applies.
    func largeInputs(seed: UInt64) -> [Tensor] {
        let factor = shapes.contains { $0.rank == 2 } ? 43 : 4_100
        return inputs(seed: seed, shapes: shapes.map { Shape($0.dimensions.map { $0 == 1 ? 1 : $0 * factor }) })
    }

    private func inputs(seed: UInt64, shapes: [Shape]) -> [Tensor] {
        var g = SeededGenerator(seed: seed)
        return shapes.map { s in
            var t = Tensor.randomNormal(s, using: &g)
            switch domain {
            case .any: break
            case .positive: t.scalars = t.scalars.map { 0.5 + abs($0) }
            case .awayFromZero: t.scalars = t.scalars.map { ($0 < 0 ? -0.3 : 0.3) + $0 }
            }
            return t
        }
    }
}

let m34: Shape = [3, 4], m43: Shape = [4, 3], v4: Shape = [4], v3: Shape = [3], c31: Shape = [3, 1]

let opTable: [OpCase] = [
    OpCase("add", [m34, m34]) { $0[0] + $0[1] },
    OpCase("add row broadcast", [m34, v4]) { $0[0] + $0[1] },
    OpCase("add column broadcast", [m34, c31]) { $0[0] + $0[1] },
    OpCase("add scalar broadcast", [m34, .scalar]) { $0[1] + $0[0] },
    OpCase("add outer broadcast", [c31, [1, 4]]) { $0[0] + $0[1] },
    OpCase("add vectors", [v4, v4]) { $0[0] + $0[1] },
    OpCase("subtract", [m34, m34]) { $0[0] - $0[1] },
    OpCase("subtract row broadcast", [v4, m34]) { $0[0] - $0[1] },
    OpCase("multiply", [m34, m34]) { $0[0] * $0[1] },
    OpCase("multiply row broadcast", [m34, v4]) { $0[0] * $0[1] },
    OpCase("multiply column broadcast", [c31, m34]) { $0[0] * $0[1] },
    OpCase("multiply self", [m34]) { $0[0] * $0[0] },
    OpCase("divide", [m34, m34], .positive) { $0[0] / $0[1] },
    OpCase("divide column broadcast", [m34, c31], .positive) { $0[0] / $0[1] },
    OpCase("divide scalar by tensor", [m34], .positive) { 2.0 / $0[0] },
    OpCase("negate", [m34]) { -$0[0] },
    OpCase("scale", [m34]) { $0[0] * 2.5 },
    OpCase("add constant", [m34]) { $0[0] + 1.5 },
    OpCase("exp", [m34]) { $0[0].exp() },
    OpCase("log", [m34], .positive) { $0[0].log() },
    OpCase("tanh", [m34]) { $0[0].tanh() },
    OpCase("relu", [m34], .awayFromZero) { $0[0].relu() },
    OpCase("softplus", [m34]) { ($0[0] * 3).softplus() },
    OpCase("sigmoid", [m34]) { ($0[0] * 3).sigmoid() },
    OpCase("sin", [m34]) { $0[0].sin() },
    OpCase("cos", [m34]) { $0[0].cos() },
    OpCase("square", [m34]) { $0[0].squared() },
    OpCase("sqrt", [m34], .positive) { $0[0].sqrt() },
    OpCase("pow 2.5", [m34], .positive) { $0[0].pow(2.5) },
    OpCase("pow -1", [m34], .positive) { $0[0].pow(-1) },
    OpCase("matmul", [m34, m43]) { $0[0].matmul($0[1]) },
    OpCase("matmul Aᵀ", [m43, m43]) { $0[0].matmul($0[1], transposeSelf: true) },
    OpCase("matmul Bᵀ", [m34, m34]) { $0[0].matmul($0[1], transposeOther: true) },
    OpCase("matmul AᵀBᵀ", [m43, m34]) { $0[0].matmul($0[1], transposeSelf: true, transposeOther: true) },
    OpCase("matmul self", [[3, 3]]) { $0[0].matmul($0[0]) },
    OpCase("transpose", [m34]) { $0[0].transposed() },
    OpCase("sum", [m34]) { $0[0].sum() },
    OpCase("sum axis 0", [m34]) { $0[0].sum(alongAxis: 0) },
    OpCase("sum axis 1 kept", [m34]) { $0[0].sum(alongAxis: 1, keepingDimension: true) },
    OpCase("sum axis -1", [m34]) { $0[0].sum(alongAxis: -1) },
    OpCase("sum vector axis 0", [v4]) { $0[0].sum(alongAxis: 0) },
    OpCase("mean", [m34]) { $0[0].mean() },
    OpCase("mean axis 0", [m34]) { $0[0].mean(alongAxis: 0) },
    OpCase("logSumExp axis 1", [m34]) { $0[0].logSumExp(alongAxis: 1) },
    OpCase("logSumExp axis 0 kept", [m34]) { $0[0].logSumExp(alongAxis: 0, keepingDimension: true) },
    OpCase("logSumExp vector", [v4]) { $0[0].logSumExp(alongAxis: 0) },
    OpCase("softmax axis 1", [m34]) { $0[0].softmax(alongAxis: 1) },
    OpCase("softmax axis 0", [m34]) { $0[0].softmax(alongAxis: 0) },
    OpCase("logSoftmax axis 1", [m34]) { $0[0].logSoftmax(alongAxis: 1) },
    OpCase("reshape", [m34]) { $0[0].reshaped([2, $0[0].shape.count / 2]) },
    OpCase("reshape to vector", [m34]) { $0[0].reshaped([$0[0].shape.count]) },
    OpCase("slice rows", [m34]) { $0[0].rows(1..<3) },
    OpCase("slice cols", [m34]) { $0[0].cols(1..<3) },
    OpCase("slice vector", [[7]]) { $0[0].rows(2..<5) },
    OpCase("pad axis 0", [m34]) { $0[0].padded(alongAxis: 0, start: 1, total: $0[0].shape.rows + 2) },
    OpCase("pad axis 1", [m34]) { $0[0].padded(alongAxis: 1, start: 2, total: $0[0].shape.cols + 3) },
    OpCase("pad vector", [v4]) { $0[0].padded(alongAxis: 0, start: 1, total: $0[0].shape.count + 2) },
    OpCase("concat axis 0", [m34, [2, 4]]) { Variable.concatenate([$0[0], $0[1]], alongAxis: 0) },
    OpCase("concat axis 1", [m34, c31, m34]) { Variable.concatenate([$0[0], $0[1], $0[2]], alongAxis: 1) },
    OpCase("concat vectors", [v4, v3]) { Variable.concatenate([$0[0], $0[1]]) },
    OpCase("concat repeated operand", [v4]) { Variable.concatenate([$0[0], $0[0]]) },
    OpCase("dot", [m34, m34]) { $0[0].dot($0[1]) },
    OpCase("dot vectors", [v4, v4]) { $0[0].dot($0[1]) },
]
