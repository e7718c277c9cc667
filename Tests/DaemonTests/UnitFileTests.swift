import Foundation
import Testing

/// deploy/forecastd.service as systemd itself judges it.
struct UnitFileTests {
    static var unit: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "deploy/forecastd.service").path
    }

    static func analyze(_ arguments: [String]) throws -> String {
        try runProgram("/usr/bin/systemd-analyze", arguments).output
    }

    @Test func exposureIsAtMostOnePointFive() throws {
        let output = try Self.analyze(["security", "--offline=true", Self.unit])
        let line = try #require(output.split(separator: "\n").first { $0.contains("Overall exposure level") })
        let score = line.split(separator: " ").compactMap { Double($0) }.first
        #expect(score != nil && score! <= 1.5, "\(line)")
    }

    @Test func verifyRaisesNothingButTheMissingBinary() throws {
        let output = try Self.analyze(["verify", Self.unit])
        let problems = output.split(separator: "\n").filter { !$0.contains("/usr/local/bin/forecastd") }
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test func unitDeclaresTheServiceContract() throws {
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        for line in [
            "Type=notify", "ExecReload=", "Restart=on-failure", "WatchdogSec=", "TimeoutStopSec=", "DynamicUser=yes",
            "LoadCredential=pgpass:",
        ] {
            #expect(text.contains(line), "missing \(line)")
        }
    }

    /// The HTTP endpoint (`http_listen`, 127.0.0.1:9464 by default) can listen and be reached
    /// on loopback: IPv4 and IPv6 sockets allowed, loopback traffic allowed.
    @Test func unitLetsTheHTTPEndpointServeLoopback() throws {
        let lines = try String(contentsOfFile: Self.unit, encoding: .utf8).split(separator: "\n")
        let families = try #require(lines.first { $0.hasPrefix("RestrictAddressFamilies=") })
        #expect(families.contains("AF_INET ") && families.hasSuffix("AF_INET6"), "\(families)")
        let allowed = try #require(lines.first { $0.hasPrefix("IPAddressAllow=") })
        #expect(allowed.split(separator: " ").contains { $0.hasSuffix("localhost") }, "\(allowed)")
    }
}
