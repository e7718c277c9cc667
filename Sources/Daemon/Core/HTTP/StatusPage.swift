/// `/`: every model at a glance, read-only.
enum StatusPage {
    static func render(_ models: [ModelOverview], owner: String) -> String {
        var body = "<h1>forecastd</h1>\n"
        body += "<p>\(models.count) model\(models.count == 1 ? "" : "s"). This process: \(HTML.escape(owner)).</p>\n"
        if models.isEmpty {
            body +=
                "<p class=\"muted\">No models yet: <code>SELECT forecast.create_model(...)</code> registers one.</p>\n"
        } else {
            body += """
                <table><thead><tr><th>model</th><th>state</th><th>version</th><th>last forecast</th>\
                <th>series</th><th>stale series</th><th>queued requests</th><th>scored</th><th>MAE</th>\
                <th title="mean absolute scaled error against the seasonal-naive forecast: below 1 beats it">MASE vs seasonal naive</th>\
                <th>interval coverage</th><th>worked on by</th><th>last error</th></tr></thead><tbody>

                """
            for model in models {
                body +=
                    "<tr><td><a href=\"\(HTML.escape(HTML.modelPath(model.model)))\">\(HTML.escape(model.model))</a></td>"
                body += "<td class=\"\(HTML.escape(model.state))\">\(HTML.escape(model.state))</td>"
                body += "<td class=\"n\">\(model.activeVersion.map(String.init) ?? "-")</td>"
                body += "<td>\(HTML.time(model.lastForecast))</td>"
                body += "<td class=\"n\">\(model.series)</td><td class=\"n\">\(model.staleSeries)</td>"
                body +=
                    "<td class=\"n\">\(model.queuedRequests)</td><td class=\"n\">\(model.scored.map(String.init) ?? "-")</td>"
                body +=
                    "<td class=\"n\">\(HTML.number(model.mae))</td><td class=\"n\">\(HTML.number(model.mase, digits: 3))</td>"
                body += "<td class=\"n\">\(HTML.percent(model.coverage))</td>"
                body += "<td>\(HTML.escape(model.workedOnBy ?? "-"))</td>"
                body += "<td>\(lastError(model))</td></tr>\n"
            }
            body += "</tbody></table>\n"
        }
        body += footer
        return HTML.page(title: "forecastd", body: body)
    }

    static func lastError(_ model: ModelOverview) -> String {
        guard let error = model.lastError else { return "-" }
        return "\(HTML.escape(error)) <span class=\"muted\">(\(HTML.time(model.lastErrorAt)))</span>"
    }

    static let footer = """
        <p class="muted"><a href="/metrics">/metrics</a> (Prometheus) · <a href="/healthz">/healthz</a> · \
        <a href="/readyz">/readyz</a> · figures from forecast.model_status and forecast.recent_accuracy, \
        refreshed every few seconds</p>
        """
}
