/// Checks `condition` every few milliseconds until it holds (true) or `timeout` passes
/// (false): waiting for an event another thread or process causes, not for a guessed
/// duration. The deadline is generous; the wait ends as soon as the condition holds.
func eventually(timeout: Duration = .seconds(60), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline, !Task.isCancelled else { return false }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return true
}
