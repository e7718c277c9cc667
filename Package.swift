// swift-tools-version:6.1
import PackageDescription

/// Strict settings for every target of ours: Swift 6 language mode (set by the tools
/// version), explicit `any`, and no implicit imports leaking between modules.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "forecastd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "forecastd", targets: ["forecastd"]),
        .library(name: "Forecast", targets: ["Forecast"]),
        .library(name: "PostgresClient", targets: ["PostgresClient"]),
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "DaemonCore", targets: ["DaemonCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // The HTTP endpoint (/metrics, /healthz, /readyz, status pages). Without its
        // swift-configuration support (a trait, hence tools 6.1): we never read its config.
        .package(
            url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // OpenBLAS (cblas_sgemm and friends), nested inside the engine that uses it.
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/Forecast/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // Element-wise LSTM kernels in C, cloned per CPU level (AVX-512/AVX2/baseline) and
        // dispatched at load time, so the binary still runs on any x86-64 server.
        .target(
            name: "CKernels",
            path: "Sources/Forecast/CKernels",
            cSettings: [.unsafeFlags(["-O3", "-mprefer-vector-width=512", "-Wno-psabi"])]
        ),
        // The stacked-LSTM engine. Knows nothing of databases.
        .target(
            name: "Forecast",
            dependencies: ["CBLAS", "CKernels"],
            exclude: ["CBLAS", "CKernels"],
            swiftSettings: strict
        ),
        // libpq, nested inside the client that wraps it.
        .systemLibrary(
            name: "CLibPQ",
            path: "Sources/Ingest/PostgresClient/CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // A PostgreSQL client over libpq: connections on their own serial queues, binary
        // parameters and results, COPY both ways, LISTEN/NOTIFY, typed errors. Knows nothing
        // of series or models; nested under Ingest, its first user.
        .target(
            name: "PostgresClient",
            dependencies: ["CLibPQ"],
            path: "Sources/Ingest/PostgresClient",
            exclude: ["CLibPQ"],
            swiftSettings: strict
        ),
        // Series from PostgreSQL onto a regular grid, windows for the engine. Knows nothing of models.
        .target(
            name: "Ingest",
            dependencies: ["PostgresClient"],
            exclude: ["PostgresClient"],
            swiftSettings: strict
        ),
        // glibc's heap tuning for the daemon (HeapPolicy), nested inside it.
        .target(
            name: "CHeap",
            path: "Sources/Daemon/Core/CHeap"
        ),
        // The daemon's core: service group, scheduler, model store, training and forecasting
        // pipeline, systemd, configuration, migrations. Everything `forecastd` does, as a library.
        .target(
            name: "DaemonCore",
            dependencies: [
                "CHeap",
                "Forecast",
                "Ingest",
                "PostgresClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Sources/Daemon/Core",
            exclude: ["CHeap"],
            swiftSettings: strict,
            plugins: ["EmbedSchemas"]
        ),
        // The `forecastd` program: argument parsing and printing over DaemonCore; it alone
        // chooses the metrics backend (Prometheus).
        .executableTarget(
            name: "forecastd",
            dependencies: [
                "DaemonCore",
                "Forecast",
                "Ingest",
                "PostgresClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Daemon/CLI",
            swiftSettings: strict
        ),
        // Build-time only: turns schemas/*.sql into Swift so the binary carries its migrations.
        .executableTarget(
            name: "SchemaEmbedder",
            path: "Plugins/SchemaEmbedder"
        ),
        .plugin(
            name: "EmbedSchemas",
            capability: .buildTool(),
            dependencies: ["SchemaEmbedder"],
            path: "Plugins/EmbedSchemas"
        ),
        .testTarget(name: "ForecastTests", dependencies: ["Forecast"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "IngestTests", dependencies: ["Ingest", "PostgresClient"], swiftSettings: strict),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "DaemonCore", "Forecast", "Ingest", "PostgresClient",
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict),
    ]
)
