/// Runs matrix products for a sweep (placeholder: the portable Swift loops).
struct GemmContext {
    unowned(unsafe) let arena: Arena

    @inline(__always)
    func run(_ a: UnsafeMutablePointer<Double>, _ aShape: Shape, _ ta: Bool,
             _ b: UnsafeMutablePointer<Double>, _ bShape: Shape, _ tb: Bool,
             into c: UnsafeMutablePointer<Double>, accumulate: Bool) {
        Kernels.matmul(a, aShape, ta, b, bShape, tb, into: c, accumulate: accumulate)
    }
}
