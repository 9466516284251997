/// Value, gradient and Hessian-vector product of a scalar function f(x₁, …, xₙ) at a point, as returned by
/// `valueGradientAndHessianVectorProduct(of:at:along:wrt:)`.
public struct HessianVectorProduct {
    /// f(x).
    public var value: Double
    /// ∂f/∂xᵢ for each differentiated input, in the order asked.
    public var gradients: [Tensor]
    /// Σⱼ (∂²f/∂xᵢ∂xⱼ) vⱼ for each differentiated input: the directional derivative of the
    /// gradient along the directions v (absent directions are zero). With directions (v, nil)
    /// for f(w, λ) this is (H_ww·v, H_λw·v), the mixed product the bilevel layer needs.
    public var products: [Tensor]

    /// An empty result, to be filled by `Tape.valueGradientAndHessianVectorProduct(of:at:along:wrt:into:)`.
    package init() { self.init(value: 0, gradients: [], products: []) }

    /// A result with the given parts.
    package init(value: Double, gradients: [Tensor], products: [Tensor]) {
        self.value = value; self.gradients = gradients; self.products = products
    }
}

/// The directions of a call: none, one optional direction per input, or one per input (which spares
/// converting a `[Tensor]` to `[Tensor?]`, an allocation and a cast per call).
enum Directions {
    case none, optional([Tensor?]), every([Tensor])

    var count: Int? {
        switch self { case .none: nil; case .optional(let v): v.count; case .every(let v): v.count }
    }

    subscript(k: Int) -> Tensor? {
        switch self { case .none: nil; case .optional(let v): v[k]; case .every(let v): v[k] }
    }
}

extension Tape {
    // MARK: Call plumbing

    /// Resets the tape, records the inputs as leaves (with tangents when given) and runs `body`.
    ///
    /// The leaves view the tensors' storage instead of copying it: each array is pinned by a nested
    /// `withUnsafeBufferPointer`, so the pointers are valid for the whole of `body`, and no rule ever
    /// writes into an operand's value. (Copying was 10–17 % of an HVP on the mid-size networks.)
    private func withInputs<R>(_ xs: [Tensor], directions: [Tensor?]?, wrt: [Int]?, _ name: StaticString,
                               _ body: () -> R) -> R {
        withInputs(xs, directions: directions.map(Directions.optional) ?? .none, wrt: wrt, name, body)
    }

    /// The same with directions given as a `Directions` (which spares converting a `[Tensor]`).
    private func withInputs<R>(_ xs: [Tensor], directions: Directions, wrt: [Int]?, _ name: StaticString,
                               _ body: () -> R) -> R {
        require(!isRecording, "\(name): called on a tape that is recording; use a separate Tape for a nested differentiation")
        if let count = directions.count {
            require(count == xs.count, "\(name): \(count) directions for \(xs.count) inputs")
        }
        if let wrt {
            require(wrt.allSatisfy { $0 >= 0 && $0 < xs.count }, "\(name): wrt indices \(wrt) out of range for \(xs.count) inputs")
        }
        reset()
        inputVariables.removeAll(keepingCapacity: true)
        inputNodes.removeAll(keepingCapacity: true)
        return pinInputs(xs, directions, wrt, from: 0, body)
    }

    /// Records input k as a leaf inside the pinning scope of its buffers, then the next one.
    private func pinInputs<R>(_ xs: [Tensor], _ directions: Directions, _ wrt: [Int]?, from k: Int, _ body: () -> R) -> R {
        if k == xs.count { return body() }
        let needs = wrt.map { $0.contains(k) } ?? true
        return xs[k].scalars.withUnsafeBufferPointer { p in
            guard let tangent = directions[k] else {
                addInput(leaf(p, xs[k].shape, tangent: nil, requiresGradient: needs))
                return pinInputs(xs, directions, wrt, from: k + 1, body)
            }
            require(tangent.shape == xs[k].shape, "direction of shape \(tangent.shape) does not match input of shape \(xs[k].shape)")
            return tangent.scalars.withUnsafeBufferPointer { t in
                addInput(leaf(p, xs[k].shape, tangent: t, requiresGradient: needs))
                return pinInputs(xs, directions, wrt, from: k + 1, body)
            }
        }
    }

    @inline(__always) private func addInput(_ v: Variable) {
        inputVariables.append(v)
        inputNodes.append(v.index)
    }

    /// Calls f on the recorded inputs; returns the output node.
    func call(_ f: ([Variable]) -> Variable, _ name: StaticString) -> Int {
        isRecording = true
        defer { isRecording = false }
        let y = f(inputVariables)
        require(y.tape === self, "\(name): the function returned a Variable from another tape")
        check(y, name)
        return Int(y.index)
    }

