/// The chart of one series on `/models/NAME`: the same chart `forecastd plot` writes
/// (`ChartData.plot` + `SVGChart`): the readings on the model's grid, the newest forecast
/// with its interval band, and earlier forecasts against the actuals that arrived.
struct SeriesChart: Sendable {
    /// The series charted (the searched one, or the page's first).
    var series: String
    /// The chart as inline SVG (every name in it escaped by `SVGWriter`), or nil when it
    /// could not be drawn.
    var svg: String?
    /// Why there is no chart (`ChartData.Failure`'s text), shown escaped instead.
    var problem: String?
    /// Choices made for the reader (`Plot.notes`), shown under the chart.
    var notes: [String] = []
}
