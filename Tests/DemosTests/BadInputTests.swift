import Foundation
import Testing
@testable import Demos

/// Command-line mistakes a user makes: each prints a message and the usage and exits with status 2; a failed
/// run leaves no partial file; a result file never holds a NaN.
@Suite("Demos bad input")
struct DemosBadInputTests {
    @Test func usageMistakesExitWithStatusTwo() {
        #expect(DemoCLI.run([]) == 2)
        #expect(DemoCLI.run(["--help"]) == 0)
        #expect(DemoCLI.run(["rings", "--help"]) == 0)
        for args in [["anti-distillation", "--methods", "neumann:abc"], ["anti-distillation", "--methods", "bogus:3"],
                     ["anti-distillation", "--frequencies", "1000"], ["anti-distillation", "--original", "1"],
                     ["two-points", "--learned-x", "1,1"], ["rings", "--classes", "4"], ["rings", "--resume"],
                     ["digits", "--images", "3"], ["digits", "--mnist", "/nonexistent"], ["kaczmarz", "--cycles"],
                     ["spectral-filter", "--step", "abc"], ["short-horizon", "--quick=yes"], ["rings", "--seed", "-1"]] {
            #expect(runDemo(args).status == 2, "\(args)")
        }
    }

    @Test func messagesNameTheFlagAndTheProblem() throws {
        #expect { try MethodSpec.parse("neumann:abc", flag: "methods") } throws: { "\($0)".contains("--methods expects an integer, got 'abc'") }
        #expect { try MethodSpec.parse("damped", flag: "methods") } throws: { "\($0)".contains("damped needs a damping") }
        #expect { try Arguments(["--frequencies", "-3"], flags: AntiDistillation.flags).int("frequencies", default: 10, in: 0...100) } throws: {
            "\($0)".contains("--frequencies must be in 0…100, got -3")
        }
        // Zero frequencies leave a constant model: refused at once, naming the flag (it used to hang in Plot.ticks).
        let c = CapturedConsole()
        #expect(DemoCLI.run(["anti-distillation", "--quick", "--frequencies", "0", "--out", freshFolder().path], console: c.console()) == 2)
        #expect(c.err.hasPrefix("error: --frequencies must be in 1…100, got 0"), "\(c.err.prefix(200))")
        // A pasted 10 kB value is cut in the message, which stays on one line.
        let long = String(repeating: "9", count: 10_240)
        let c2 = CapturedConsole()
        #expect(DemoCLI.run(["kaczmarz", "--points", long, "--out", freshFolder().path], console: c2.console()) == 2)
        let first = c2.err.split(separator: "\n").first ?? ""
        #expect(first.contains("--points") && first.contains("characters)") && first.count < 200, "\(first.prefix(300))")
        #expect { try Arguments(["--nope"], flags: []) } throws: { "\($0)" == "unknown flag --nope" }
        #expect { try OutputDirectory(path: "/proc/version/x") } throws: { "\($0)".contains("--out /proc/version/x") }
    }

    @Test func resultFilesRefuseNonFiniteNumbersAndNothingPartialIsLeft() throws {
        #expect { try JSON.object([("x", .numbers([1, .nan]))]).render() } throws: { "\($0)".contains("$.x[1]") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("out-\(UUID().uuidString)")
        let out = try OutputDirectory(path: dir.path)
        #expect(throws: DemoError.self) { try out.writeJSON(.object([("loss", .number(.infinity))])) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "no partial or temporary file")
        try out.write("a", to: "f.txt")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["f.txt"])
    }
}
