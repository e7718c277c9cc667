/// A batch of materialised windows, ready for the engine.
public struct WindowBatch: Sendable {
    public var count: Int
    /// `[count, lookback, features]`, row-major, scaled.
    public var inputs: [Float]
    /// `[count, horizon]`, row-major, scaled with each window's series scaler.
    public var targets: [Float]
}

/// Training and validation windows over all series of a source, by reference: windows are
/// materialised a batch at a time (`batch(_:)`), never all at once, so memory stays that
/// of the series themselves.
///
/// Each series is scaled on its own with a scaler fitted on its training steps only. No
/// window crosses a segment break (a gap longer than `maxGap`).
public struct SeriesWindows: Sendable {
    public let options: WindowOptions
    public let series: [FilledSeries]
    /// Per series: target scaler first, then one per covariate.
    public let scalers: [[Scaler]]
    public let training: WindowRuns
    public let validation: WindowRuns
    /// Per kept series, the window of its newest `lookback` gap-free steps, or nil when its
    /// last segment is shorter than that.
    public let latest: [WindowReference?]
    /// Series with too little data for one window, with the reason.
    public let insufficient: [(key: String, reason: String)]
    public let featureCount: Int
    /// Calendar table `[buckets, calendar.count]` from `calendarBase`.
    private let calendarTable: [Float]
    private let calendarBase: Int64

    /// Windows for training: scalers are fitted on each series' training steps.
    public init(series input: [FilledSeries], options: WindowOptions, split: ValidationSplit) throws {
        try self.init(series: input, options: options, split: split, fixedScalers: nil)
    }

    /// Windows for forecasting with a trained model's scalers (`scalers[key]`: target, then
    /// covariates); a series the model has not seen is scaled on its own history. Only
    /// `latest` is filled in.
    public init(forecasting input: [FilledSeries], scalers: [String: [Scaler]], options: WindowOptions) throws {
        try self.init(series: input, options: options, split: .none, fixedScalers: scalers, forecastingOnly: true)
    }

    /// Windows for further training of a model, scaled with its scalers (series it has not
    /// seen get their own, fitted on their training steps).
    public init(
        series input: [FilledSeries], options: WindowOptions, split: ValidationSplit, scalers: [String: [Scaler]]
    ) throws {
        try self.init(series: input, options: options, split: split, fixedScalers: scalers, forecastingOnly: false)
    }

    private init(
        series input: [FilledSeries], options: WindowOptions, split: ValidationSplit, fixedScalers: [String: [Scaler]]?,
        forecastingOnly: Bool = false
    ) throws {
        let covariates = input.first?.covariates.count ?? 0
        featureCount = options.featureCount(covariates: covariates)
        self.options = options
        let span = options.lookback + options.horizon
        var training = WindowRuns(stride: options.stride)
        var validation = WindowRuns(stride: options.stride)
        var insufficient: [(key: String, reason: String)] = []
        var latest: [WindowReference?] = []
        var kept: [FilledSeries] = []
        var scalers: [[Scaler]] = []
        for candidate in input {
            let longest = candidate.segments.map(\.count).max() ?? 0
            let last = candidate.segments.last
            let canForecast = forecastingOnly && (last?.count ?? 0) >= options.lookback
            guard longest >= span || canForecast else {
                insufficient.append(
                    (candidate.key, "longest gap-free stretch is \(longest) steps; lookback + horizon needs \(span)"))
                continue
            }
            // Index where validation targets begin.
            let cutoff: Int
            switch split {
            case .fraction(let fraction):
                cutoff = candidate.target.count - Int((Double(candidate.target.count) * fraction).rounded())
            case .from(let time):
                let bucket = candidate.frequency.bucket(of: time.saturatingAdding(candidate.frequency.microseconds - 1))
                cutoff = Int(
                    max(0, min(Int64(candidate.target.count), bucket.saturatingSubtracting(candidate.startBucket))))
            case .none:
                cutoff = candidate.target.count
            }
            let index = kept.count
            // Windows are training windows when their targets end by the cutoff and
            // validation windows when their targets start at or after it.
            for segment in candidate.segments where segment.count >= span && !forecastingOnly {
                let lastStart = segment.upperBound - span
                let firstValidation = max(segment.lowerBound, cutoff - options.lookback)
                let lastTraining = min(lastStart, cutoff - span)
                let stride = options.stride
                if lastTraining >= segment.lowerBound {
                    training.append(
                        series: index, firstStart: segment.lowerBound,
                        count: (lastTraining - segment.lowerBound) / stride + 1)
                }
                if firstValidation <= lastStart {
                    // Keep the stride grid of the segment.
                    let aligned =
                        segment.lowerBound + ((firstValidation - segment.lowerBound + stride - 1) / stride) * stride
                    if aligned <= lastStart {
                        validation.append(series: index, firstStart: aligned, count: (lastStart - aligned) / stride + 1)
                    }
                }
            }
            // Scalers see only the steps training windows may use.
            let trainingEnd = max(1, min(cutoff, candidate.target.count))
            var seriesScalers = [Scaler.fit(candidate.target[..<trainingEnd])]
            for channel in candidate.covariates {
                seriesScalers.append(Scaler.fit(channel[..<trainingEnd]))
            }
            if let known = fixedScalers?[candidate.key], known.count == seriesScalers.count { seriesScalers = known }
            if let last, last.count >= options.lookback {
                latest.append(WindowReference(series: index, start: last.upperBound - options.lookback))
            } else {
                latest.append(nil)
            }
            kept.append(candidate)
            scalers.append(seriesScalers)
        }
        self.series = kept
        self.scalers = scalers
        self.training = training
        self.validation = validation
        self.latest = latest
        self.insufficient = insufficient
        if let calendar = options.calendar, let first = kept.map(\.startBucket).min(),
            let end = kept.map({ $0.startBucket + Int64($0.target.count) }).max()
        {
            calendarBase = first
            calendarTable = try calendar.table(
                firstBucket: first, buckets: Int(end - first) + options.horizon, frequency: kept[0].frequency)
        } else {
            calendarBase = 0
            calendarTable = []
        }
    }

