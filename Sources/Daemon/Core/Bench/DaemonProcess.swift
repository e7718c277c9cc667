import Foundation

/// A real `forecastd run` started as a child process (posix_spawn), its stdout and stderr in
/// a log file. Stopped with SIGTERM (SIGKILL after a grace period) or killed with SIGKILL;
/// only this process is ever signalled, by its pid.
final class DaemonProcess: @unchecked Sendable {
    // Invariant: `exitStatus` is read and written only under `lock` (in `reap`).
    let pid: Int32
    let log: URL
    private let lock = NSLock()
    private var exitStatus: Int32?

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts `executable run --database CONNINFO extraArguments...`.
    /// `PGAPPNAME` and `NOTIFY_SOCKET` are removed from its environment, so its connections
    /// are named `forecastd` and it never talks to a systemd that started the benchmark.
    init(executable: String, conninfo: String, extraArguments: [String], log: URL) throws {
        self.log = log
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let arguments = [executable, "run", "--database", conninfo] + extraArguments
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environment =
            ProcessInfo.processInfo.environment
            .filter { $0.key != "PGAPPNAME" && $0.key != "NOTIFY_SOCKET" }
            .map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { environment.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environment)
        guard spawned == 0 else {
            throw Failure(description: "cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        self.pid = pid
    }

    /// Whether the process is still running (reaps it when it has exited).
    var isRunning: Bool { reap(blocking: false) == nil }

    /// How it ended, once it has: "exit N" or "signal N".
    var ending: String? {
        guard let status = reap(blocking: false) else { return nil }
        return status & 0x7F == 0 ? "exit \((status >> 8) & 0xFF)" : "signal \(status & 0x7F)"
    }

    /// SIGTERM, then up to `grace` for a clean stop, then SIGKILL. Idempotent.
    func stop(grace: Duration = .seconds(30)) async {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if !isRunning { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
        kill(pid, SIGKILL)
        _ = reap(blocking: true)
    }

    /// `kill -9`: no clean-up, leases left to expire.
    func killHard() {
        guard isRunning else { return }
        kill(pid, SIGKILL)
        _ = reap(blocking: true)
    }

    /// Lines of the log for which `matches` holds.
    func logLines(where matches: (Substring) -> Bool) -> Int {
        guard let content = try? String(contentsOf: log, encoding: .utf8) else { return 0 }
        return content.split(separator: "\n").filter(matches).count
    }

    /// The last lines of the log, for a failure message.
    func logTail(_ lines: Int = 5) -> String {
        guard let content = try? String(contentsOf: log, encoding: .utf8) else { return "" }
        return content.split(separator: "\n").suffix(lines).joined(separator: " | ")
    }

    /// The wait status once the process has exited (reaped exactly once), else nil.
    private func reap(blocking: Bool) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, blocking ? 0 : WNOHANG) } while result == -1 && errno == EINTR
        guard result == pid else { return nil }
        exitStatus = status
        return status
    }
}
