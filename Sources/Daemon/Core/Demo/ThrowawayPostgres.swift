public import Foundation

/// A temporary PostgreSQL cluster for the demo: `initdb` into a fresh temporary directory,
/// a server listening only on a Unix socket in that directory, removed by `stop()`.
/// PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user.
public final class ThrowawayPostgres {
    public let directory: URL
    public let conninfo: String
    private let binaries: URL
    private var running = false

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts a cluster (with `max_connections` set when given, e.g. for benchmarks that
    /// count a daemon's connections); throws with initdb's or the server's log on failure.
    public init(maxConnections: Int? = nil) throws {
        binaries = try Self.findBinaries()
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appending(
            path: "forecastd-demo-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        if getuid() == 0 { try Self.run("/bin/chown", ["postgres:postgres", directory.path]) }
        let data = directory.appending(path: "data").path
        try Self.runAsOwner(
            binaries.appending(path: "initdb").path,
            ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"])
        try Self.runAsOwner(
            binaries.appending(path: "pg_ctl").path,
            [
                "-D", data, "-l", directory.appending(path: "server.log").path, "-w", "-t", "60", "-o",
                "-c listen_addresses='' -k \(directory.path) -p 5432 -c fsync=off -c synchronous_commit=off"
                    + (maxConnections.map { " -c max_connections=\($0)" } ?? ""),
                "start",
            ])
        running = true
        conninfo = "host=\(directory.path) port=5432 user=postgres dbname=postgres"
    }

    deinit { stop() }

    /// Stops the server and deletes its directory. Idempotent.
    public func stop() {
        guard running else { return }
        running = false
        _ = try? Self.runAsOwner(
            binaries.appending(path: "pg_ctl").path,
            ["-D", directory.appending(path: "data").path, "-m", "fast", "-w", "stop"])
        try? FileManager.default.removeItem(at: directory)
    }

    /// The newest `/usr/lib/postgresql/N/bin` with `initdb`, or `$PG_BINDIR`.
    static func findBinaries() throws -> URL {
        if let configured = ProcessInfo.processInfo.environment["PG_BINDIR"] { return URL(fileURLWithPath: configured) }
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        let newest = versions.compactMap(Int.init).sorted().last { version in
            FileManager.default.isExecutableFile(atPath: root.appending(path: "\(version)/bin/initdb").path)
        }
        guard let newest else {
            throw Failure(description: "no PostgreSQL server found (apt-get install postgresql), or pass --database")
        }
        return root.appending(path: "\(newest)/bin")
    }

    static func runAsOwner(_ executable: String, _ arguments: [String]) throws {
        if getuid() == 0 {
            try run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
        } else {
            try run(executable, arguments)
        }
    }

    /// Runs a program to completion with posix_spawn and waitpid (Foundation's `Process`
    /// can wait forever for a child whose own child, the server, inherits its pipes). Output
    /// goes to a log file whose tail is reported on failure.
    static func run(_ executable: String, _ arguments: [String]) throws {
        let log = URL(fileURLWithPath: NSTemporaryDirectory()).appending(path: "forecastd-demo-\(getpid()).log")
        defer { try? FileManager.default.removeItem(at: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw Failure(description: "cannot run \(executable): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // Exited normally with code 0: WIFEXITED && WEXITSTATUS == 0.
        guard status & 0x7F == 0, (status >> 8) & 0xFF == 0 else {
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            let name = URL(
                fileURLWithPath: arguments.first { $0.hasSuffix("initdb") || $0.hasSuffix("pg_ctl") } ?? executable
            )
            .lastPathComponent
            throw Failure(description: "\(name) failed: \(output.suffix(600))")
        }
    }
}
