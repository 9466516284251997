import Testing
import Tape

@Suite("Tape reuse")
struct TapeReuseTests {
    @Test("a reused tape stops growing after the first call and gives identical results")
    func noGrowth() {
        var g = SeededGenerator(seed: 2)
        let w = Tensor.randomNormal([10, 10], using: &g), x = Tensor.randomNormal([13, 10], using: &g)
        let v = Tensor.randomNormal([10, 10], using: &g)
        let tape = Tape()
        let loss: (Variable) -> Variable = { w in w.constant(x).matmul(w).tanh().squared().mean() }
        let first = tape.hessianVectorProduct(of: loss, at: w, along: v)
        let reserved = tape.reservedBytes
        #expect(reserved > 0)
        for _ in 0..<50 {
            let again = tape.hessianVectorProduct(of: loss, at: w, along: v)
            #expect(again.product == first.product && again.gradient == first.gradient)
        }
        #expect(tape.reservedBytes == reserved)
    }
}