    /// Time (µs since the Unix epoch) of the last input step of `reference`: a forecast
    /// from it is issued at this time, and its step `k` targets `issuedAt + k * frequency`.
    public func issuedAt(_ reference: WindowReference) -> Int64 {
        series[reference.series].time(at: reference.start + options.lookback - 1)
    }

    /// Materialises `references` (with targets when `targets` is true).
    public func batch(_ references: some Collection<WindowReference>, targets withTargets: Bool = true) -> WindowBatch {
        let lookback = options.lookback
        let horizon = options.horizon
        let features = featureCount
        let calendarCount = options.calendar?.count ?? 0
        var inputs = [Float](repeating: 0, count: references.count * lookback * features)
        var targets = [Float](repeating: 0, count: withTargets ? references.count * horizon : 0)
        for (row, reference) in references.enumerated() {
            let series = self.series[reference.series]
            let scalers = self.scalers[reference.series]
            let covariateCount = series.covariates.count
            for step in 0..<lookback {
                let index = reference.start + step
                var offset = (row * lookback + step) * features
                inputs[offset] = scalers[0].apply(series.target[index])
                offset += 1
                for covariate in 0..<covariateCount {
                    inputs[offset] = scalers[covariate + 1].apply(series.covariates[covariate][index])
                    offset += 1
                }
                if calendarCount > 0 {
                    let calendarRow = Int(series.startBucket + Int64(index) - calendarBase) * calendarCount
                    for feature in 0..<calendarCount { inputs[offset + feature] = calendarTable[calendarRow + feature] }
                }
            }
            if withTargets {
                for step in 0..<horizon {
                    targets[row * horizon + step] = scalers[0].apply(series.target[reference.start + lookback + step])
                }
            }
            if options.relativeToLast {
                // The target channel and the targets, relative to the window's last value.
                let last = anchor(reference)
                for step in 0..<lookback { inputs[(row * lookback + step) * features] -= last }
                if withTargets {
                    for step in 0..<horizon { targets[row * horizon + step] -= last }
                }
            }
        }
        return WindowBatch(count: references.count, inputs: inputs, targets: targets)
    }

    /// What model outputs for `reference` are relative to, in scaled units: the window's last
    /// scaled target value with `relativeToLast`, else 0. Add it back before inverting the scaler.
    public func anchor(_ reference: WindowReference) -> Float {
        guard options.relativeToLast else { return 0 }
        let index = reference.start + options.lookback - 1
        return scalers[reference.series][0].apply(series[reference.series].target[index])
    }
}
