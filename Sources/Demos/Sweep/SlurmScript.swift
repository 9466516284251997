import Foundation

/// DIR/sweep.sbatch: a Slurm job array with one task per grid point (task i = point i of sweep.json and of
/// DIR/points.txt). Each task runs the exact `Demos SUBCOMMAND … --out DIR/<point>` command of its index, written
/// out in a `case`, and exits at once if the point is already done. The array lists only the points not done when
/// the script was written. No scheduler of our own: Slurm runs the tasks.
struct SlurmScript {
    var grid: SweepGrid
    var directory: URL
    var executable: String
    /// `--name=value` options for #SBATCH lines.
    var options: [String]
    /// At most this many tasks at a time (`--array=…%N`), from an explicit --jobs.
    var limit: Int?

    /// A `--slurm-option` value as an #SBATCH option: `time=02:00:00` or `--time=02:00:00` → `--time=02:00:00`,
    /// `exclusive` → `--exclusive`. The array is the sweep's own.
    static func option(_ s: String) throws -> String {
        let body = s.hasPrefix("--") ? String(s.dropFirst(2)) : s
        let name = String(body.prefix { $0 != "=" })
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw UsageError("--slurm-option expects NAME=VALUE (e.g. time=02:00:00), got '\(s)'")
        }
        guard name != "array" && name != "a" else { throw UsageError("--slurm-option array: the sweep writes the array itself") }
        return "--" + body
    }

    /// A word for a POSIX shell: as is when it only holds safe characters, else single-quoted.
    static func quote(_ s: String) -> String {
        let safe = s.unicodeScalars.allSatisfy { c in
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || "_@%+=:,./-".unicodeScalars.contains(c)
        }
        return !s.isEmpty && safe ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Slurm's array syntax for sorted indices: runs of consecutive indices as ranges, `0-3,5,7-9`.
    static func arraySpec(_ indices: [Int]) -> String {
        var parts: [String] = []
        var k = 0
        while k < indices.count {
            var e = k
            while e + 1 < indices.count && indices[e + 1] == indices[e] + 1 { e += 1 }
            parts.append(e == k ? "\(indices[k])" : "\(indices[k])-\(indices[e])")
            k = e + 1
        }
        return parts.joined(separator: ",")
    }

    /// The script for the points at `todo` (indices into `grid.points`).
    func text(todo: [Int]) -> String {
        let points = grid.points
        let jobName = options.contains { $0.hasPrefix("--job-name=") } ? [] : ["--job-name=sweep-\(grid.subcommand)"]
        var s = """
            #!/bin/bash
            # A Slurm job array written by `Demos sweep \(grid.subcommand) … --slurm` (the grid: sweep.json beside this file).
            # Task i runs grid point i (points.txt: index and point); a point whose result.json exists is skipped, so
            # resubmitting is safe. Submit: sbatch \(SlurmScript.quote(directory.appendingPathComponent("sweep.sbatch").path))
            # Afterwards: Demos collect \(SlurmScript.quote(directory.path))

            """
        for o in jobName + ["--array=\(SlurmScript.arraySpec(todo))" + (limit.map { "%\($0)" } ?? "")] + options {
            s += "#SBATCH \(o)\n"
        }
        s += """
            set -u

            # run OUT COMMAND…: skip a point that is done; keep its stdout and stderr in OUT.
            run() {
                local out=$1
                shift
                if [ -e "$out/result.json" ]; then echo "already done: $out"; exit 0; fi
                mkdir -p "$out" || exit 1
                "$@" >"$out/stdout.txt" 2>"$out/stderr.txt"
            }

            case "${SLURM_ARRAY_TASK_ID:?submit this script with sbatch (it needs SLURM_ARRAY_TASK_ID)}" in

            """
        for (k, p) in points.enumerated() {
            let out = directory.appendingPathComponent(p.name).path
            let command = ([executable] + grid.arguments(p) + ["--out", out]).map(SlurmScript.quote).joined(separator: " ")
            s += "    \(k)) run \(SlurmScript.quote(out)) \(command) ;;\n"
        }
        s += """
                *) echo "sweep.sbatch: no grid point $SLURM_ARRAY_TASK_ID (this sweep has \(points.count))" >&2; exit 2 ;;
            esac

            """
        return s
    }

    /// Writes DIR/points.txt and DIR/sweep.sbatch (each atomically); returns the script's path, or nil (and writes
    /// no script) when every point is done.
    func write(done: (SweepPoint) -> Bool) throws -> String? {
        let points = grid.points
        try OutputDirectory.writeAtomically(points.enumerated().map { "\($0)\t\($1.name)\n" }.joined(),
                                            to: directory.appendingPathComponent("points.txt"))
        let todo = points.indices.filter { !done(points[$0]) }
        let path = directory.appendingPathComponent("sweep.sbatch")
        guard !todo.isEmpty else {
            try? FileManager.default.removeItem(at: path)   // a stale script would rerun nothing but mislead
            return nil
        }
        try OutputDirectory.writeAtomically(text(todo: todo), to: path)
        chmod(path.path, 0o755)
        return path.path
    }
}
