import Foundation
public import Logging
import Synchronization

/// The configuration in force, replaced as a whole on reload (SIGHUP). Readers take a
/// snapshot; work in flight keeps the settings it started with.
public final class RuntimeConfiguration: Sendable {
    private let current: Mutex<DaemonConfiguration>
    /// The log level every `DynamicLevelLogHandler` obeys.
    public let logLevel: LogLevelBox

    public init(_ configuration: DaemonConfiguration, logLevel: LogLevelBox) {
        current = Mutex(configuration)
        self.logLevel = logLevel
        logLevel.level = configuration.logLevel
    }

    public var snapshot: DaemonConfiguration { current.withLock { $0 } }

    public func replace(with configuration: DaemonConfiguration) {
        current.withLock { $0 = configuration }
        logLevel.level = configuration.logLevel
        for watcher in watchers.withLock({ Array($0.values) }) { watcher.yield(configuration) }
    }

    private let watchers = Mutex<[UUID: AsyncStream<DaemonConfiguration>.Continuation]>([:])

    /// Every configuration put in force from now on (the newest only, if the reader lags);
    /// ends when the reader stops iterating.
    func updates() -> AsyncStream<DaemonConfiguration> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: DaemonConfiguration.self, bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        watchers.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in _ = self?.watchers.withLock { $0.removeValue(forKey: id) } }
        return stream
    }
}

/// A log level that can change while the process runs.
public final class LogLevelBox: Sendable {
    private let value: Mutex<Logger.Level>
    public init(_ level: Logger.Level) { value = Mutex(level) }
    public var level: Logger.Level {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}

/// Plain lines to stderr (journald adds the time), at the level in `box`.
public struct DynamicLevelLogHandler: LogHandler {
    public var stream: StreamLogHandler
    public let box: LogLevelBox

    public init(label: String, box: LogLevelBox) {
        stream = StreamLogHandler.standardError(label: label)
        stream.logLevel = .trace
        self.box = box
    }

    public var logLevel: Logger.Level {
        get { box.level }
        set { box.level = newValue }
    }

    public var metadata: Logger.Metadata {
        get { stream.metadata }
        set { stream.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { stream[metadataKey: key] }
        set { stream[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        guard event.level >= box.level else { return }
        stream.log(event: event)
    }
}
