/// How far a derivative computed by the tape is from its reference (finite differences, or an
/// identity such as ⟨u, J v⟩ = ⟨Jᵀu, v⟩).
///
/// `maxRelativeError` is normwise: max |computed − reference| / max(max |computed|, max |reference|),
/// so entries that are nearly zero do not blow it up.
public struct DerivativeCheck: CustomStringConvertible, Sendable {
    /// Which check this is ("gradient", "jvp", "vjp", "hvp", "hvp symmetry").
    public var name: String
    /// max |computed − reference| over all entries.
    public var maxAbsoluteError: Double
    /// maxAbsoluteError divided by the largest magnitude on either side (0 when both are 0).
    public var maxRelativeError: Double

    /// Whether the relative error is below `tolerance`, or the absolute error below `absoluteTolerance`
    /// (for results that are zero up to rounding).
    public func passes(tolerance: Double, absoluteTolerance: Double = 1e-12) -> Bool {
        maxRelativeError < tolerance || maxAbsoluteError < absoluteTolerance
    }

    /// The check's name with its absolute and relative errors.
    public var description: String {
        "\(name): max abs error \(maxAbsoluteError), max rel error \(maxRelativeError)"
    }

    init(name: String, computed: [Double], reference: [Double]) {
        require(computed.count == reference.count, "DerivativeCheck: \(computed.count) vs \(reference.count) entries")
        self.name = name
        var err = 0.0, scale = 0.0
        for (c, r) in zip(computed, reference) {
            err = max(err, abs(c - r))
            scale = max(scale, abs(c), abs(r))
        }
        maxAbsoluteError = err
        maxRelativeError = scale == 0 ? (err == 0 ? 0 : .infinity) : err / scale
        if computed.contains(where: { !$0.isFinite }) || reference.contains(where: { !$0.isFinite }) {
            maxAbsoluteError = .nan; maxRelativeError = .nan   // never passes
        }
    }
}

/// Finite-difference and consistency checks a user can run on their own functions.
/// Central differences with step h: (f(x + h v) − f(x − h v)) / 2h, error O(h²).
public enum DerivativeChecker {
    /// The value of f at xs (forward pass only).
    public static func value(of f: ([Variable]) -> Variable, at xs: [Tensor]) -> Tensor {
        Tape().evaluate(f, at: xs)
    }

    private static func displaced(_ xs: [Tensor], _ vs: [Tensor?], _ h: Double) -> [Tensor] {
        zip(xs, vs).map { x, v in v.map { x + h * $0 } ?? x }
    }

    /// Every entry of the gradient of scalar f against central differences (2n evaluations).
    public static func checkGradient(of f: ([Variable]) -> Variable, at xs: [Tensor], step h: Double = 1e-5) -> DerivativeCheck {
        let grads = gradient(of: f, at: xs)
        var computed: [Double] = [], reference: [Double] = []
        for k in xs.indices {
            for i in 0..<xs[k].count {
                var plus = xs, minus = xs
                plus[k].scalars[i] += h
                minus[k].scalars[i] -= h
                reference.append((value(of: f, at: plus).scalar - value(of: f, at: minus).scalar) / (2 * h))
                computed.append(grads[k].scalars[i])
            }
        }
        return DerivativeCheck(name: "gradient", computed: computed, reference: reference)
    }

    /// A gradient computed any way against central differences of any scalar function F of a tensor, entry by
    /// entry (2n evaluations of F): for instance a hypergradient against F(λ) = J_out(λ, w*(λ)) evaluated
    /// through a full inner solve. F may throw (an inner solve that diverges); the error is passed on.
    public static func checkGradient(of f: (Tensor) throws -> Double, at x: Tensor, gradient: Tensor,
                                     step h: Double = 1e-5) rethrows -> DerivativeCheck {
        require(gradient.shape == x.shape,
                "DerivativeChecker.checkGradient: gradient of shape \(gradient.shape) for a point of shape \(x.shape)")
        var reference: [Double] = []
        for i in 0..<x.count {
            var plus = x, minus = x
            plus.scalars[i] += h
            minus.scalars[i] -= h
            reference.append((try f(plus) - f(minus)) / (2 * h))
        }
        return DerivativeCheck(name: "gradient", computed: gradient.scalars, reference: reference)
    }

