import Foundation

/// Writes charts as SVG files, one per series, with names safe on any file system.
public enum ChartFiles {
    /// Writes each chart to `directory` (created when missing) as
    /// `<prefix>-<n>-<series>.svg` (`n` counts from 1 in the given order; the series name
    /// keeps ASCII letters, digits, `-`, `_` and `.`, other characters become `_`, cut to 60)
    /// and returns the paths written.
    public static func write(
        _ charts: [(series: String, chart: ForecastChart)], prefix: String, to directory: String
    ) throws -> [String] {
        let folder = URL(fileURLWithPath: directory, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var paths: [String] = []
        for (index, entry) in charts.enumerated() {
            let url = folder.appending(path: fileName(prefix: prefix, index: index + 1, series: entry.series))
            try Data(SVGChart.render(entry.chart).utf8).write(to: url, options: .atomic)
            paths.append(url.path)
        }
        return paths
    }

    /// `backtest-7-2-HUFL.svg` for prefix `backtest-7`, index 2 and series `HUFL`.
    static func fileName(prefix: String, index: Int, series: String) -> String {
        var safe = String(
            series.unicodeScalars.prefix(60).map { scalar -> Character in
                scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-_.".unicodeScalars.contains(scalar))
                    ? Character(scalar) : "_"
            })
        while safe.hasPrefix(".") { safe.removeFirst() }
        return "\(prefix)-\(index)" + (safe.isEmpty ? "" : "-\(safe)") + ".svg"
    }
}
