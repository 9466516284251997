import Foundation
import Testing
@testable import Demos

/// Runs `Demos <args> --out <fresh temp folder>` in-process; returns the exit status and the folder.
func runDemo(_ args: [String]) -> (status: Int32, out: URL) {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("demos-test-\(UUID().uuidString)")
    let status = DemoCLI.run(args + ["--out", out.path])
    return (status, out)
}

/// Parses result.json of a demo run.
func readResult(_ out: URL) throws -> [String: Any] {
    let data = try Data(contentsOf: out.appendingPathComponent("result.json"))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// The `runs` array of a result, as dictionaries.
func runs(_ result: [String: Any], key: String = "runs") throws -> [[String: Any]] {
    try #require(result[key] as? [[String: Any]])
}

func number(_ any: Any?) -> Double? { (any as? NSNumber)?.doubleValue }
