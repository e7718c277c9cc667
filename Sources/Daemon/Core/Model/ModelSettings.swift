import Forecast
import Foundation
import Ingest
import PostgresClient

/// A model as registered in `forecast.models`, with its options resolved to defaults.
///
/// The defaults are the same for every data set (no tuning per source inside forecastd).
struct ModelSettings: Sendable, Hashable {
    var name: String
    var source: SourceDescription
    var horizon: Int
    var lookback: Int
    var layers = 2
    var hidden = 64
    var quantiles: [Float] = [0.1, 0.5, 0.9]
    var calendar = false
    var timeZone = "UTC"
    var learningRate: Float = 1e-3
    var maxEpochs = 50
    /// New steps per incremental update; the horizon when not set.
    var updateEvery: Int
    /// Seconds between scheduled full retrains, or nil.
    var retrainEvery: Double?
    var maxHistory = ReadOptions.defaultMaxHistory
    /// Steps after the database's `now()` a reading may lie and still be trusted; the
    /// horizon when not set.
    var maxFuture: Int
    /// Whether a trigger on the source notifies the daemon of new rows (`create_model`
    /// installs one on tables): then a poll without a notification has nothing to read.
    var notifiesNewData = false

    /// Options of `forecast.create_model` that this daemon understands.
    struct InvalidOptions: Error, CustomStringConvertible {
        var message: String
        var description: String { "invalid model options: \(message)" }
    }

    init(
        name: String, source: SourceDescription, horizon: Int, lookback: Int, options: [String: Any],
        retrainEverySeconds: Double?
    ) throws {
        self.name = name
        self.source = source
        self.horizon = horizon
        self.lookback = lookback
        updateEvery = horizon
        maxFuture = horizon
        func integer(_ key: String) throws -> Int? {
            guard let value = options[key] else { return nil }
            guard let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded() else {
                throw InvalidOptions(message: "\(key) must be an integer")
            }
            return number.intValue
        }
        layers = try integer("layers") ?? layers
        hidden = try integer("hidden") ?? hidden
        maxEpochs = try integer("max_epochs") ?? maxEpochs
        updateEvery = try integer("update_every") ?? updateEvery
        maxHistory = try integer("max_history") ?? maxHistory
        maxFuture = try integer("max_future") ?? maxFuture
        func value<Value>(_ key: String, as type: Value.Type, _ expected: String) throws -> Value? {
            guard let value = options[key], !(value is NSNull) else { return nil }
            guard let typed = value as? Value else { throw InvalidOptions(message: "\(key) must be \(expected)") }
            return typed
        }
        learningRate = try value("learning_rate", as: NSNumber.self, "a number")?.floatValue ?? learningRate
        quantiles = try value("quantiles", as: [NSNumber].self, "an array of numbers")?.map(\.floatValue) ?? quantiles
        self.source.covariateColumns =
            try value("covariates", as: [String].self, "an array of column names") ?? source.covariateColumns
        calendar = try value("calendar", as: Bool.self, "true or false") ?? calendar
        timeZone = try value("timezone", as: String.self, "a time zone name") ?? timeZone
        retrainEvery = retrainEverySeconds
        try validate()
    }

    /// The network: target, covariates and calendar inputs per step; a linear skip from
    /// the raw lookback window helps long horizons.
    var configuration: ModelConfiguration {
        let windowOptions = self.windowOptions
        return ModelConfiguration(
            inputSize: 1, covariates: windowOptions.featureCount(covariates: source.covariateColumns.count) - 1,
            hidden: hidden, layers: layers, lookback: lookback, horizon: horizon, quantiles: quantiles,
            dropout: layers > 1 ? 0.1 : 0, linearSkip: true)
    }

    var windowOptions: WindowOptions {
        WindowOptions(
            lookback: lookback, horizon: horizon,
            calendar: calendar ? CalendarFeatures(timeZone: timeZone) : nil)
    }

    /// Readings up to `maxFuture` steps after the database's `now()` are trusted (clock
    /// skew, schedules); later ones are dropped and counted until their time comes.
    var readOptions: ReadOptions { ReadOptions(maxHistory: maxHistory, maxFuture: maxFuture) }

    /// Checks what `forecast.create_model` checks, for rows changed behind its back (a direct
    /// `UPDATE forecast.models`): a bad row fails only its own model, with this message.
    func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw InvalidOptions(message: message) }
        }
        try check(horizon >= 1, "horizon must be at least 1")
        try check(lookback >= 2, "lookback must be at least 2")
        try check(updateEvery >= 1, "update_every must be at least 1")
        try check(maxFuture >= 0, "max_future must not be negative")
        try check(maxEpochs >= 1, "max_epochs must be at least 1")
        try check(learningRate.isFinite && learningRate > 0, "learning_rate must be positive")
        try check(maxHistory >= lookback + horizon, "max_history must be at least lookback + horizon")
        try check(Set(source.covariateColumns).count == source.covariateColumns.count, "covariates repeat a column")
        try check(retrainEvery.map { $0.isFinite && $0 > 0 } ?? true, "retrain_every must be positive")
        do {
            try configuration.validate()
        } catch {
            throw InvalidOptions(message: error.message)
        }
    }
}
