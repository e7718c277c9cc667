/// Where a model's readings live: a relation and its columns, as given in configuration.
///
/// Names are taken literally (no case folding) and are only ever used quoted with
/// `PQescapeIdentifier`. `relation` may be schema-qualified as `schema.name`; a name that
/// itself contains a dot is found too (see `SourceCatalog`).
public struct SourceDescription: Sendable, Hashable, Codable {
    public var relation: String
    /// `timestamptz`, `timestamp` (read as UTC), `date` (midnight UTC) or a number of
    /// seconds since the Unix epoch (any integer, float or numeric type).
    public var timeColumn: String
    /// The target: any integer, float or numeric type.
    public var valueColumn: String
    /// Optional sensor id of any type, keyed as its text representation. Without it the
    /// relation holds one series, keyed `""`.
    public var seriesColumn: String?
    /// Optional numeric inputs read beside the target (same grid, same aggregation).
    public var covariateColumns: [String]
    public var frequency: Frequency

    public init(
        relation: String, timeColumn: String, valueColumn: String, seriesColumn: String? = nil,
        covariateColumns: [String] = [], frequency: Frequency
    ) {
        self.relation = relation
        self.timeColumn = timeColumn
        self.valueColumn = valueColumn
        self.seriesColumn = seriesColumn
        self.covariateColumns = covariateColumns
        self.frequency = frequency
    }
}

/// How readings that fall into one bucket of the grid are combined.
public enum Aggregation: String, Sendable, Hashable, Codable, CaseIterable {
    /// The mean of the readings (default).
    case mean
    /// The reading with the latest timestamp (ties: the one read last).
    case last
    /// The sum of the readings (for counters per interval).
    case sum
}
