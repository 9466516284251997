import Testing
import Tape

/// Programmer errors trap with a message naming the operation and both shapes. Each case runs in
/// a child process (an exit test) and its standard error is read back.
@Suite("Error messages")
struct ErrorMessageTests {
    @Test("matmul with mismatched inner dimensions names the op and both shapes")
    func matmulShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = gradient(of: { $0.matmul(Tensor.zeros([4, 5])).sum() }, at: Tensor.zeros([2, 3]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("matmul") && stderr.contains("(2, 3)") && stderr.contains("(4, 5)"), "stderr: \(stderr)")
    }

    @Test("elementwise ops with shapes that do not broadcast name the op and both shapes")
    func broadcastShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = gradient(of: { ($0 + Tensor.zeros([3, 2])).sum() }, at: Tensor.zeros([2, 3]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("add") && stderr.contains("(2, 3)") && stderr.contains("(3, 2)"), "stderr: \(stderr)")
    }

    @Test("a non-scalar function passed to gradient says so")
    func nonScalarGradient() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = gradient(of: { $0 * 2 }, at: Tensor.zeros([2, 3]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("must return a scalar") && stderr.contains("(2, 3)"), "stderr: \(stderr)")
    }

    @Test("a direction whose shape differs from its input names both shapes")
    func directionShape() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = hessianVectorProduct(of: { $0.squared().sum() }, at: Tensor.zeros([3]), along: Tensor.zeros([4]))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("(4)") && stderr.contains("(3)"), "stderr: \(stderr)")
    }
}
