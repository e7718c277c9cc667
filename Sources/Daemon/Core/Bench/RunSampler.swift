import Synchronization

/// Samples a scenario's daemons while it runs, on its own connection: each daemon's peak
/// RSS (`VmHWM`, every 100 ms, so the figure survives the process), the daemons'
/// connections (every 200 ms) and benchmark models in `error` (every second); keeps the
/// highest of each.
final class RunSampler: Sendable {
    struct Figures: Sendable {
        var peakResidentKiB: Int?
        var connectionsMax: Int?
        var errorsMax: Int?
    }

    private let daemons: [DaemonProcess]
    private let database: BenchDatabase
    private let state = Mutex(Figures())

    init(daemons: [DaemonProcess], database: BenchDatabase) {
        self.daemons = daemons
        self.database = database
    }

    var figures: Figures { state.withLock { $0 } }

    /// Samples until cancelled.
    func run() async {
        var tick = 0
        while !Task.isCancelled {
            let peak = daemons.compactMap { ProcessStats.read(pid: $0.pid)?.peakResidentKiB }.max()
            var connections: Int?
            var errors: Int?
            if tick % 2 == 0 { connections = try? await database.daemonConnections() }
            if tick % 10 == 0 { errors = try? await database.modelsInError() }
            state.withLock { figures in
                figures.peakResidentKiB = Self.max(figures.peakResidentKiB, peak)
                figures.connectionsMax = Self.max(figures.connectionsMax, connections)
                figures.errorsMax = Self.max(figures.errorsMax, errors)
            }
            tick += 1
            do { try await Task.sleep(for: .milliseconds(100)) } catch { return }
        }
    }

    private static func max(_ a: Int?, _ b: Int?) -> Int? {
        guard let b else { return a }
        return Swift.max(a ?? b, b)
    }
}
