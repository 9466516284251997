import Foundation
import Tape

/// How the amplitudes a₁ … a_F of the Fourier features fall off with frequency.
public enum AmplitudeProfile: Sendable, Equatable, CustomStringConvertible {
    /// a_k = r^k for 0 < r < 1.
    case exponential(Double)
    /// a_k = (F + 1 − k) / F: from 1 at k = 1 down to 1/F at k = F.
    case linear
    /// Any list of F amplitudes.
    case custom([Double])

    /// Our default, used by the paper's setting F = 10 **(ours)**: a_k = 0.5^k, so a₁₀ ≈ 1e-3 and the
    /// feature Gram matrix spans about six decades of eigenvalues: wide enough that truncated
    /// hypergradients visibly cut the low-curvature (high-frequency) directions, narrow enough that the
    /// exact pseudoinverse is well determined in Float64.
    public static let paperDefault = AmplitudeProfile.exponential(0.5)

    /// The F amplitudes.
    public func amplitudes(frequencies f: Int) -> [Double] {
        switch self {
        case .exponential(let r):
            require(r > 0 && r < 1, "AmplitudeProfile.exponential: ratio must be in (0, 1), got \(r)")
            return (1...max(f, 1)).prefix(f).map { Foundation.pow(r, Double($0)) }
        case .linear:
            return (0..<f).map { Double(f - $0) / Double(f) }
        case .custom(let a):
            require(a.count == f, "AmplitudeProfile.custom: \(a.count) amplitudes for \(f) frequencies")
            return a
        }
    }

    /// A short form: "exp:r", "linear" or "list:a₁,…,a_F".
    public var description: String {
        switch self {
        case .exponential(let r): "exp:\(r)"
        case .linear: "linear"
        case .custom(let a): "list:" + a.map { "\($0)" }.joined(separator: ",")
        }
    }
}

/// Fourier features of a scalar input: φ(x) = [1, a₁ sin x, a₁ cos x, …, a_F sin Fx, a_F cos Fx],
/// 2F + 1 features. Maps x of shape (n, 1) to (n, 2F + 1).
public struct FourierFeatures: Sendable, Equatable {
    /// F, the number of frequencies 1 … F.
    public let frequencies: Int
    /// How the amplitudes a_k fall off with k.
    public let profile: AmplitudeProfile
    /// a₁ … a_F.
    public let amplitudes: [Double]

    /// F = 10 with the default exponential profile reproduces the paper's 21-feature setting.
    public init(frequencies: Int = 10, profile: AmplitudeProfile = .paperDefault) {
        require(frequencies >= 0, "FourierFeatures: frequencies must be ≥ 0, got \(frequencies)")
        self.frequencies = frequencies
        self.profile = profile
        amplitudes = profile.amplitudes(frequencies: frequencies)
    }

    /// Number of features, 2F + 1.
    public var featureCount: Int { 2 * frequencies + 1 }

    /// φ(x) as tape operations (so x may be a learned variable): (n, 1) → (n, 2F + 1).
    public func callAsFunction(_ x: Variable) -> Variable {
        require(x.shape.rank == 2 && x.shape.cols == 1, "FourierFeatures: input must have shape (n, 1), got \(x.shape)")
        var columns = [x.constant(.ones([x.shape.rows, 1]))]
        for (k, a) in zip(1..., amplitudes) {
            let kx = x * Double(k)
            columns.append(kx.sin() * a)
            columns.append(kx.cos() * a)
        }
        return Variable.concatenate(columns, alongAxis: 1)
    }

    /// φ(x) for a plain tensor of n inputs (shape (n, 1) or (n)): (n, 2F + 1).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let n = x.count
        var phi = Tensor.zeros([n, featureCount])
        for i in 0..<n {
            let xi = x.scalars[i]
            phi[i, 0] = 1
            for (k, a) in zip(1..., amplitudes) {
                phi[i, 2 * k - 1] = a * Foundation.sin(Double(k) * xi)
                phi[i, 2 * k] = a * Foundation.cos(Double(k) * xi)
            }
        }
        return phi
    }
}

/// The feature regressor y = φ(x)·w: a linear model on Fourier features. x is (n, 1), w is (2F + 1),
/// output (n, 1). Parameter "weight"; initialized at zero (the minimum-norm start).
public struct FourierRegressor: LinearInParameters {
    /// The feature map φ.
    public let features: FourierFeatures
    /// One entry "weight" of shape (2F + 1).
    public let layout: ParameterLayout

    /// A regressor on the given features (default: the paper's F = 10).
    public init(features: FourierFeatures = FourierFeatures()) {
        self.features = features
        layout = ParameterLayout([("weight", [features.featureCount])])
    }

    /// w = 0 (the minimum-norm start); the generator is not used.
    public func initialParameters(using g: inout SeededGenerator) -> Tensor { .zeros([layout.count]) }

    /// φ(x) w for x (n, 1): (n, 1).
    public func callAsFunction(_ x: Variable, parameters w: Variable) -> Variable {
        features(x).matmul(w.reshaped([layout.count, 1]))
    }

    /// Φ = φ(x), shape (n, 2F + 1), for x (n, 1) or (n): f(x; w) = Φ·w.
    public func featureMatrix(_ x: Tensor) -> Tensor { features(x) }
}
