// The differentiation entry points as free functions: each records on a fresh `Tape`. To reuse buffers
// across many calls (an inner loop), keep a `Tape` and call its methods of the same names.

/// f(x) and ∇f(x) for scalar-valued f of one tensor.
public func valueAndGradient(of f: (Variable) -> Variable, at x: Tensor) -> (value: Double, gradient: Tensor) {
    Tape().valueAndGradient(of: f, at: x)
}
/// f(x) and the gradients for the inputs in `wrt` (default all) of scalar-valued f.
public func valueAndGradient(of f: ([Variable]) -> Variable, at xs: [Tensor], wrt: [Int]? = nil) -> (value: Double, gradients: [Tensor]) {
    Tape().valueAndGradient(of: f, at: xs, wrt: wrt)
}
/// ∇f(x) for scalar-valued f of one tensor.
public func gradient(of f: (Variable) -> Variable, at x: Tensor) -> Tensor {
    Tape().valueAndGradient(of: f, at: x).gradient
}
/// The gradients for the inputs in `wrt` (default all) of scalar-valued f.
public func gradient(of f: ([Variable]) -> Variable, at xs: [Tensor], wrt: [Int]? = nil) -> [Tensor] {
    Tape().valueAndGradient(of: f, at: xs, wrt: wrt).gradients
}
/// The value of f at xs (forward pass only).
public func evaluate(_ f: ([Variable]) -> Variable, at xs: [Tensor]) -> Tensor {
    Tape().evaluate(f, at: xs)
}
/// The values of a multi-output f at xs (forward pass only).
public func evaluate(_ f: ([Variable]) -> [Variable], at xs: [Tensor]) -> [Tensor] {
    Tape().evaluate(f, at: xs)
}
/// Values and J·v of a multi-output f (nil directions are zero).
public func jvp(of f: ([Variable]) -> [Variable], at xs: [Tensor], along vs: [Tensor?]) -> (values: [Tensor], tangents: [Tensor]) {
    Tape().jvp(of: f, at: xs, along: vs)
}
/// Values of a multi-output f and Σₖ uₖᵀ J_{fₖ} for the inputs in `wrt` (default all).
public func vjp(of f: ([Variable]) -> [Variable], at xs: [Tensor], cotangents us: [Tensor], wrt: [Int]? = nil) -> (values: [Tensor], cotangents: [Tensor]) {
    Tape().vjp(of: f, at: xs, cotangents: us, wrt: wrt)
}
/// f(x) and J_f(x)·v (forward mode).
public func jvp(of f: (Variable) -> Variable, at x: Tensor, along v: Tensor) -> (value: Tensor, tangent: Tensor) {
    Tape().jvp(of: f, at: x, along: v)
}
/// f(x) and J_f(x)·v for several inputs (nil directions are zero).
public func jvp(of f: ([Variable]) -> Variable, at xs: [Tensor], along vs: [Tensor?]) -> (value: Tensor, tangent: Tensor) {
    Tape().jvp(of: f, at: xs, along: vs)
}
/// f(x) and uᵀ J_f(x) (reverse mode).
public func vjp(of f: (Variable) -> Variable, at x: Tensor, cotangent u: Tensor) -> (value: Tensor, cotangent: Tensor) {
    Tape().vjp(of: f, at: x, cotangent: u)
}
/// f(x) and uᵀ J_f(x) for the inputs in `wrt` (default all).
public func vjp(of f: ([Variable]) -> Variable, at xs: [Tensor], cotangent u: Tensor, wrt: [Int]? = nil) -> (value: Tensor, cotangents: [Tensor]) {
    Tape().vjp(of: f, at: xs, cotangent: u, wrt: wrt)
}
/// H(x)·v alone, by forward-over-reverse (the cheaper form: the gradient's own products are skipped).
public func hessianVectorProduct(of f: (Variable) -> Variable, at x: Tensor, along v: Tensor) -> Tensor {
    Tape().hessianVectorProduct(of: f, at: x, along: v)
}
/// H·v alone for several inputs (nil directions are zero), for the inputs in `wrt` (default all).
public func hessianVectorProduct(of f: ([Variable]) -> Variable, at xs: [Tensor], along vs: [Tensor?], wrt: [Int]? = nil) -> [Tensor] {
    Tape().hessianVectorProduct(of: f, at: xs, along: vs, wrt: wrt)
}
/// f(x), ∇f(x) and H(x)·v from one forward-over-reverse sweep.
public func valueGradientAndHessianVectorProduct(of f: (Variable) -> Variable, at x: Tensor,
                                                 along v: Tensor) -> (value: Double, gradient: Tensor, product: Tensor) {
    Tape().valueGradientAndHessianVectorProduct(of: f, at: x, along: v)
}
/// Value, gradients and Hessian-vector products for several inputs (nil directions are zero).
public func valueGradientAndHessianVectorProduct(of f: ([Variable]) -> Variable, at xs: [Tensor], along vs: [Tensor?],
                                                 wrt: [Int]? = nil) -> HessianVectorProduct {
    Tape().valueGradientAndHessianVectorProduct(of: f, at: xs, along: vs, wrt: wrt)
}
/// The dense Hessian (n × n over x's elements) of scalar-valued f, from its gradient linearized once and n
/// products in blocks of up to 32 directions per sweep.
public func hessian(of f: (Variable) -> Variable, at x: Tensor) -> Tensor {
    Tape().hessian(of: f, at: x)
}
/// The gradient of scalar-valued f linearized at xs, on a fresh tape: v ↦ H·v ready to apply many times
/// (see `Tape.linearizedGradient(of:at:wrt:)`).
public func linearizedGradient(of f: ([Variable]) -> Variable, at xs: [Tensor], wrt: [Int]? = nil) -> Linearization {
    Tape().linearizedGradient(of: f, at: xs, wrt: wrt)
}
