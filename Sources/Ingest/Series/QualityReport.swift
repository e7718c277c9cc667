public import Foundation

/// What one read of one series found, for users to judge their data (stored by the caller,
/// e.g. as JSON in `forecast.series_state.quality`). Times are UTC.
public struct QualityReport: Sendable, Hashable, Codable {
    /// Rows streamed from the source for this series.
    public var rowsRead = 0
    /// Rows whose time was NULL (or, for epoch-seconds columns, NaN, ±Infinity or beyond
    /// ±1e11 seconds: the server turns those into NULL).
    public var droppedNullTime = 0
    /// Rows whose time was `'infinity'` or `'-infinity'`.
    public var droppedNonFiniteTime = 0
    /// Rows whose time was before 1970-01-01 UTC, the grid's epoch.
    public var droppedBeforeEpoch = 0
    /// Rows whose time was in the future: more than `ReadOptions.maxFuture` steps after the
    /// read's `now`. A later read takes them once they are no longer in the future.
    public var droppedFutureTime = 0
    /// Rows whose value was NULL.
    public var droppedNullValue = 0
    /// Rows whose value was NaN.
    public var droppedNaN = 0
    /// Rows whose value was +Infinity or -Infinity.
    public var droppedInfinite = 0
    /// Rows whose value was finite but too large for Float32 (magnitude above
    /// `Float.greatestFiniteMagnitude`, e.g. `1e308`), plus the readings of a bucket whose
    /// `sum` overflowed Float32.
    public var droppedValueOverflow = 0
    /// Rows older than the read window (only for time types the server cannot filter exactly).
    public var droppedOutsideWindow = 0
    /// Covariate readings that were NaN, ±Infinity or too large for Float32: the row's
    /// target is kept and the covariate is missing unless another reading fills its bucket
    /// (a row, not a drop, so not part of `rowsDropped`).
    public var droppedCovariateValues = 0
    /// Buckets of this read's grid that received at least one reading.
    public var bucketsObserved = 0
    /// Rows whose time equals the newest time already read for their series: duplicate
    /// readings, or (when most rows do) several sensors in a source read as one series.
    public var rowsSharingTimestamp = 0
    /// Buckets that received more than one reading (combined by the aggregation).
    public var bucketsMerged = 0
    /// After merging with the series' history: buckets filled by linear interpolation
    /// (gaps up to the interpolation limit) and buckets left missing (longer gaps).
    public var bucketsInterpolated = 0
    public var bucketsMissing = 0
    /// Contiguous stretches of the series (a longer gap starts a new one).
    public var segments = 0
    /// Timestamps of the oldest and newest valid reading of this read.
    public var firstTime: Date?
    public var lastTime: Date?

    public init() {}

    /// All dropped rows: the sum of the `dropped...` row counters (not `droppedCovariateValues`).
    public var rowsDropped: Int {
        droppedNullTime + droppedNonFiniteTime + droppedBeforeEpoch + droppedFutureTime + droppedNullValue
            + droppedNaN + droppedInfinite + droppedValueOverflow + droppedOutsideWindow
    }
}
