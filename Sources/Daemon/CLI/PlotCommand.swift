import ArgumentParser
import DaemonCore
import Foundation
import PostgresClient

/// `forecastd plot MODEL`: a series' readings and forecasts as an SVG chart.
struct PlotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot", abstract: "Draw a series' readings and forecasts as an SVG chart.",
        discussion: """
            Draws one series of MODEL: its readings as the model reads them (on its grid, a mean \
            per bucket, gaps left open), its newest forecast with the interval as a band and a \
            marker at the issue time, and earlier forecasts with their actuals (going back from the \
            newest, each time the latest forecast whose horizon ended by the next one's issue time). \
            The SVG is self-contained (no script, no external font) and goes to stdout unless \
            --output names a file. Without --series, the series with the newest forecast (the first \
            by name among ties; stderr says which). Times are in UTC.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Model name.") var model: String
    @Option(help: "The series to draw (default: the one with the newest forecast).") var series: String?
    @Option(
        help: "Start of the chart (a timestamp PostgreSQL understands; default: three lookbacks before the forecast).")
    var from: String?
    @Option(help: "End of the chart (default: the end of the newest forecast).") var to: String?
    @Option(help: "Only forecasts issued by this model version.") var version: Int?
    @Option(help: "Write the SVG to this file instead of stdout.") var output: String?

    func validate() throws {
        if let version, version < 1 { throw ValidationError("--version must be at least 1") }
    }

    func run() async throws {
        try await reportingFailures {
            let connection = try await global.connect()
            let request = PlotRequest(model: model, series: series, from: from, to: to, version: version)
            let plot: Plot
            do {
                plot = try await ChartData.plot(request, on: connection)
            } catch let error as PostgresError {
                // The arguments were checked above (ChartData.Failure): a server error here is
                // about the database or the source, never the command line: exit 1.
                await connection.close()
                throw CommandFailure(error, judgingArguments: false)
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
            for note in plot.notes { FileHandle.standardError.write(Data("forecastd: \(note)\n".utf8)) }
            let svg = SVGChart.render(plot.chart)
            if let output {
                do {
                    try Data(svg.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
                } catch {
                    throw CommandError("cannot write \(output): \(error.localizedDescription)")
                }
            } else {
                print(svg, terminator: "")
            }
        }
    }
}