    /// The forward-mode J·v (any output shape) against central differences along v.
    public static func checkJVP(of f: ([Variable]) -> Variable, at xs: [Tensor], along vs: [Tensor?], step h: Double = 1e-5) -> DerivativeCheck {
        let tangent = jvp(of: f, at: xs, along: vs).tangent
        let plus = value(of: f, at: displaced(xs, vs, h)), minus = value(of: f, at: displaced(xs, vs, -h))
        let fd = zip(plus.scalars, minus.scalars).map { ($0 - $1) / (2 * h) }
        return DerivativeCheck(name: "jvp", computed: tangent.scalars, reference: fd)
    }

    /// Reverse against forward mode: ⟨u, J v⟩ (from `jvp`) must equal ⟨Jᵀu, v⟩ (from `vjp`).
    public static func checkVJP(of f: ([Variable]) -> Variable, at xs: [Tensor], cotangent u: Tensor, along vs: [Tensor]) -> DerivativeCheck {
        let forward = jvp(of: f, at: xs, along: vs).tangent.dot(u)
        let back = vjp(of: f, at: xs, cotangent: u).cotangents
        let reverse = zip(back, vs).reduce(0) { $0 + $1.0.dot($1.1) }
        return DerivativeCheck(name: "vjp", computed: [reverse], reference: [forward])
    }

    /// H·v (forward-over-reverse) against central differences of the gradient along v.
    public static func checkHVP(of f: ([Variable]) -> Variable, at xs: [Tensor], along vs: [Tensor?], step h: Double = 1e-5) -> DerivativeCheck {
        let hvp = hessianVectorProduct(of: f, at: xs, along: vs)
        let gPlus = gradient(of: f, at: displaced(xs, vs, h)), gMinus = gradient(of: f, at: displaced(xs, vs, -h))
        var computed: [Double] = [], reference: [Double] = []
        for k in xs.indices {
            computed += hvp[k].scalars
            reference += zip(gPlus[k].scalars, gMinus[k].scalars).map { ($0 - $1) / (2 * h) }
        }
        return DerivativeCheck(name: "hvp", computed: computed, reference: reference)
    }

    /// Symmetry of the Hessian: ⟨u, H v⟩ must equal ⟨v, H u⟩.
    public static func checkHVPSymmetry(of f: ([Variable]) -> Variable, at xs: [Tensor], _ us: [Tensor], _ vs: [Tensor]) -> DerivativeCheck {
        let hv = hessianVectorProduct(of: f, at: xs, along: vs)
        let hu = hessianVectorProduct(of: f, at: xs, along: us)
        let uhv = zip(us, hv).reduce(0) { $0 + $1.0.dot($1.1) }
        let vhu = zip(vs, hu).reduce(0) { $0 + $1.0.dot($1.1) }
        return DerivativeCheck(name: "hvp symmetry", computed: [uhv], reference: [vhu])
    }

    /// Runs every check that applies in random directions drawn from `generator`: JVP against
    /// finite differences and VJP against JVP for any f; for a scalar f also the full gradient,
    /// HVP against finite differences of the gradient, and HVP symmetry.
    public static func checkAll(of f: ([Variable]) -> Variable, at xs: [Tensor], step h: Double = 1e-5,
                                using generator: inout SeededGenerator) -> [DerivativeCheck] {
        func direction() -> [Tensor] { xs.map { Tensor.randomNormal($0.shape, using: &generator) } }
        let v = direction(), u = direction()
        let out = value(of: f, at: xs)
        var checks = [checkJVP(of: f, at: xs, along: v, step: h),
                      checkVJP(of: f, at: xs, cotangent: Tensor.randomNormal(out.shape, using: &generator), along: v)]
        if out.count == 1 {
            checks.append(checkGradient(of: f, at: xs, step: h))
            checks.append(checkHVP(of: f, at: xs, along: v, step: h))
            checks.append(checkHVPSymmetry(of: f, at: xs, u, v))
        }
        return checks
    }
}
