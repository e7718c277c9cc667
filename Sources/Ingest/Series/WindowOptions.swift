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
    public var scaling: ScalingMethod = .standard
    /// Calendar inputs, or nil for none.
    public var calendar: CalendarFeatures?
    /// The inference window is stale when the series' newest reading is more than this many
    /// steps older than the reference time.
    public var staleAfter: Int = 3

    public init(
        lookback: Int, horizon: Int, stride: Int = 1, maxGap: Int = 3, scaling: ScalingMethod = .standard,
        calendar: CalendarFeatures? = nil, staleAfter: Int = 3
    ) {
        self.lookback = lookback
        self.horizon = horizon
        self.stride = stride
        self.maxGap = maxGap
        self.scaling = scaling
        self.calendar = calendar
        self.staleAfter = staleAfter
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
