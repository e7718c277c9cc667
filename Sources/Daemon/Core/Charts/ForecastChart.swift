/// What a forecast chart shows, as plain values: the readings, the newest forecast with its
/// interval, and earlier forecasts next to what actually happened. `SVGChart` draws it;
/// `ChartData` fills it from the database. Times are µs since the Unix epoch (UTC).
///
/// A value that is NaN (a bucket without a reading, a missing actual) breaks its line there
/// instead of drawing to 0. Points need not be sorted: the renderer sorts them by time.
public struct ForecastChart: Sendable, Hashable {
    /// One reading on the model's grid; `value` NaN where the bucket had none.
    public struct Reading: Sendable, Hashable {
        public var time: Int64
        public var value: Double

        public init(time: Int64, value: Double) {
            self.time = time
            self.value = value
        }
    }

    /// One step of the newest forecast: the point forecast and its interval (nil without one).
    public struct ForecastPoint: Sendable, Hashable {
        public var time: Int64
        public var value: Double
        public var lower: Double?
        public var upper: Double?

        public init(time: Int64, value: Double, lower: Double? = nil, upper: Double? = nil) {
            self.time = time
            self.value = value
            self.lower = lower
            self.upper = upper
        }
    }

    /// One step of an earlier forecast (issued at `issuedAt`) and the actual value at its
    /// target time (nil or NaN: not known). Steps of different `issuedAt` are drawn as
    /// separate lines, never joined.
    public struct PastPoint: Sendable, Hashable {
        public var issuedAt: Int64
        public var time: Int64
        public var forecast: Double
        public var lower: Double?
        public var upper: Double?
        public var actual: Double?

        public init(
            issuedAt: Int64, time: Int64, forecast: Double, lower: Double? = nil, upper: Double? = nil,
            actual: Double? = nil
        ) {
            self.issuedAt = issuedAt
            self.time = time
            self.forecast = forecast
            self.lower = lower
            self.upper = upper
            self.actual = actual
        }
    }

    /// The heading (e.g. model and series); any text, escaped when drawn.
    public var title: String
    /// A second line under the title (version, grid, issue time); empty for none.
    public var subtitle: String
    /// Label of the value axis (e.g. the value column); empty for none.
    public var valueLabel: String
    /// Readings, `[time]` order not required.
    public var history: [Reading]
    /// The newest forecast, one point per step.
    public var forecast: [ForecastPoint]
    /// When the newest forecast was issued (time of the last observation it used); drawn as
    /// a vertical marker. nil: no marker.
    public var issuedAt: Int64?
    /// Earlier forecasts and their actuals.
    public var past: [PastPoint]

    public init(
        title: String, subtitle: String = "", valueLabel: String = "", history: [Reading] = [],
        forecast: [ForecastPoint] = [], issuedAt: Int64? = nil, past: [PastPoint] = []
    ) {
        self.title = title
        self.subtitle = subtitle
        self.valueLabel = valueLabel
        self.history = history
        self.forecast = forecast
        self.issuedAt = issuedAt
        self.past = past
    }

    /// Whether there is anything to draw: at least one finite value.
    public var hasData: Bool {
        history.contains { $0.value.isFinite } || forecast.contains { $0.value.isFinite }
            || past.contains { $0.forecast.isFinite || ($0.actual?.isFinite ?? false) }
    }
}
