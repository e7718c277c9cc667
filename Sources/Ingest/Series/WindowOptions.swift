/// How series become network inputs.
public struct WindowOptions: Sendable, Hashable, Codable {
    /// Input steps per window.
    public var lookback: Int
    /// Target steps per window.
    public var horizon: Int
    /// Steps between consecutive training windows of a series.
    public var stride: Int = 1
    /// Gaps of at most this many steps are interpolated; longer ones split segments.
    public var maxGap: Int = 3
    /// Calendar inputs, or nil for none.
    public var calendar: CalendarFeatures?
    /// Makes each window's target channel and targets relative to its last value (after
    /// scaling): the network learns changes from the present level, which keeps it right
    /// when a series drifts to levels it never saw in training.
    public var relativeToLast: Bool = true

    public init(
        lookback: Int, horizon: Int, stride: Int = 1, maxGap: Int = 3, calendar: CalendarFeatures? = nil,
        relativeToLast: Bool = true
    ) {
        self.lookback = lookback
        self.horizon = horizon
        self.stride = stride
        self.maxGap = maxGap
        self.calendar = calendar
        self.relativeToLast = relativeToLast
    }

    private enum CodingKeys: String, CodingKey {
        case lookback, horizon, stride, maxGap, calendar, relativeToLast
    }

    /// Decodes options saved by any version. Fields added later take their defaults, except
    /// `relativeToLast`: checkpoints written before it existed were trained on absolute
    /// windows, so its absence means `false`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        lookback = try container.decode(Int.self, forKey: .lookback)
        horizon = try container.decode(Int.self, forKey: .horizon)
        stride = try container.decodeIfPresent(Int.self, forKey: .stride) ?? 1
        maxGap = try container.decodeIfPresent(Int.self, forKey: .maxGap) ?? 3
        calendar = try container.decodeIfPresent(CalendarFeatures.self, forKey: .calendar)
        relativeToLast = try container.decodeIfPresent(Bool.self, forKey: .relativeToLast) ?? false
    }

    /// Features per input step: the target, each covariate, then calendar features.
    public func featureCount(covariates: Int) -> Int { 1 + covariates + (calendar?.count ?? 0) }
}

/// Where the validation windows start.
public enum ValidationSplit: Sendable, Hashable {
    /// Windows whose targets lie wholly in the last `fraction` of each series' steps.
    case fraction(Double)
    /// Windows whose targets start at or after this time (µs since the Unix epoch); earlier
    /// windows whose targets end before it are training windows.
    case from(Int64)
    /// Every window is a training window.
    case none
}
