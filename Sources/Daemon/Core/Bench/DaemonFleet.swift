import Foundation
import Synchronization

/// The daemons of one scenario run: started together, checked while waiting, stopped
/// together; one of them may be killed on purpose (`instances`).
final class DaemonFleet: Sendable {
    let daemons: [DaemonProcess]
    let started: ContinuousClock.Instant
    private let killed = Mutex<Set<Int32>>([])

    private init(daemons: [DaemonProcess], started: ContinuousClock.Instant) {
        self.daemons = daemons
        self.started = started
    }

    /// Starts `count` daemons, logging to `logs/LABEL-daemonN.log`.
    static func start(
        _ count: Int, executable: String, conninfo: String, arguments: [String], logs: URL, label: String
    ) throws -> DaemonFleet {
        let started = ContinuousClock.now
        var daemons: [DaemonProcess] = []
        do {
            for index in 1...count {
                daemons.append(
                    try DaemonProcess(
                        executable: executable, conninfo: conninfo, extraArguments: arguments,
                        log: logs.appending(path: "\(label)-daemon\(index).log")))
            }
        } catch {
            for daemon in daemons { daemon.killHard() }
            throw error
        }
        return DaemonFleet(daemons: daemons, started: started)
    }

    /// Throws when a daemon that was not killed on purpose has exited.
    func checkRunning() throws {
        let killed = self.killed.withLock { $0 }
        for daemon in daemons where !killed.contains(daemon.pid) {
            if let ending = daemon.ending {
                throw DaemonBenchmark.Failure(
                    description: "daemon \(daemon.pid) exited (\(ending)): \(daemon.logTail())")
            }
        }
    }

    /// `kill -9` of `daemon`.
    func killHard(_ daemon: DaemonProcess) {
        killed.withLock { _ = $0.insert(daemon.pid) }
        daemon.killHard()
    }

    /// SIGTERM to every daemon still running, then waits for all.
    func stopAll() async {
        await withTaskGroup(of: Void.self) { group in
            for daemon in daemons { group.addTask { await daemon.stop() } }
        }
    }

    /// Log lines of all daemons containing `text`.
    func logLines(containing text: String) -> Int {
        daemons.reduce(0) { total, daemon in total + daemon.logLines { $0.contains(text) } }
    }

    /// Log lines of all daemons matching the regular expression `pattern`.
    func logLines(matching pattern: String) -> Int {
        daemons.reduce(0) { total, daemon in
            total + daemon.logLines { $0.range(of: pattern, options: .regularExpression) != nil }
        }
    }
}
