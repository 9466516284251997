import Tape
import AllocationCounter
func scratchAllocations() {
    let w = Workload.all["tiny-mlp"]!()
    let t = Tape()
    for _ in 0..<3 { _ = t.hessianVectorProduct(of: w.loss, at: w.parameters, along: w.direction) }
    var b = allocation_count(); _ = t.evaluate(w.loss, at: w.parameters); print("evaluate", allocation_count() - b)
    b = allocation_count(); _ = t.valueAndGradient(of: w.loss, at: w.parameters); print("grad", allocation_count() - b)
    b = allocation_count(); _ = t.hessianVectorProduct(of: w.loss, at: w.parameters, along: w.direction); print("hvp", allocation_count() - b)
    b = allocation_count(); _ = t.evaluate({ $0[0].constant(Tensor.zeros([2, 2])) }, at: w.parameters); print("evaluate trivial", allocation_count() - b)
    b = allocation_count(); _ = t.evaluate({ $0[0] }, at: w.parameters); print("evaluate identity", allocation_count() - b)
    b = allocation_count(); _ = t.evaluate({ $0[0].tanh() }, at: w.parameters); print("evaluate tanh", allocation_count() - b)
    b = allocation_count(); _ = t.evaluate({ $0[0].sum() }, at: w.parameters); print("evaluate sum", allocation_count() - b)
    b = allocation_count(); _ = t.evaluate({ $0[0].matmul($0[0], transposeOther: true) }, at: w.parameters); print("evaluate matmul", allocation_count() - b)
    b = allocation_count(); _ = t.evaluate({ $0[0] + $0[1] }, at: w.parameters); print("evaluate add", allocation_count() - b)
}
