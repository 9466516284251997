import Tape
import Layers
@testable import Bilevel

/// ‖a − b‖ / ‖b‖.
func relativeError(_ a: Tensor, _ b: Tensor) -> Double { (a - b).norm / max(b.norm, 1e-300) }

/// A random (r, c) matrix.
func randomMatrix(_ r: Int, _ c: Int, _ g: inout SeededGenerator) -> Tensor { .randomNormal([r, c], using: &g) }

/// Matrix-vector product A v for a plain vector v.
func mv(_ a: Tensor, _ v: Tensor) -> Tensor { a.matmul(v.reshaped([v.count, 1])).reshaped([a.shape.rows]) }

/// A symmetric positive definite (n, n) matrix QᵀQ/n + shift·I.
func spd(_ n: Int, shift: Double, _ g: inout SeededGenerator) -> Tensor {
    let q = randomMatrix(n, n, &g)
    return (1 / Double(n)) * q.matmul(q, transposeSelf: true) + shift * Tensor.identity(n)
}
