import Foundation
import Testing
@testable import Demos

/// `Demos sweep` end to end on a tiny grid of a fast demo: the points run as child processes of the Demos
/// executable built beside the test runner.
@Suite("sweep")
struct SweepTests {
    func sweep(_ args: [String]) -> (status: Int32, console: CapturedConsole) {
        let c = CapturedConsole()
        return (DemoCLI.run(["sweep"] + args, console: c.console()), c)
    }

    func modified(_ url: URL) throws -> Date {
        try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date)
    }

    func setModified(_ url: URL, _ date: Date) throws {
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: url.path)
    }

    /// 2 values × 2 seeds where the first value is out of range: one run at a time, the bad points fail first and
    /// are reported with their stderr kept, the good ones still run, the exit status is 1; a rerun touches no
    /// finished point.
    @Test func runsTheGridResumesWithoutRerunningAndToleratesAFailingPoint() throws {
        let dir = freshFolder()
        let args = ["kaczmarz", "--seeds", "0..1", "--set", "cycles=0,3", "--jobs", "1", "--out", dir.path, "--", "--quick"]
        let (status, c) = sweep(args)
        #expect(status == 1, "stdout: \(c.out) stderr: \(c.err)")
        #expect(c.err.contains("cycles=0,seed=1: FAILED (exit 2"), "\(c.err)")
        #expect(c.out.contains("2 ran") && c.out.contains("2 failed"), "\(c.out)")
        let fm = FileManager.default
        for seed in 0...1 {
            let good = dir.appendingPathComponent("cycles=3,seed=\(seed)")
            let result = try readResult(good)
            let settings = try #require(result["settings"] as? [String: Any])
            #expect(number(settings["cycles"]) == 3 && number(settings["seed"]) == Double(seed) && settings["quick"] as? Bool == true)
            let bad = dir.appendingPathComponent("cycles=0,seed=\(seed)")
            #expect(!fm.fileExists(atPath: bad.appendingPathComponent("result.json").path))
            #expect(try String(contentsOf: bad.appendingPathComponent("stderr.txt"), encoding: .utf8).contains("--cycles must be in 1…100000, got 0"))
        }
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("sweep.json"))) as? [String: Any])
        #expect((manifest["points"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
                == ["cycles=0,seed=0", "cycles=0,seed=1", "cycles=3,seed=0", "cycles=3,seed=1"])

        // Backdate a finished point's files: a rerun must leave them alone, and rerun only the failed points.
        let done = dir.appendingPathComponent("cycles=3,seed=0")
        let old = Date(timeIntervalSince1970: 1_000_000_000)
        for f in ["result.json", "stdout.txt", "stderr.txt"] { try setModified(done.appendingPathComponent(f), old) }
        let failedErr = dir.appendingPathComponent("cycles=0,seed=0/stderr.txt")
        try setModified(failedErr, old)
        let (again, c2) = sweep(args)
        #expect(again == 1)
        #expect(c2.err.contains("2 already done, 2 to run"), "\(c2.err)")
        for f in ["result.json", "stdout.txt", "stderr.txt"] { #expect(try modified(done.appendingPathComponent(f)) == old, "\(f) was rewritten") }
        #expect(try modified(failedErr) > old, "the failed point was not retried")
    }

    @Test func aRerunMayExtendTheGridButNotChangeIt() throws {
        let dir = freshFolder()
        let base = ["kaczmarz", "--seeds", "0", "--set", "cycles=2", "--out", dir.path, "--", "--quick"]
        #expect(sweep(base).status == 0)
        let first = dir.appendingPathComponent("cycles=2,seed=0/result.json")
        let old = Date(timeIntervalSince1970: 1_000_000_000)
        try setModified(first, old)
        // More seeds and values: only the new points run.
        let (extended, c) = sweep(["kaczmarz", "--seeds", "0,1", "--set", "cycles=2,3", "--out", dir.path, "--", "--quick"])
        #expect(extended == 0, "\(c.err)")
        #expect(c.err.contains("1 already done, 3 to run"), "\(c.err)")
        #expect(try modified(first) == old)
        for name in ["cycles=2,seed=1", "cycles=3,seed=0", "cycles=3,seed=1"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("\(name)/result.json").path), "\(name)")
        }
        // Dropping a seed, changing the flags after --, or sweeping another flag: refused, exit 2, nothing run.
        for (args, message) in [(["--seeds", "1", "--set", "cycles=2,3", "--", "--quick"], "drops seed(s) 0"),
                                (["--seeds", "0,1", "--set", "cycles=3", "--", "--quick"], "drops --cycles value(s) 2"),
                                (["--seeds", "0,1", "--set", "cycles=2,3"], "were given '--quick' after --, not ''"),
                                (["--seeds", "0,1", "--set", "inner-lr=0.2", "--", "--quick"], "it sweeps --cycles, not --inner-lr")] {
            let (status, c) = sweep(["kaczmarz", "--out", dir.path] + args)
            #expect(status == 2 && c.err.contains("already holds another sweep") && c.err.contains(message), "\(args): \(c.err)")
        }
    }

    /// `--slurm` writes the array of the points not done and, per index, the exact command; the script runs a
    /// point when bash executes it with that SLURM_ARRAY_TASK_ID, and skips a done one.
    @Test func slurmScriptHasTheArrayAndTheCommandOfEveryIndex() throws {
        let dir = freshFolder()
        // Point 0 (cycles=2,seed=0) done beforehand, by the sweep itself.
        #expect(sweep(["kaczmarz", "--seeds", "0", "--set", "cycles=2", "--out", dir.path, "--", "--quick"]).status == 0)
        let (status, c) = sweep(["kaczmarz", "--seeds", "0..1", "--set", "cycles=2,4", "--out", dir.path, "--slurm", "--jobs", "3",
                                 "--slurm-option", "time=00:10:00", "--slurm-option", "--partition=cpu", "--", "--quick"])
        #expect(status == 0, "\(c.err)")
        let script = try String(contentsOf: dir.appendingPathComponent("sweep.sbatch"), encoding: .utf8)
        let sbatch = script.split(separator: "\n").filter { $0.hasPrefix("#SBATCH") }
        #expect(sbatch == ["#SBATCH --job-name=sweep-kaczmarz", "#SBATCH --array=1-3%3", "#SBATCH --time=00:10:00", "#SBATCH --partition=cpu"])
        #expect(try String(contentsOf: dir.appendingPathComponent("points.txt"), encoding: .utf8)
                == "0\tcycles=2,seed=0\n1\tcycles=2,seed=1\n2\tcycles=4,seed=0\n3\tcycles=4,seed=1\n")
        // The command of each index, written out by hand.
        let exe = try SweepPlan.thisExecutable(), d = dir.standardizedFileURL.path
        for (k, point, flags) in [(0, "cycles=2,seed=0", "--cycles 2 --seed 0"), (1, "cycles=2,seed=1", "--cycles 2 --seed 1"),
                                  (2, "cycles=4,seed=0", "--cycles 4 --seed 0"), (3, "cycles=4,seed=1", "--cycles 4 --seed 1")] {
            let line = "    \(k)) run \(d)/\(point) \(exe) kaczmarz --quick \(flags) --out \(d)/\(point) ;;"
            #expect(script.contains(line + "\n"), "no line \(line) in\n\(script)")
        }
        // Run task 2 and task 0 as Slurm would.
        func task(_ id: Int) throws -> Int32 {
            let log = dir.appendingPathComponent("task\(id).log").path
            return try SweepRunner.spawnAndWait("/bin/bash", [dir.appendingPathComponent("sweep.sbatch").path], stdout: log, stderr: log,
                                                environment: ["SLURM_ARRAY_TASK_ID=\(id)"])
        }
        let donePoint = dir.appendingPathComponent("cycles=2,seed=0/result.json")
        let old = Date(timeIntervalSince1970: 1_000_000_000)
        try setModified(donePoint, old)
        #expect(try task(2) == 0)
        let result = try readResult(dir.appendingPathComponent("cycles=4,seed=0"))
        let settings = try #require(result["settings"] as? [String: Any])
        #expect(number(settings["cycles"]) == 4 && number(settings["seed"]) == 0)
        #expect(try task(0) == 0)
        #expect(try modified(donePoint) == old, "task 0 reran a done point")
        #expect(try task(7) == 2, "an index outside the grid must fail")
        // All done: no script (a stale one is removed).
        #expect(try task(1) == 0 && task(3) == 0)
        let (allDone, c2) = sweep(["kaczmarz", "--seeds", "0..1", "--set", "cycles=2,4", "--out", dir.path, "--slurm", "--", "--quick"])
        #expect(allDone == 0 && c2.out.contains("all 4 points are done"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("sweep.sbatch").path))
    }

    @Test func dryRunListsThePointsAndWritesNothing() throws {
        let dir = freshFolder()
        let (status, c) = sweep(["spectral-filter", "--seeds", "3,5", "--set", "terms=10;10,100", "--set", "quick=on,off", "--dry-run", "--out", dir.path])
        #expect(status == 0)
        #expect(!FileManager.default.fileExists(atPath: dir.path))
        #expect(c.out.contains("8 points (2 values of --terms × 2 values of --quick × 2 seeds); 0 done, 8 to run"), "\(c.out)")
        #expect(c.out.contains("terms=10%2C100,quick=off,seed=5"))
        #expect(c.out.contains("spectral-filter --terms 10,100 --seed 5 --out"), "a switch at off is left out")
        #expect(c.out.contains("spectral-filter --terms 10 --quick --seed 3 --out"))
    }

    /// Usage mistakes: exit 2, the first line names the flag, nothing is created and nothing runs.
    @Test(arguments: [
        ([], "sweep needs the subcommand"),
        (["nope", "--seeds", "0"], "unknown subcommand 'nope' to sweep"),
        (["collect", "--seeds", "0"], "cannot sweep 'collect'"),
        (["kaczmarz", "rings", "--seeds", "0"], "unexpected argument 'rings'"),
        (["kaczmarz"], "--seeds is required"),
        (["kaczmarz", "--seeds", "5..2"], "--seeds 5..2: the range is empty"),
        (["kaczmarz", "--seeds", "-1"], "--seeds expects"),
        (["kaczmarz", "--seeds", "0..x"], "--seeds expects"),
        (["kaczmarz", "--seeds", "1,1"], "--seeds lists seed 1 twice"),
        (["kaczmarz", "--seeds", "0..99999999999999"], "more seeds than --max-points 1000"),
        (["kaczmarz", "--seeds", "0..9", "--set", "cycles=1,2,3", "--max-points", "20"], "the grid has 3 × 10 points"),
        (["kaczmarz", "--seeds", "0", "--set", "nope=1"], "--set nope: kaczmarz has no flag --nope"),
        (["kaczmarz", "--seeds", "0", "--set", "seed=1,2"], "--set seed: sweep the seeds with --seeds"),
        (["kaczmarz", "--seeds", "0", "--set", "cycles"], "--set expects FLAG=V1,V2"),
        (["kaczmarz", "--seeds", "0", "--set", "cycles=1,,2"], "--set cycles: an empty value"),
        (["kaczmarz", "--seeds", "0", "--set", "quick=yes"], "its values are on and off"),
        (["kaczmarz", "--seeds", "0", "--set", "cycles=1", "--set", "cycles=2"], "--set cycles is given twice"),
        (["kaczmarz", "--seeds", "0", "--jobs", "0"], "--jobs must be in 1…1024, got 0"),
        (["kaczmarz", "--seeds", "0", "--jobs", "many"], "--jobs expects an integer"),
        (["kaczmarz", "--seeds", "0", "--max-points", "0"], "--max-points must be in"),
        (["kaczmarz", "--seeds", "0", "--slurm-option", "time=1"], "--slurm-option needs --slurm"),
        (["kaczmarz", "--seeds", "0", "--slurm", "--slurm-option", "array=0-3"], "the sweep writes the array itself"),
        (["kaczmarz", "--seeds", "0", "--executable", "/nonexistent"], "--executable /nonexistent is not an executable file"),
        (["kaczmarz", "--seeds", "0", "--dry-run=yes"], "--dry-run takes no value"),
        (["kaczmarz", "--seeds", "0", "--jobs"], "--jobs needs a value"),
        (["kaczmarz", "--seeds", "0", "--seed", "1"], "unknown flag --seed"),
        (["kaczmarz", "--seeds", "0", "--", "--seed", "3"], "after --: --seed is set per point"),
        (["kaczmarz", "--seeds", "0", "--", "--out", "x"], "after --: --out is set per point"),
        (["kaczmarz", "--seeds", "0", "--", "--bogus"], "after --: unknown flag --bogus for kaczmarz"),
        (["kaczmarz", "--seeds", "0", "--set", "cycles=2", "--", "--cycles", "3"], "after --: --cycles is also swept"),
    ])
    func badCommandLinesExitTwo(_ args: [String], _ message: String) {
        let dir = freshFolder()
        let (status, c) = sweep(["--out", dir.path] + args)
        #expect(status == 2, "\(args): \(c.err)")
        #expect(c.err.split(separator: "\n").first?.contains(message) == true, "\(args): \(c.err)")
        #expect(c.err.contains("usage: Demos sweep"))
        #expect(!FileManager.default.fileExists(atPath: dir.path), "\(args) created \(dir.path)")
    }

    @Test func requiresAnOutFolder() throws {
        let (status, c) = sweep(["kaczmarz", "--seeds", "0"])
        #expect(status == 2 && c.err.contains("--out is required"))
        let file = freshFolder()
        try "x".write(to: file, atomically: true, encoding: .utf8)
        let (status2, c2) = sweep(["kaczmarz", "--seeds", "0", "--out", file.path])
        #expect(status2 == 2 && c2.err.contains("exists and is not a folder"), "\(c2.err)")
        let long = String(repeating: "9", count: 300)
        let (status3, c3) = sweep(["kaczmarz", "--seeds", "0", "--set", "tolerance=\(long)", "--out", freshFolder().path])
        #expect(status3 == 2 && c3.err.contains("longer than a file name may be"), "\(c3.err)")
    }

    @Test func pointNamesAreStableAndOneComponent() {
        let p = SweepPoint(seed: 3, values: [("terms", "10"), ("points", "-1:0,a/b=c%")])
        #expect(p.name == "terms=10,points=-1:0%2Ca%2Fb%3Dc%25,seed=3")
        #expect(p.configuration == "terms=10,points=-1:0%2Ca%2Fb%3Dc%25")
        #expect(SweepPoint(seed: 0, values: []).name == "seed=0" && SweepPoint(seed: 0, values: []).configuration == "all")
        #expect(SlurmScript.arraySpec([0, 1, 2, 4, 6, 7]) == "0-2,4,6-7")
        #expect(SlurmScript.quote("a b'c") == "'a b'\\''c'" && SlurmScript.quote("terms=10,seed=3") == "terms=10,seed=3")
    }
}
