import Foundation
import Ingest

extension QualityReport {
    /// The report as stored in `forecast.series_state.quality`: snake_case keys, times in
    /// ISO 8601 (UTC), plus the total `rows_dropped`.
    var json: String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(StoredQuality(self))) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// `QualityReport` with the column names users query.
private struct StoredQuality: Encodable {
    var rowsRead, rowsDropped, droppedNullTime, droppedNullValue, droppedNaN, droppedInfinite: Int
    var droppedOutsideWindow, bucketsObserved, bucketsMerged, bucketsInterpolated, bucketsMissing, segments: Int
    var droppedNonFiniteTime, droppedBeforeEpoch, droppedFutureTime, droppedValueOverflow: Int
    var droppedCovariateValues, rowsSharingTimestamp: Int
    var firstTime, lastTime: Date?

    init(_ report: QualityReport) {
        rowsRead = report.rowsRead
        rowsDropped = report.rowsDropped
        droppedNullTime = report.droppedNullTime
        droppedNullValue = report.droppedNullValue
        droppedNaN = report.droppedNaN
        droppedInfinite = report.droppedInfinite
        droppedOutsideWindow = report.droppedOutsideWindow
        bucketsObserved = report.bucketsObserved
        bucketsMerged = report.bucketsMerged
        bucketsInterpolated = report.bucketsInterpolated
        bucketsMissing = report.bucketsMissing
        segments = report.segments
        droppedNonFiniteTime = report.droppedNonFiniteTime
        droppedBeforeEpoch = report.droppedBeforeEpoch
        droppedFutureTime = report.droppedFutureTime
        droppedValueOverflow = report.droppedValueOverflow
        droppedCovariateValues = report.droppedCovariateValues
        rowsSharingTimestamp = report.rowsSharingTimestamp
        firstTime = report.firstTime
        lastTime = report.lastTime
    }

    enum CodingKeys: String, CodingKey {
        case segments
        case rowsRead = "rows_read"
        case rowsDropped = "rows_dropped"
        case droppedNullTime = "dropped_null_time"
        case droppedNullValue = "dropped_null_value"
        case droppedNaN = "dropped_nan"
        case droppedInfinite = "dropped_infinite"
        case droppedOutsideWindow = "dropped_outside_window"
        case bucketsObserved = "buckets_observed"
        case bucketsMerged = "buckets_merged"
        case bucketsInterpolated = "buckets_interpolated"
        case bucketsMissing = "buckets_missing"
        case droppedNonFiniteTime = "dropped_non_finite_time"
        case droppedBeforeEpoch = "dropped_before_1970"
        case droppedFutureTime = "dropped_future_time"
        case droppedValueOverflow = "dropped_value_overflow"
        case droppedCovariateValues = "dropped_covariate_values"
        case rowsSharingTimestamp = "rows_sharing_timestamp"
        case firstTime = "first_time"
        case lastTime = "last_time"
    }
}
