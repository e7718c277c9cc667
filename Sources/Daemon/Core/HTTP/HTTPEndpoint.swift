import Foundation
import Hummingbird
import Logging
import Synchronization

/// The routes of forecastd's HTTP endpoint, all read-only:
///
/// - `/metrics`: Prometheus text format (the executable's registry, after the gauges that
///   come from SQL were refreshed);
/// - `/healthz`, `/readyz`: 200 or 503 with one line saying why (`HealthChecks`);
/// - `/`: every model at a glance; `/models/NAME?series=S&page=N`: one model, its versions,
///   events and a page of its series with one chart.
///
/// Pages are server-rendered HTML without scripts, fonts or external resources, under a
/// strict Content-Security-Policy; every name is escaped.
public struct HTTPEndpoint: Sendable {
    /// What the executable hands in: the metrics backend's exposition.
    public struct Options: Sendable {
        public var metrics: any MetricsExposition

        public init(metrics: any MetricsExposition) {
            self.metrics = metrics
        }
    }

    /// Nothing but inline styles and `data:` images; no scripts, frames, fonts or fetches.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'"

    let options: Options
    let context: DaemonContext
    let health: HealthChecks
    let status: StatusDatabase
    let statusMetrics = StatusMetrics()
    /// Warnings about refreshing the SQL gauges, repeated only when they change.
    private let warnings = ChangedMessages()

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/metrics") { _, _ in await self.metrics() }
        router.get("/healthz") { _, _ in Self.text(self.health.health()) }
        router.get("/readyz") { _, _ in Self.text(await self.health.readiness()) }
        router.get("/") { _, _ in await self.statusPage() }
        router.get("/models/**") { request, _ in await self.modelPage(request) }
        return router
    }

    private func metrics() async -> Response {
        do {
            statusMetrics.update(try await status.overview())
            warnings.clear()
        } catch {
            // The event metrics still go out; the SQL-backed gauges keep their last values.
            let message = "metrics: cannot read the model status: \(HealthChecks.oneLine("\(error)"))"
            if warnings.isNew(message) { context.logger.warning("\(message)") }
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16_384)
        options.metrics.emit(into: &buffer)
        return Self.response(.ok, type: "text/plain; version=0.0.4; charset=utf-8", ByteBuffer(bytes: buffer))
    }

    private func statusPage() async -> Response {
        do {
            let models = try await status.overview()
            return Self.html(.ok, StatusPage.render(models, owner: context.owner))
        } catch {
            return Self.unavailable(error)
        }
    }

    private func modelPage(_ request: Request) async -> Response {
        let encoded = request.uri.path.dropFirst("/models/".count)
        guard let name = encoded.removingPercentEncoding, !name.isEmpty else {
            return Self.html(.notFound, HTML.page(title: "not found", body: "<p>No such page.</p>"))
        }
        let query = HTML.queryParameters(request.uri.query)
        let search = query["series"] ?? ""
        let page = max(1, min(Int(query["page"] ?? "") ?? 1, 1_000_000))
        do {
            let pageSize = ModelPage.pageSize
            let data = try await status.run { session in
                try StatusQueries.modelPage(name, search: search, page: page, pageSize: pageSize, in: session)
            }
            guard let data else {
                return Self.html(
                    .notFound,
                    HTML.page(
                        title: "no such model",
                        body: "<p><a href=\"/\">← all models</a></p><p>No model named \(HTML.escape(name)).</p>"))
            }
            return Self.html(.ok, ModelPage.render(data, search: search, page: page))
        } catch {
            return Self.unavailable(error)
        }
    }

    // MARK: Responses

    static func text(_ answer: HealthChecks.Answer) -> Response {
        response(
            answer.ok ? .ok : .serviceUnavailable, type: "text/plain; charset=utf-8",
            ByteBuffer(string: answer.reason + "\n"))
    }

    static func html(_ status: HTTPResponse.Status, _ page: String) -> Response {
        response(status, type: "text/html; charset=utf-8", ByteBuffer(string: page))
    }

    static func unavailable(_ error: any Error) -> Response {
        let message = HTML.escape(HealthChecks.oneLine("\(error)"))
        return html(
            .serviceUnavailable,
            HTML.page(title: "forecastd: database unavailable", body: "<p>The database did not answer: \(message)</p>"))
    }

    static func response(_ status: HTTPResponse.Status, type: String, _ body: ByteBuffer) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.cacheControl] = "no-store"
        headers[.init("Referrer-Policy")!] = "no-referrer"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }
}

/// The last message said, so a condition that repeats (each scrape while the database is
/// away) is logged once.
final class ChangedMessages: Sendable {
    private let last = Mutex<String?>(nil)

    /// Whether `message` differs from the last one; it becomes the last one.
    func isNew(_ message: String) -> Bool {
        last.withLock { last in
            defer { last = message }
            return last != message
        }
    }

    func clear() { last.withLock { $0 = nil } }
}
