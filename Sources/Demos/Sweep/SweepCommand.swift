import Foundation

/// `Demos sweep SUBCOMMAND --seeds A..B [--set FLAG=V1,V2 …] [--jobs N] --out DIR [-- FLAGS for every run]`:
/// runs the subcommand over the grid of swept values × seeds, one child process per point, into DIR/<point>/;
/// resumable (a point whose result.json exists is never rerun); or, with `--slurm`, writes a Slurm job array.
enum Sweep: CommandLineTool {
    static let name = "sweep"
    static let summary = "runs a subcommand over a grid of flag values × seeds, one process per point, resumable (or writes a Slurm array)"
    static let flags: [Flag] = [
        .option("seeds", "the seeds: A..B (inclusive), a list 0,3,7, or both: 0..4,10 (required)"),
        .option("set", "a swept flag of the subcommand and its values, FLAG=V1,V2,… (repeat it for a grid; FLAG=V1;V2 when values hold commas; a switch takes on,off)"),
        .option("jobs", "runs at a time; with --slurm, the array's limit of tasks running at a time", default: "the number of cores"),
        .option("out", "the sweep's folder: DIR/sweep.json and one DIR/<point>/ per point (required)"),
        .toggle("dry-run", "list the points, whether each is done, and their commands; run and write nothing"),
        .toggle("slurm", "write DIR/sweep.sbatch, a Slurm job array with one task per point not done yet, instead of running"),
        .option("slurm-option", "an #SBATCH option for --slurm, e.g. time=02:00:00 or partition=cpu (repeatable)"),
        .option("max-points", "refuse a grid of more points than this", default: "1000"),
        .option("executable", "the Demos executable the runs use", default: "this one"),
    ]

    static let synopsis = "Demos sweep SUBCOMMAND --seeds A..B [--set FLAG=V1,V2 …] [--jobs N] --out DIR [-- FLAGS for every run]"
    static let notes = """
        Each point runs `Demos SUBCOMMAND [FLAGS after --] [--FLAG VALUE …] --seed S --out DIR/<point>`, with its
        stdout and stderr in DIR/<point>/stdout.txt and stderr.txt. A point is done when DIR/<point>/result.json
        exists (a demo writes it last, only on success); done points are never rerun, so running the same command
        again resumes. A rerun into DIR may extend the grid (more seeds or values); one that changes the
        subcommand, the flags after -- or the swept flags, or drops a seed or value, is refused.
        Exit status: 0 all points done, 1 some point failed (the others still ran), 2 a usage mistake.
        Then: Demos collect DIR.

        """

    static func run(argv: [String], console: Console) -> Int32 {
        let usage = self.usage(synopsis: synopsis, notes: notes)
        if (argv.firstIndex(of: "--").map { argv[..<$0] } ?? argv[...]).contains(where: { $0 == "--help" || $0 == "-h" }) {
            console.say(usage)
            return 0
        }
        return guarded(console, usage: usage) {
            let plan = try SweepPlan.parse(argv)
            return try plan.execute(console: console)
        }
    }
}

/// A parsed, validated sweep command line.
struct SweepPlan {
    var grid: SweepGrid
    var directory: URL
    var jobs: Int
    var jobsGiven: Bool
    var dryRun: Bool
    var slurm: Bool
    var slurmOptions: [String]
    var executable: String

