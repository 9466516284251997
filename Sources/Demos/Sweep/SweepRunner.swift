import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a sweep's points on this machine: each point is a child process of the Demos executable with its own
/// `--out DIR/<point>`, at most `jobs` at a time. A point's stdout and stderr go to DIR/<point>/stdout.txt and
/// stderr.txt; a point that fails is reported and the others go on.
struct SweepRunner {
    var executable: String
    var directory: URL
    var jobs: Int
    var console: Console

    struct Outcome {
        var point: SweepPoint
        /// The child's exit status (128 + N when killed by signal N), or nil when it could not be started.
        var status: Int32?
        var seconds: Double
        var message: String
    }

    /// Runs every point (in order, `jobs` at a time) and returns one outcome per point, in the points' order.
    func run(_ points: [(point: SweepPoint, arguments: [String])]) -> [Outcome] {
        let state = SharedState(count: points.count)
        let threads = min(jobs, points.count)
        let finished = DispatchSemaphore(value: 0)
        for _ in 0..<threads {
            let worker = Thread {
                while let k = state.next() {
                    let outcome = self.runPoint(points[k].point, points[k].arguments)
                    let done = state.finish(k, outcome)
                    self.report(outcome, done: done, of: points.count)
                }
                finished.signal()
            }
            worker.stackSize = 1 << 20
            worker.start()
        }
        for _ in 0..<threads { finished.wait() }
        return state.outcomes.map { $0! }
    }

    func folder(_ p: SweepPoint) -> URL { directory.appendingPathComponent(p.name, isDirectory: true) }

    private func runPoint(_ p: SweepPoint, _ args: [String]) -> Outcome {
        let start = Date()
        let dir = folder(p)
        do {
            try OutputDirectory.makeFolders(dir, flag: dir.path)
            let status = try SweepRunner.spawnAndWait(executable, args + ["--out", dir.path],
                                                      stdout: dir.appendingPathComponent("stdout.txt").path,
                                                      stderr: dir.appendingPathComponent("stderr.txt").path)
            let seconds = Date().timeIntervalSince(start)
            if status == 0 {
                let written = FileManager.default.fileExists(atPath: dir.appendingPathComponent("result.json").path)
                return Outcome(point: p, status: status, seconds: seconds, message: written ? "" : "exited 0 but wrote no result.json")
            }
            let firstError = (try? String(contentsOf: dir.appendingPathComponent("stderr.txt"), encoding: .utf8))?
                .split(separator: "\n").first { $0.hasPrefix("error") }.map(String.init) ?? ""
            return Outcome(point: p, status: status, seconds: seconds, message: firstError)
        } catch {
            return Outcome(point: p, status: nil, seconds: Date().timeIntervalSince(start), message: "\(error)")
        }
    }

    private func report(_ o: Outcome, done: Int, of total: Int) {
        let time = String(format: "%.1f s", o.seconds)
        if o.status == 0 && o.message.isEmpty {
            console.error("[\(done)/\(total)] \(o.point.name): ok (\(time))")
        } else {
            let why = o.status.map { "exit \($0)" } ?? "not started"
            console.error("[\(done)/\(total)] \(o.point.name): FAILED (\(why), \(time))\(o.message.isEmpty ? "" : ": " + o.message)"
                          + " — see \(folder(o.point).appendingPathComponent("stderr.txt").path)")
        }
    }

    /// Hands out point indices and collects outcomes across the worker threads.
    private final class SharedState: @unchecked Sendable {
        private let lock = NSLock()
        private var nextIndex = 0, done = 0
        private(set) var outcomes: [Outcome?]
        init(count: Int) { outcomes = Array(repeating: nil, count: count) }
        func next() -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard nextIndex < outcomes.count else { return nil }
            nextIndex += 1
            return nextIndex - 1
        }
        func finish(_ k: Int, _ o: Outcome) -> Int {
            lock.lock(); defer { lock.unlock() }
            outcomes[k] = o
            done += 1
            return done
        }
    }

    /// Starts `executable args` with stdin from /dev/null and stdout/stderr into the given files (created or
    /// truncated), waits for it, and returns its exit status (128 + N if signal N killed it). `environment`
    /// (`NAME=value` entries) is added to this process's environment.
    static func spawnAndWait(_ executable: String, _ args: [String], stdout: String, stderr: String, environment: [String] = []) throws -> Int32 {
        // The files are opened close-on-exec, so children started at the same time by other threads do not
        // inherit them; dup2 in the child's file actions makes fresh, inheritable descriptors 1 and 2.
        let out = open(stdout, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard out >= 0 else { throw DemoError("cannot create \(stdout): \(String(cString: strerror(errno)))") }
        defer { close(out) }
        let err = open(stderr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard err >= 0 else { throw DemoError("cannot create \(stderr): \(String(cString: strerror(errno)))") }
        defer { close(err) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out, 1)
        posix_spawn_file_actions_adddup2(&actions, err, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + args).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var envp: [UnsafeMutablePointer<CChar>?] = []
        var e = environ
        while let entry = e.pointee { envp.append(entry); e += 1 }
        let extra = environment.map { strdup($0) }
        defer { for p in extra { free(p) } }
        envp += extra + [nil]
        var pid = pid_t()
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard rc == 0 else { throw DemoError("cannot start \(executable): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw DemoError("waitpid for \(executable): \(String(cString: strerror(errno)))") }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}

/// An exclusive lock on DIR/.sweep.lock for the lifetime of the value, so two local sweeps never run the same
/// points into one folder at once (flock: released by the kernel if the process dies).
final class SweepLock {
    private let fd: Int32

    init(_ directory: URL) throws {
        let path = directory.appendingPathComponent(".sweep.lock").path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DemoError("cannot create \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw UsageError("--out \(directory.path): another sweep is running into this folder (it holds \(path))")
        }
    }

    deinit { close(fd) }
}