    /// Calls a multi-output f on the recorded inputs; returns the output nodes.
    private func callMany(_ f: ([Variable]) -> [Variable], _ name: StaticString) -> [Int] {
        isRecording = true
        defer { isRecording = false }
        return f(inputVariables).map { y in
            require(y.tape === self, "\(name): the function returned a Variable from another tape")
            check(y, name)
            return Int(y.index)
        }
    }

    func requireScalar(_ node: Int, _ name: StaticString) {
        let s = values[node].shape
        require(s.count == 1, "\(name): the function must return a scalar, but returned shape \(s)")
    }

    private func tensor(_ p: UnsafeMutablePointer<Double>?, _ shape: Shape) -> Tensor {
        guard let p else { return .zeros(shape) }
        return Tensor(shape: shape, scalars: Array(UnsafeBufferPointer(start: p, count: shape.count)))
    }

    /// Writes the adjoints (or their tangents) of `nodes` into `out`, reusing its tensors when their
    /// shapes match (absent adjoints are zeros).
    func store(_ nodes: [Int], tangents: Bool, into out: inout [Tensor]) {
        if out.count > nodes.count { out.removeLast(out.count - nodes.count) }
        for (i, node) in nodes.enumerated() {
            let shape = values[node].shape
            let p = tangents ? adjoints[node]?.t : adjoints[node]?.p
            if i < out.count, out[i].shape == shape {
                out[i].overwrite(from: p)
            } else {
                let t = tensor(p, shape)
                if i < out.count { out[i] = t } else { out.append(t) }
            }
        }
    }

    func seedOne() -> Slot { algebra.scalar(1) }

    // MARK: Public entry points

    /// f(x) and ∇ₓf for scalar-valued f of several inputs; gradients for the inputs in `wrt`
    /// (default all), in that order. Others are held constant.
    public func valueAndGradient(of f: ([Variable]) -> Variable, at xs: [Tensor],
                                 wrt: [Int]? = nil) -> (value: Double, gradients: [Tensor]) {
        var grads: [Tensor] = []
        let value = valueAndGradient(of: f, at: xs, wrt: wrt, into: &grads)
        return (value, grads)
    }

    /// f(x), writing ∇ₓf for the inputs in `wrt` (default all) into `gradients`: tensors already there
    /// with the right shapes are overwritten in place, so a loop of calls allocates nothing.
    package func valueAndGradient(of f: ([Variable]) -> Variable, at xs: [Tensor], wrt: [Int]? = nil,
                                 into gradients: inout [Tensor]) -> Double {
        withInputs(xs, directions: nil, wrt: wrt, "valueAndGradient") {
            let out = call(f, "valueAndGradient")
            requireScalar(out, "valueAndGradient")
            backward(from: out, seed: seedOne())
            chosenNodes(wrt, xs.count)
            store(resultNodes, tangents: false, into: &gradients)
            return values[out].p[0]
        }
    }

    /// f(x) and ∇f(x) for scalar-valued f of one tensor.
    public func valueAndGradient(of f: (Variable) -> Variable, at x: Tensor) -> (value: Double, gradient: Tensor) {
        let r = valueAndGradient(of: { f($0[0]) }, at: [x])
        return (r.value, r.gradients[0])
    }

    /// The values of f at xs (a forward pass, nothing differentiated).
    public func evaluate(_ f: ([Variable]) -> [Variable], at xs: [Tensor]) -> [Tensor] {
        withInputs(xs, directions: nil, wrt: [], "evaluate") {
            callMany(f, "evaluate").map { tensor(values[$0].p, values[$0].shape) }
        }
    }

    /// The value of f at xs (a forward pass, nothing differentiated).
    public func evaluate(_ f: ([Variable]) -> Variable, at xs: [Tensor]) -> Tensor {
        evaluate({ [f($0)] }, at: xs)[0]
    }

    /// The values of a multi-output f and their directional derivatives J·v (nil directions are zero).
    public func jvp(of f: ([Variable]) -> [Variable], at xs: [Tensor], along vs: [Tensor?]) -> (values: [Tensor], tangents: [Tensor]) {
        withInputs(xs, directions: vs, wrt: [], "jvp") {
            let outs = callMany(f, "jvp")
            return (outs.map { tensor(values[$0].p, values[$0].shape) }, outs.map { tensor(values[$0].t, values[$0].shape) })
        }
    }

