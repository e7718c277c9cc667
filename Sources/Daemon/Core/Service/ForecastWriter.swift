import Ingest
import Logging
import PostgresClient

/// The daemon's writer: one connection through which every model version, forecast set,
/// request outcome and error is published, each in its own (fenced) transaction.
actor ForecastWriter {
    private let runtime: RuntimeConfiguration
    private var connection: PostgresConnection?

    init(runtime: RuntimeConfiguration) { self.runtime = runtime }

    /// Runs `body` on the writer's connection, reconnecting after a lost connection.
    func write<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        let connection = try await connected()
        do {
            return try await connection.withSession(body)
        } catch let error as PostgresError where error.isConnectionLoss {
            self.connection = nil
            throw error
        }
    }

    private func connected() async throws -> PostgresConnection {
        if let connection { return connection }
        let fresh = try await PostgresConnection.connect(runtime.snapshot.connectionSettings())
        connection = fresh
        return fresh
    }

    func close() async {
        await connection?.close()
        connection = nil
    }
}
