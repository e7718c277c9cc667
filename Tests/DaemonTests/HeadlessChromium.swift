import Foundation

/// Debian's `chromium` run headless for the page tests: a page's DOM after the browser
/// parsed it (`--dump-dom`) and a screenshot (`--screenshot`), each in a fresh profile.
/// `scripts/test` installs the package; without it the tests fail saying so.
enum HeadlessChromium {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The window every screenshot is taken in, CSS pixels.
    static let window = (width: 1400, height: 1300)

    static func executable() throws -> String {
        guard
            let path = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else {
            throw Failure(description: "chromium is not installed (Debian package chromium; scripts/test installs it)")
        }
        return path
    }

    /// The serialized DOM of `url`.
    static func dom(_ url: String) throws -> String {
        let (status, output) = try run(["--dump-dom", url])
        guard status == 0, output.contains("<html") else {
            throw Failure(description: "chromium --dump-dom \(url) exited \(status): \(output.suffix(2000))")
        }
        return output
    }

    /// A PNG screenshot of `url` written to `file`; returns its size in bytes.
    @discardableResult
    static func screenshot(_ url: String, to file: String) throws -> Int {
        try? FileManager.default.removeItem(atPath: file)
        let (status, output) = try run(["--screenshot=\(file)", url])
        let attributes = try? FileManager.default.attributesOfItem(atPath: file)
        guard status == 0, let size = attributes?[.size] as? Int else {
            throw Failure(description: "chromium --screenshot \(url) exited \(status): \(output.suffix(2000))")
        }
        let png = try Data(contentsOf: URL(fileURLWithPath: file)).prefix(8)
        guard png == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw Failure(description: "\(file) is not a PNG")
        }
        return size
    }

    /// Runs chromium headless with `arguments`; its exit status and what it printed (stdout,
    /// where `--dump-dom` writes the DOM, then stderr, kept in a file so no pipe fills up).
    private static func run(_ arguments: [String]) throws -> (Int32, String) {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("forecastd-chromium-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let errors = scratch.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: errors.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable())
        process.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                "--no-first-run",
                "--disable-extensions", "--user-data-dir=\(scratch.appendingPathComponent("profile").path)",
                "--window-size=\(window.width),\(window.height)", "--timeout=20000",
            ] + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let err = (try? Data(contentsOf: errors)) ?? Data()
        return (process.terminationStatus, String(decoding: out + err, as: UTF8.self))
    }
}