    /// The values of a multi-output f and Σₖ uₖᵀ J_{fₖ}(x) for each input in `wrt` (default all):
    /// the reverse-mode product with one cotangent per output.
    public func vjp(of f: ([Variable]) -> [Variable], at xs: [Tensor], cotangents us: [Tensor],
                    wrt: [Int]? = nil) -> (values: [Tensor], cotangents: [Tensor]) {
        withInputs(xs, directions: nil, wrt: wrt, "vjp") {
            let outs = callMany(f, "vjp")
            require(outs.count == us.count, "vjp: \(us.count) cotangents for \(outs.count) outputs")
            var seeds: [(Int, Slot)] = []
            for (node, u) in zip(outs, us) {
                require(u.shape == values[node].shape,
                             "vjp: cotangent of shape \(u.shape) does not match output of shape \(values[node].shape)")
                seeds.append((node, u.scalars.withUnsafeBufferPointer { algebra.constant($0, shape: u.shape) }))
            }
            backward(seeds: seeds)
            chosenNodes(wrt, xs.count)
            var cotangents: [Tensor] = []
            store(resultNodes, tangents: false, into: &cotangents)
            return (outs.map { tensor(values[$0].p, values[$0].shape) }, cotangents)
        }
    }

    /// f(x) and the forward-mode directional derivative J_f(x)·v (absent directions are zero).
    /// The output may have any shape.
    public func jvp(of f: ([Variable]) -> Variable, at xs: [Tensor], along vs: [Tensor?]) -> (value: Tensor, tangent: Tensor) {
        let r = jvp(of: { [f($0)] }, at: xs, along: vs)
        return (r.values[0], r.tangents[0])
    }

    /// f(x) and J_f(x)·v for f of one tensor.
    public func jvp(of f: (Variable) -> Variable, at x: Tensor, along v: Tensor) -> (value: Tensor, tangent: Tensor) {
        jvp(of: { f($0[0]) }, at: [x], along: [v])
    }

    /// f(x) and the reverse-mode product uᵀ J_f(x) for each input in `wrt` (default all).
    /// The cotangent u has the output's shape.
    public func vjp(of f: ([Variable]) -> Variable, at xs: [Tensor], cotangent u: Tensor,
                    wrt: [Int]? = nil) -> (value: Tensor, cotangents: [Tensor]) {
        let r = vjp(of: { [f($0)] }, at: xs, cotangents: [u], wrt: wrt)
        return (r.values[0], r.cotangents)
    }

    /// f(x) and uᵀ J_f(x) for f of one tensor.
    public func vjp(of f: (Variable) -> Variable, at x: Tensor, cotangent u: Tensor) -> (value: Tensor, cotangent: Tensor) {
        let r = vjp(of: { f($0[0]) }, at: [x], cotangent: u)
        return (r.value, r.cotangents[0])
    }

    /// H·v alone: Σⱼ (∂²f/∂xᵢ∂xⱼ) vⱼ for each input i in `wrt` (default all), for scalar-valued f, by
    /// forward-over-reverse (the JVP of the reverse-mode gradient along v). Absent directions (nil) are zero;
    /// with directions (nil, v) for f(λ, w) the results are (H_λw·v, H_ww·v), the mixed product a bilevel
    /// method needs.
    ///
    /// The sweep forms only the tangents of the inputs' cotangents: for a layer y = x·W it skips
    /// ∂f/∂W = xᵀ·δ and keeps its tangent ẋᵀ·δ + xᵀ·δ̇, one matrix product per layer fewer than
    /// `valueGradientAndHessianVectorProduct` (19 % of the products of a 784 → 256 → 256 → 1 MLP), with the
    /// same bits. It is what XLA computes for JAX's `jvp(grad f)` once it removes the unused gradient.
    public func hessianVectorProduct(of f: ([Variable]) -> Variable, at xs: [Tensor], along vs: [Tensor?],
                                     wrt: [Int]? = nil) -> [Tensor] {
        var products: [Tensor] = []
        hessianVectorProduct(of: f, at: xs, along: vs, wrt: wrt, into: &products)
        return products
    }

    /// H(x)·v alone for scalar-valued f of one tensor.
    public func hessianVectorProduct(of f: (Variable) -> Variable, at x: Tensor, along v: Tensor) -> Tensor {
        hessianVectorProduct(of: { f($0[0]) }, at: [x], along: [v])[0]
    }

    /// f(x), ∇ₓf and H·v from one forward-over-reverse sweep, for the inputs in `wrt` (default all):
    /// the inputs carry tangents v through the forward pass and the reverse sweep runs on dual values, so
    /// the gradient's directional derivative H·v comes with the gradient. Absent directions (nil) are zero.
    public func valueGradientAndHessianVectorProduct(of f: ([Variable]) -> Variable, at xs: [Tensor], along vs: [Tensor?],
                                                     wrt: [Int]? = nil) -> HessianVectorProduct {
        var result = HessianVectorProduct()
        valueGradientAndHessianVectorProduct(of: f, at: xs, along: vs, wrt: wrt, into: &result)
        return result
    }

