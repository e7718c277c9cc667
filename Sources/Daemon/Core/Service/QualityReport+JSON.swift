import Foundation
import Ingest
import PostgresClient

extension QualityReport {
    /// The report as stored in `forecast.series_state.quality`, with snake_case keys.
    var json: String {
        var fields: [String: Any] = [
            "rows_read": rowsRead, "rows_dropped": rowsDropped, "dropped_null_time": droppedNullTime,
            "dropped_null_value": droppedNullValue, "dropped_nan": droppedNaN, "dropped_infinite": droppedInfinite,
            "dropped_outside_window": droppedOutsideWindow, "buckets_observed": bucketsObserved,
            "buckets_merged": bucketsMerged, "buckets_interpolated": bucketsInterpolated,
            "buckets_missing": bucketsMissing, "segments": segments,
        ]
        let formatter = ISO8601DateFormatter()
        if let firstTime { fields["first_time"] = formatter.string(from: firstTime) }
        if let lastTime { fields["last_time"] = formatter.string(from: lastTime) }
        let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
