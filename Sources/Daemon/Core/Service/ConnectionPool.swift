import PostgresClient

/// The connections model cycles borrow, shared by every model: at most `size` open at once
/// (the training pool's size, since at most that many cycles run), so 200 models need as
/// many connections as workers, not 200. A borrower waits in line when all are out; a
/// connection that failed is closed instead of returned.
actor ConnectionPool {
    private var size: Int
    private let settings: @Sendable () -> ConnectionSettings
    private var idle: [PostgresConnection] = []
    private var lent = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(size: Int, settings: @escaping @Sendable () -> ConnectionSettings) {
        self.size = max(1, size)
        self.settings = settings
    }

    /// Connections lent out now.
    var inUse: Int { lent }

    /// Open connections: lent out and idle.
    var open: Int { lent + idle.count }

    /// A connection for the caller's exclusive use until `release`.
    func acquire() async throws -> PostgresConnection {
        while lent >= size {
            await withCheckedContinuation { waiting.append($0) }
        }
        lent += 1
        defer { report() }
        if let connection = idle.popLast() { return connection }
        do {
            return try await PostgresConnection.connect(settings())
        } catch {
            lent -= 1
            wakeOne()
            throw error
        }
    }

    /// Returns `connection`; `healthy: false` closes it (its session may be broken).
    func release(_ connection: PostgresConnection, healthy: Bool) async {
        lent -= 1
        if healthy, open < size {
            idle.append(connection)
        } else {
            await connection.close()
        }
        report()
        wakeOne()
    }

    /// Changes the limit (on reload); extra idle connections are closed.
    func resize(_ newSize: Int) async {
        size = max(1, newSize)
        while open > size, let connection = idle.popLast() { await connection.close() }
        report()
        for _ in 0..<max(0, size - lent) { wakeOne() }
    }

    /// Closes every idle connection (at stop).
    func close() async {
        let closing = idle
        idle = []
        for connection in closing { await connection.close() }
        report()
    }

    /// `forecastd_db_connections_in_use` and `_open`.
    private func report() {
        ProcessMetrics.connectionsInUse.record(lent)
        ProcessMetrics.connectionsOpen.record(open)
    }

    private func wakeOne() {
        if !waiting.isEmpty { waiting.removeFirst().resume() }
    }
}