    /// f(x), ∇f(x) and H(x)·v for scalar-valued f of one tensor.
    public func valueGradientAndHessianVectorProduct(of f: (Variable) -> Variable, at x: Tensor,
                                                     along v: Tensor) -> (value: Double, gradient: Tensor, product: Tensor) {
        let r = valueGradientAndHessianVectorProduct(of: { f($0[0]) }, at: [x], along: [v])
        return (r.value, r.gradients[0], r.products[0])
    }

    // MARK: In-place forms (buffer reuse for inner loops and benchmarks; the name says what is computed)

    /// `hessianVectorProduct(of:at:along:wrt:)` writing H·v into `products` (tensors already there with the
    /// right shapes are overwritten in place, so a loop of calls allocates nothing); returns f(x).
    @discardableResult
    package func hessianVectorProduct(of f: ([Variable]) -> Variable, at xs: [Tensor], along vs: [Tensor?],
                                      wrt: [Int]? = nil, into products: inout [Tensor]) -> Double {
        var none: [Tensor] = []
        return sweepHVP(f, xs, .optional(vs), wrt, withGradients: false, &none, &products)
    }

    /// The same with a direction for every input (spares converting `[Tensor]` to `[Tensor?]` per call).
    @discardableResult
    package func hessianVectorProduct(of f: ([Variable]) -> Variable, at xs: [Tensor], along vs: [Tensor],
                                      wrt: [Int]? = nil, into products: inout [Tensor]) -> Double {
        var none: [Tensor] = []
        return sweepHVP(f, xs, .every(vs), wrt, withGradients: false, &none, &products)
    }

    /// `valueGradientAndHessianVectorProduct(of:at:along:wrt:)` writing into `result`, reusing its tensors.
    package func valueGradientAndHessianVectorProduct(of f: ([Variable]) -> Variable, at xs: [Tensor], along vs: [Tensor?],
                                                      wrt: [Int]? = nil, into result: inout HessianVectorProduct) {
        result.value = sweepHVP(f, xs, .optional(vs), wrt, withGradients: true, &result.gradients, &result.products)
    }

    /// The same with a direction for every input.
    package func valueGradientAndHessianVectorProduct(of f: ([Variable]) -> Variable, at xs: [Tensor], along vs: [Tensor],
                                                      wrt: [Int]? = nil, into result: inout HessianVectorProduct) {
        result.value = sweepHVP(f, xs, .every(vs), wrt, withGradients: true, &result.gradients, &result.products)
    }

    /// The sweep behind every HVP form: returns f(x) and writes the products into `products` and, when
    /// `withGradients`, the gradients into `gradients` (else untouched: the sweep skips the inputs'
    /// primal cotangents).
    private func sweepHVP(_ f: ([Variable]) -> Variable, _ xs: [Tensor], _ vs: Directions, _ wrt: [Int]?,
                          withGradients: Bool, _ gradients: inout [Tensor], _ products: inout [Tensor]) -> Double {
        withInputs(xs, directions: vs, wrt: wrt, "hessianVectorProduct") {
            let out = call(f, "hessianVectorProduct")
            requireScalar(out, "hessianVectorProduct")
            backward(from: out, seed: seedOne(), inputPrimals: withGradients)
            chosenNodes(wrt, xs.count)
            if withGradients { store(resultNodes, tangents: false, into: &gradients) }
            store(resultNodes, tangents: true, into: &products)
            return values[out].p[0]
        }
    }

    /// The input nodes of `wrt` (default all), into `resultNodes` (reused: no allocation per call).
    func chosenNodes(_ wrt: [Int]?, _ count: Int) {
        resultNodes.removeAll(keepingCapacity: true)
        if let wrt { for k in wrt { resultNodes.append(Int(inputNodes[k])) } }
        else { for k in 0..<count { resultNodes.append(Int(inputNodes[k])) } }
    }

    /// The dense Hessian of scalar-valued f at x, as an (n, n) matrix over x's n elements in
    /// row-major order: f's gradient linearized once, then its n columns H·eⱼ in blocks of up to 32
    /// directions per sweep (`Linearization.hessian(ofInput:)`). For small n.
    public func hessian(of f: (Variable) -> Variable, at x: Tensor) -> Tensor {
        linearizedGradient(of: { f($0[0]) }, at: [x]).hessian(ofInput: 0)
    }
}
