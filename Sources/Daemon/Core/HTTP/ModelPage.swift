/// `/models/NAME`: one model's status, the chart of one series (the searched one, or the
/// page's first), settings, versions, events and, page by page, its series.
enum ModelPage {
    static let pageSize = 50

    static func render(_ data: ModelPageData, search: String, page: Int) -> String {
        let name = HTML.escape(data.name)
        var body = "<p><a href=\"/\">← all models</a></p>\n<h1>\(name)</h1>\n"
        if let model = data.overview {
            body += "<table><tbody>\n"
            let rows: [(String, String)] = [
                ("state", "<span class=\"\(HTML.escape(model.state))\">\(HTML.escape(model.state))</span>"),
                ("active version", model.activeVersion.map(String.init) ?? "-"),
                ("last forecast", HTML.time(model.lastForecast)), ("newest data", HTML.time(model.newestData)),
                ("series", "\(model.series)"), ("stale series", "\(model.staleSeries)"),
                ("queued requests", "\(model.queuedRequests)"),
                (
                    "live accuracy",
                    "MAE \(HTML.number(model.mae)), MASE vs seasonal naive \(HTML.number(model.mase, digits: 3)), "
                        + "interval coverage \(HTML.percent(model.coverage)) over \(model.scored ?? 0) matured steps"
                ),
                ("worked on by", HTML.escape(model.workedOnBy ?? "-")), ("last error", StatusPage.lastError(model)),
            ]
            for (key, value) in rows { body += "<tr><th>\(key)</th><td>\(value)</td></tr>\n" }
            body += "</tbody></table>\n"
        }
        body += chart(data, search: search)
        body += "<h2>Settings</h2>\n<table><tbody>\n"
        for (key, value) in data.settings {
            body += "<tr><th>\(HTML.escape(key))</th><td>\(HTML.escape(value))</td></tr>\n"
        }
        body += "</tbody></table>\n"
        body += versions(data.versions) + events(data.events)
        body += series(data, search: search, page: page)
        body += StatusPage.footer
        return HTML.page(title: "forecastd: \(data.name)", body: body)
    }

    static func versions(_ versions: [VersionRow]) -> String {
        var html = "<h2>Versions</h2>\n"
        guard !versions.isEmpty else { return html + "<p class=\"muted\">none yet</p>\n" }
        html += """
            <table><thead><tr><th>version</th><th>kind</th><th>created</th><th>trained through</th>\
            <th>train loss</th><th>validation loss</th><th>training</th><th></th></tr></thead><tbody>

            """
        for version in versions {
            let work = [
                version.epochs.map { "\($0) epochs" }, version.steps.map { "\($0) steps" },
                version.seconds.map { "\(HTML.number($0, digits: 3)) s" },
            ].compactMap { $0 }.joined(separator: ", ")
            html += "<tr><td class=\"n\">\(version.version)</td><td>\(HTML.escape(version.kind))</td>"
            html += "<td>\(HTML.time(version.createdAt))</td><td>\(HTML.time(version.trainedThrough))</td>"
            html += "<td class=\"n\">\(HTML.number(version.trainLoss))</td>"
            html += "<td class=\"n\">\(HTML.number(version.validationLoss))</td>"
            html += "<td>\(work.isEmpty ? "-" : work)</td><td>\(version.active ? "active" : "")</td></tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    static func events(_ events: [EventRow]) -> String {
        var html = "<h2>Events</h2>\n"
        guard !events.isEmpty else { return html + "<p class=\"muted\">none yet</p>\n" }
        html += "<table><thead><tr><th>at</th><th>level</th><th>message</th></tr></thead><tbody>\n"
        for event in events {
            html += "<tr><td>\(HTML.time(event.at))</td><td class=\"\(HTML.escape(event.level))\">"
            html += "\(HTML.escape(event.level))</td><td>\(HTML.escape(event.message))</td></tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    /// Under the status: the search form and the chart of the searched (or first) series,
    /// one chart per page view whatever the number of series.
    static func chart(_ data: ModelPageData, search: String) -> String {
        var html = """
            <form method="get" action="\(HTML.escape(HTML.modelPath(data.name)))">\
            <label>series <input name="series" value="\(HTML.escape(search))"></label> \
            <button>search</button></form>

            """
        if let chart = data.chart {
            // One chart per page view, whatever the number of series.
            html += "<h3>\(HTML.escape(chart.series))</h3>\n"
            if let svg = chart.svg {
                html += "<figure class=\"chart\">\(svg)</figure>\n"
            } else {
                html += "<p class=\"muted\">no chart: \(HTML.escape(chart.problem ?? "nothing to draw"))</p>\n"
            }
            for note in chart.notes { html += "<p class=\"muted\">\(HTML.escape(note))</p>\n" }
        }
        return html
    }

    /// One page of the series list and links to the other pages.
    static func series(_ data: ModelPageData, search: String, page: Int) -> String {
        let pages = max(1, (data.matchingSeries + pageSize - 1) / pageSize)
        var html = "<h2>Series</h2>\n"
        html += "<p>\(data.matchingSeries) series\(search.isEmpty ? "" : " matching “\(HTML.escape(search))”")"
        html += ", page \(min(page, pages)) of \(pages).</p>\n"
        guard !data.series.isEmpty else { return html + "<p class=\"muted\">no series on this page</p>\n" }
        html += "<table><thead><tr><th>series</th><th>newest reading</th><th>why no fresh forecast</th>"
        html += "<th>bridged steps</th></tr></thead><tbody>\n"
        for series in data.series {
            let link = HTML.escape(HTML.modelPath(data.name, series: series.name))
            html += "<tr><td><a href=\"\(link)\">\(HTML.escape(series.name))</a></td>"
            html += "<td>\(HTML.time(series.newestReading))</td><td>\(HTML.escape(series.reason ?? "-"))</td>"
            html += "<td class=\"n\">\(series.bridged)</td></tr>\n"
        }
        html += "</tbody></table>\n"
        if pages > 1 {
            var links: [String] = []
            if page > 1 {
                links.append(
                    "<a href=\"\(HTML.escape(HTML.modelPath(data.name, series: search, page: page - 1)))\">← previous</a>"
                )
            }
            if page < pages {
                links.append(
                    "<a href=\"\(HTML.escape(HTML.modelPath(data.name, series: search, page: page + 1)))\">next →</a>")
            }
            html += "<p>" + links.joined(separator: " · ") + "</p>\n"
        }
        return html
    }
}
