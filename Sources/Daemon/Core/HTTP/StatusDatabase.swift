import Foundation
import PostgresClient

/// The HTTP endpoint's own database connection, opened on the first request that needs it
/// (so a daemon nobody scrapes spends none), reopened after a failure, with a 3 s connect
/// timeout and a 10 s statement timeout so a probe never hangs for long. Caches the model
/// overview (`/`, `/metrics`) for a few seconds and the readiness answer for one.
actor StatusDatabase {
    private let settings: @Sendable () -> ConnectionSettings
    private var connection: PostgresConnection?
    private var cachedOverview: (at: ContinuousClock.Instant, models: [ModelOverview])?
    private var cachedSchema: (at: ContinuousClock.Instant, result: Result<Int, PostgresError>)?

    /// How long `/` and `/metrics` reuse one overview query.
    static let overviewMaxAge = Duration.seconds(5)
    /// How long `/readyz` reuses one round trip.
    static let readinessMaxAge = Duration.seconds(1)

    init(settings: @escaping @Sendable () -> ConnectionSettings) {
        self.settings = settings
    }

    /// Runs `body` on the connection (opening it when needed); a lost connection is closed
    /// so the next call opens a new one.
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        let connection = try await connected()
        do {
            return try await connection.withSession(body)
        } catch let error as PostgresError where error.kind == .connection {
            if self.connection === connection { self.connection = nil }
            await connection.close()
            throw error
        }
    }

    private func connected() async throws -> PostgresConnection {
        if let connection { return connection }
        var settings = settings()
        settings.connectTimeoutSeconds = 3
        let opened = try await PostgresConnection.connect(settings)
        do {
            _ = try await opened.withSession { session in try session.execute("SET statement_timeout = '10s'") }
        } catch {
            await opened.close()
            throw error
        }
        if let connection {
            // Another request connected meanwhile: keep one.
            await opened.close()
            return connection
        }
        connection = opened
        return opened
    }

    /// Every model's overview, at most `overviewMaxAge` old.
    func overview() async throws -> [ModelOverview] {
        if let cachedOverview, ContinuousClock.now - cachedOverview.at < Self.overviewMaxAge {
            return cachedOverview.models
        }
        let models = try await run { session in try StatusQueries.overview(session) }
        cachedOverview = (.now, models)
        return models
    }

    /// The applied schema version, or why the database did not answer; at most
    /// `readinessMaxAge` old.
    func schemaVersion() async -> Result<Int, PostgresError> {
        if let cachedSchema, ContinuousClock.now - cachedSchema.at < Self.readinessMaxAge {
            return cachedSchema.result
        }
        let result: Result<Int, PostgresError>
        do {
            result = .success(try await run { session in try StatusQueries.schemaVersion(session) })
        } catch let error as PostgresError {
            result = .failure(error)
        } catch {
            result = .failure(PostgresError(.connection, "\(error)"))
        }
        cachedSchema = (.now, result)
        return result
    }

    func close() async {
        await connection?.close()
        connection = nil
    }
}
