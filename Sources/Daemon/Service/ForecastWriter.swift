import Ingest
import Logging

/// The daemon's writer: one connection through which every model version, forecast set,
/// request outcome and error is published, each in its own (fenced) transaction.
actor ForecastWriter {
    private let settings: ConnectionSettings
    private var connection: PostgresConnection?

    init(settings: ConnectionSettings) { self.settings = settings }

    /// Runs `body` on the writer's connection, reconnecting after a lost connection.
    func write<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        let connection = try await connected()
        do {
            return try await connection.withSession(body)
        } catch let error as PostgresError where error.kind == .connection {
            self.connection = nil
            throw error
        }
    }

    private func connected() async throws -> PostgresConnection {
        if let connection { return connection }
        let fresh = try await PostgresConnection.connect(settings)
        connection = fresh
        return fresh
    }

    func close() async {
        await connection?.close()
        connection = nil
    }
}
