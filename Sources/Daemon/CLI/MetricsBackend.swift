import CoreMetrics
import DaemonCore
import Prometheus

/// The executable's choice of metrics backend: swift-prometheus. DaemonCore creates its
/// metrics through swift-metrics; this factory registers each with its help text from
/// `DaemonMetrics` (so every family has a `# HELP` line) and its histogram buckets.
enum MetricsBackend {
    /// Bootstraps swift-metrics with a Prometheus registry and records the build info; the
    /// registry is what `/metrics` renders.
    static func bootstrap(version: String) -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(DescribedPrometheusFactory(registry: registry))
        DaemonMetrics.recordBuildInfo(version: version)
        return registry
    }
}

/// `/metrics` renders the registry.
struct PrometheusExposition: MetricsExposition {
    let registry: PrometheusCollectorRegistry
    func emit(into buffer: inout [UInt8]) { registry.emit(into: &buffer) }
}

/// `PrometheusMetricsFactory` with help texts and per-metric buckets from `DaemonMetrics`.
struct DescribedPrometheusFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    private let plain: PrometheusMetricsFactory

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        plain = PrometheusMetricsFactory(registry: registry)
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: Self.described(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: Self.described(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else {
            return registry.makeGauge(descriptor: Self.described(label), labels: dimensions)
        }
        return registry.makeValueHistogram(
            descriptor: Self.described(label), labels: dimensions, buckets: plain.defaultValueHistogramBuckets)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: Self.described(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(
            descriptor: Self.described(label), labels: dimensions,
            buckets: DaemonMetrics.durationBuckets(for: label) ?? plain.defaultDurationHistogramBuckets)
    }

    /// The full name `label` with its help text.
    static func described(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: DaemonMetrics.help(for: label))
    }

    func destroyCounter(_ handler: any CounterHandler) { plain.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        plain.destroyFloatingPointCounter(handler)
    }
    func destroyRecorder(_ handler: any RecorderHandler) { plain.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { plain.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { plain.destroyTimer(handler) }
}
