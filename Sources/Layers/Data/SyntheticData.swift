import Foundation
import Tape

/// Seeded synthetic data sets (same seed, same data).
public enum SyntheticData {
    /// Concentric rings in the plane: class c lies on the circle of radius c + 1 (c = 0 … classes − 1) with
    /// uniform angle and Gaussian radial noise of standard deviation `noise`. Inputs (n, 2), n = classes · pointsPerClass.
    public static func rings(classes: Int = 2, pointsPerClass: Int, noise: Double = 0.1, seed: UInt64) -> Dataset {
        require(classes >= 2 && pointsPerClass >= 1,
                "rings: need ≥ 2 classes and ≥ 1 point per class, got classes \(classes), pointsPerClass \(pointsPerClass)")
        require(noise >= 0 && noise.isFinite, "rings: noise must be a finite standard deviation ≥ 0, got \(noise)")
        var g = SeededGenerator(seed: seed)
        var x: [Double] = [], y: [Int] = []
        for c in 0..<classes {
            for _ in 0..<pointsPerClass {
                let angle = 2 * Double.pi * g.nextUniform(), r = Double(c + 1) + noise * g.nextNormal()
                x += [r * cos(angle), r * sin(angle)]
                y.append(c)
            }
        }
        return Dataset(inputs: Tensor(shape: [classes * pointsPerClass, 2], scalars: x), labels: y, classCount: classes)
    }

    /// Two classes of points uniform in [−1, 1]², separated by the curve x₂ = amplitude · sin(frequency · π · x₁):
    /// label 1 above the curve, 0 below. Inputs (points, 2).
    public static func sinusoidalBoundary(points: Int, amplitude: Double = 0.5, frequency: Double = 1, seed: UInt64) -> Dataset {
        require(points >= 1, "sinusoidalBoundary: need ≥ 1 point, got \(points)")
        require(amplitude.isFinite && frequency.isFinite,
                "sinusoidalBoundary: amplitude \(amplitude) and frequency \(frequency) must be finite")
        var g = SeededGenerator(seed: seed)
        var x: [Double] = [], y: [Int] = []
        for _ in 0..<points {
            let a = 2 * g.nextUniform() - 1, b = 2 * g.nextUniform() - 1
            x += [a, b]
            y.append(b > amplitude * sin(frequency * Double.pi * a) ? 1 : 0)
        }
        return Dataset(inputs: Tensor(shape: [points, 2], scalars: x), labels: y, classCount: 2)
    }

    /// 1-D regression points: x uniform in [−π, π], y = f(x) + N(0, noise²), with f(x) = sin(x) + 0.3 cos(3x) by default.
    /// Inputs (points, 1), targets (points, 1).
    public static func regression1D(points: Int, noise: Double = 0.1, seed: UInt64,
                                    function f: (Double) -> Double = { sin($0) + 0.3 * cos(3 * $0) }) -> Dataset {
        require(points >= 1, "regression1D: need ≥ 1 point, got \(points)")
        require(noise >= 0 && noise.isFinite, "regression1D: noise must be a finite standard deviation ≥ 0, got \(noise)")
        var g = SeededGenerator(seed: seed)
        let xs = (0..<points).map { _ in -Double.pi + 2 * Double.pi * g.nextUniform() }
        let ys = xs.map { f($0) + noise * g.nextNormal() }
        return Dataset(inputs: Tensor(shape: [points, 1], scalars: xs), targets: Tensor(ys))
    }
}
