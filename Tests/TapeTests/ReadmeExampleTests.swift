import Foundation
import Testing
import Tape

/// The README's first example, compiled and run here so it never rots. The test also checks that the
/// README still contains exactly this code (between the BEGIN/END markers, indentation removed).
@Suite("README example")
struct ReadmeExampleTests {
    @Test func gradientAndHessianVectorProductExample() throws {
        // BEGIN README
        let x = Tensor(rows: [[1, 2], [3, -1], [0.5, 0.25]])
        let w = Tensor(shape: [2, 1], scalars: [0.3, -0.7])
        let v = Tensor(shape: [2, 1], scalars: [1, 0])
        // f(w) = mean(tanh(X w)²)
        let f = { (w: Variable) in w.constant(x).matmul(w).tanh().squared().mean() }
        let r = hessianVectorProduct(of: f, at: w, along: v)
        print("f =", r.value, " ∇f =", r.gradient.scalars, " H·v =", r.product.scalars)
        // END README
        // H·v must be the first column of the dense Hessian, which comes from n separate sweeps.
        let h = hessian(of: f, at: w)
        #expect(abs(r.product.scalars[0] - h[0, 0]) < 1e-14 && abs(r.product.scalars[1] - h[1, 0]) < 1e-14)
        let check = DerivativeChecker.checkHVP(of: { f($0[0]) }, at: [w], along: [v])
        #expect(check.passes(tolerance: 1e-7), "\(check)")
        try expectReadmeContainsSnippet(of: #filePath)
    }
}

/// Asserts that the README holds the code between `// BEGIN README` and `// END README` of `file`.
func expectReadmeContainsSnippet(of file: String) throws {
    let source = try String(contentsOfFile: file, encoding: .utf8)
    let lines = source.components(separatedBy: "\n")
    guard let begin = lines.firstIndex(where: { $0.contains("// BEGIN README") }),
          let end = lines.firstIndex(where: { $0.contains("// END README") }) else {
        Issue.record("no README markers in \(file)"); return
    }
    let snippet = lines[(begin + 1)..<end].map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")
    let root = URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        .components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")
    #expect(readme.contains(snippet), "README.md no longer contains the example from \(URL(fileURLWithPath: file).lastPathComponent)")
}
