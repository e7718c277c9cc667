public import Foundation

/// What the chart of one series on `/models/NAME` shows: the actuals of its recent one-step
/// forecasts and its newest forecast set with the interval, oldest first.
public struct SeriesChartData: Sendable {
    public struct Point: Sendable {
        public var time: Date
        public var value: Double
    }
    public struct ForecastPoint: Sendable {
        public var time: Date
        public var value: Double
        public var lower: Double?
        public var upper: Double?
    }

    public var model: String
    public var series: String
    public var actuals: [Point]
    public var forecast: [ForecastPoint]
}

/// Draws one series' chart for the model page. The page embeds what it returns as is
/// (inline `<svg>`, or an `<img>` with a `data:` URI: the page's Content-Security-Policy
/// allows both and nothing external), so a renderer must escape the names it prints.
///
/// CHART SLOT: the SVG renderer of the `charts` branch (`Sources/Daemon/Core/Charts/`)
/// conforms to this protocol (a thin adapter if its input differs) and becomes the default
/// of `HTTPEndpoint.Options.init(charts:)`, which `RunCommand` uses; until then
/// `ChartPlaceholder` fills the slot.
public protocol SeriesChartRenderer: Sendable {
    /// HTML for the chart of `data`, trusted as is.
    func html(for data: SeriesChartData) -> String
}

/// Stands in for the chart: says what the chart will show (points and forecast steps).
public struct ChartPlaceholder: SeriesChartRenderer {
    public init() {}

    public func html(for data: SeriesChartData) -> String {
        """
        <div class="chart-slot">chart of \(HTML.escape(data.series)): \(data.actuals.count) actuals, \
        \(data.forecast.count) forecast steps (charts arrive with the SVG renderer)</div>
        """
    }
}