    /// Parses and checks the command line; every mistake is a `UsageError` naming the flag.
    static func parse(_ argv: [String]) throws -> SweepPlan {
        let args = try ToolArguments(argv, flags: Sweep.flags, repeatable: ["set", "slurm-option"], dashedValues: ["slurm-option"])
        // The subcommand first: nothing else is worth checking, and nothing is run, without a valid one.
        guard let name = args.positional.first else {
            throw UsageError("sweep needs the subcommand to run, as in: Demos sweep kaczmarz --seeds 0..4 --out DIR")
        }
        guard args.positional.count == 1 else {
            throw UsageError("unexpected argument '\(args.positional[1])' (flags for every run go after --)")
        }
        guard let flags = demoFlags(name) else {
            let demos = DemoCLI.subcommands.filter { !isTool($0) }.map { $0.name }
            throw UsageError(DemoCLI.subcommands.contains { $0.name == name } ? "sweep runs demos; it cannot sweep '\(name)'"
                             : "unknown subcommand '\(name)' to sweep (one of: \(demos.joined(separator: ", ")))")
        }
        let maxPoints = try args.int("max-points", default: 1000, in: 1...1_000_000)
        guard let seedText = args.string("seeds") else { throw UsageError("--seeds is required (e.g. --seeds 0..4)") }
        let seeds = try SweepPlan.parseSeeds(seedText, limit: maxPoints)
        guard let out = args.string("out"), !out.isEmpty else { throw UsageError("--out is required: the sweep's folder") }
        let axes = try args.all("set").map { try SweepPlan.parseAxis($0, subcommand: name, flags: flags) }
        for (k, a) in axes.enumerated() where axes[..<k].contains(where: { $0.flag == a.flag }) {
            throw UsageError("--set \(a.flag) is given twice (list all its values in one --set)")
        }
        try SweepPlan.checkPassthrough(args.passthrough, axes: axes, subcommand: name, flags: flags)
        guard let count = SweepGrid.count(seeds: seeds.count, axes: axes), count <= maxPoints else {
            let sizes = (axes.map(\.values.count) + [seeds.count]).map(String.init).joined(separator: " × ")
            throw UsageError("the grid has \(sizes) points, more than --max-points \(maxPoints); raise --max-points to run it")
        }
        let jobs = try args.int("jobs", default: max(1, ProcessInfo.processInfo.activeProcessorCount), in: 1...1024)
        let slurmOptions = try args.all("slurm-option").map(SlurmScript.option)
        guard slurmOptions.isEmpty || args.has("slurm") else { throw UsageError("--slurm-option needs --slurm") }
        let executable = try args.string("executable").map(SweepPlan.checkExecutable) ?? SweepPlan.thisExecutable()
        let directory = URL(fileURLWithPath: out, isDirectory: true).standardizedFileURL
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDir) && !isDir.boolValue {
            throw UsageError("--out \(out) exists and is not a folder")
        }
        var grid = SweepGrid(subcommand: name, passthrough: args.passthrough, axes: axes, seeds: seeds)
        if let long = grid.points.first(where: { $0.name.utf8.count > 255 }) {
            throw UsageError("--set: the point name \(long.name.prefix(60))… is longer than a file name may be (255 bytes); use shorter values")
        }
        // A folder that already holds a sweep: this grid must extend it (the point names keep the old axis order).
        let manifest = directory.appendingPathComponent("sweep.json")
        if FileManager.default.fileExists(atPath: manifest.path) {
            let old = try SweepGrid(manifest: try JSON.read(manifest), file: manifest.path)
            grid = grid.ordered(like: old)
            if let why = grid.incompatibility(with: old) {
                throw UsageError("--out \(out) already holds another sweep: \(why). Use a new --out, or the grid in \(manifest.path) (extended with new seeds or values if you like)")
            }
        }
        return SweepPlan(grid: grid, directory: directory, jobs: jobs, jobsGiven: args.has("jobs"), dryRun: args.has("dry-run"),
                         slurm: args.has("slurm"), slurmOptions: slurmOptions, executable: executable)
    }

    static func isTool(_ c: any Subcommand.Type) -> Bool { c is any CommandLineTool.Type }

    /// The flags of the demo called `name`; nil for no such demo (or a tool such as sweep itself).
    static func demoFlags(_ name: String) -> [Flag]? {
        guard let c = DemoCLI.subcommands.first(where: { $0.name == name }), !isTool(c) else { return nil }
        return c.flags
    }

    /// `0..4`, `0,3,7`, `0..4,10`: non-negative, no repeats; refused before expanding when over `limit`.
    static func parseSeeds(_ s: String, limit: Int) throws -> [Int] {
        var seeds: [Int] = []
        for part in s.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let ends = part.components(separatedBy: "..")
            guard (1...2).contains(ends.count), let a = Int(ends[0]), let b = Int(ends.last!), a >= 0, b >= 0 else {
                throw UsageError("--seeds expects A..B or a comma-separated list of non-negative seeds, got '\(s)'")
            }
            guard a <= b else { throw UsageError("--seeds \(part): the range is empty (\(a) > \(b))") }
            guard b - a < limit - seeds.count else { throw UsageError("--seeds \(s) has more seeds than --max-points \(limit)") }
            seeds += Array(a...b)
        }
        for (k, x) in seeds.enumerated() where seeds[..<k].contains(x) { throw UsageError("--seeds lists seed \(x) twice") }
        return seeds
    }

    /// `FLAG=V1,V2` (or `FLAG=V1;V2` when a value holds a comma), FLAG one of the subcommand's flags.
    static func parseAxis(_ s: String, subcommand: String, flags: [Flag]) throws -> SweepAxis {
        guard let eq = s.firstIndex(of: "="), eq != s.startIndex else { throw UsageError("--set expects FLAG=V1,V2,…, got '\(s)'") }
        let flag = String(s[..<eq]).hasPrefix("--") ? String(s[..<eq].dropFirst(2)) : String(s[..<eq])
        let list = String(s[s.index(after: eq)...])
        guard flag != "seed" else { throw UsageError("--set seed: sweep the seeds with --seeds") }
        guard flag != "out" else { throw UsageError("--set out: sweep gives every run its own --out DIR/<point>") }
        guard let declared = (flags + commonFlags).first(where: { $0.name == flag }) else {
            throw UsageError("--set \(flag): \(subcommand) has no flag --\(flag)")
        }
        let values = list.split(separator: list.contains(";") ? ";" : ",", omittingEmptySubsequences: false).map(String.init)
        guard values.allSatisfy({ !$0.isEmpty }) else { throw UsageError("--set \(flag): an empty value in '\(list)'") }
        for (k, v) in values.enumerated() where values[..<k].contains(v) { throw UsageError("--set \(flag) lists the value \(v) twice") }
        if declared.isSwitch, let v = values.first(where: { $0 != "on" && $0 != "off" }) {
            throw UsageError("--set \(flag): --\(flag) is a switch; its values are on and off, got '\(v)'")
        }
        return SweepAxis(flag: flag, values: values, isSwitch: declared.isSwitch)
    }

    /// The flags after `--` must be the subcommand's, and not ones the sweep sets itself.
    static func checkPassthrough(_ words: [String], axes: [SweepAxis], subcommand: String, flags: [Flag]) throws {
        for w in words where w.hasPrefix("--") {
            let flag = String(w.dropFirst(2).prefix { $0 != "=" })
            if flag == "seed" { throw UsageError("after --: --seed is set per point by --seeds") }
            if flag == "out" { throw UsageError("after --: --out is set per point (DIR/<point>)") }
            if flag == "help" { throw UsageError("after --: --help would run nothing") }
            if axes.contains(where: { $0.flag == flag }) { throw UsageError("after --: --\(flag) is also swept by --set") }
        }
        do { _ = try Arguments(words, flags: flags) } catch let e as UsageError {
            throw UsageError("after --: \(e.description) for \(subcommand)")
        }
    }

    static func checkExecutable(_ path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue, access(path, X_OK) == 0 else {
            throw UsageError("--executable \(path) is not an executable file")
        }
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// The running Demos executable (/proc/self/exe); when this process is another program linking the demos
    /// (the test runner), the `Demos` executable built beside it.
    static func thisExecutable() throws -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let url = URL(fileURLWithPath: me)
        if url.lastPathComponent == "Demos" { return me }
        let sibling = url.deletingLastPathComponent().appendingPathComponent("Demos").path
        guard access(sibling, X_OK) == 0 else {
            throw DemoError("cannot find the Demos executable (this process is \(me), and \(sibling) does not exist); pass --executable PATH")
        }
        return sibling
    }

    // MARK: Running

    func folder(_ p: SweepPoint) -> URL { directory.appendingPathComponent(p.name, isDirectory: true) }
    func isDone(_ p: SweepPoint) -> Bool { FileManager.default.fileExists(atPath: folder(p).appendingPathComponent("result.json").path) }

    func execute(console: Console) throws -> Int32 {
        let points = grid.points
        let todo = points.filter { !isDone($0) }
        let shape = (grid.axes.map { "\($0.values.count) values of --\($0.flag)" } + [grid.seeds.count == 1 ? "1 seed" : "\(grid.seeds.count) seeds"])
            .joined(separator: " × ")
        if dryRun {
            console.say("sweep \(grid.subcommand): \(points.count) points (\(shape)); \(points.count - todo.count) done, \(todo.count) to run")
            console.say(table(["index", "point", "status", "command"], points.enumerated().map { k, p in
                ["\(k)", p.name, isDone(p) ? "done" : "to run",
                 ([executable] + grid.arguments(p) + ["--out", folder(p).path]).map(SlurmScript.quote).joined(separator: " ")]
            }))
            return 0
        }
        try OutputDirectory.makeFolders(directory, flag: directory.path)
        try OutputDirectory.writeAtomically(try grid.manifest(executable: executable).render(), to: directory.appendingPathComponent("sweep.json"))
        if slurm {
            let script = SlurmScript(grid: grid, directory: directory, executable: executable, options: slurmOptions,
                                     limit: jobsGiven ? jobs : nil)
            guard let written = try script.write(done: isDone) else {
                console.say("sweep \(grid.subcommand): all \(points.count) points are done; no script written. Next: Demos collect \(directory.path)")
                return 0
            }
            console.say("wrote \(written) (\(todo.count) of \(points.count) points to run) and \(directory.path)/points.txt")
            console.say("submit with: sbatch \(SlurmScript.quote(written)); then: Demos collect \(SlurmScript.quote(directory.path))")
            return 0
        }
        let lock = try SweepLock(directory)
        defer { withExtendedLifetime(lock) {} }
        console.error("sweep \(grid.subcommand): \(points.count) points (\(shape)); \(points.count - todo.count) already done, "
                      + "\(todo.count) to run, \(min(jobs, max(todo.count, 1))) at a time, into \(directory.path)")
        let runner = SweepRunner(executable: executable, directory: directory, jobs: jobs, console: console)
        let outcomes = runner.run(todo.map { ($0, grid.arguments($0)) })
        let failed = outcomes.filter { $0.status != 0 || !$0.message.isEmpty }
        console.say("sweep \(grid.subcommand): \(points.count) points: \(outcomes.count - failed.count) ran, \(points.count - todo.count) were already done, "
                    + "\(failed.count) failed\(failed.isEmpty ? "" : " (" + failed.map(\.point.name).joined(separator: "; ") + ")")")
        console.say(failed.isEmpty ? "next: Demos collect \(directory.path)"
                                   : "rerun the same command to retry the failed points (their stderr is in DIR/<point>/stderr.txt)")
        return failed.isEmpty ? 0 : 1
    }
}
