/// Checks `condition` every millisecond until it holds or `timeout` passes; returns whether
/// it held. For unit tests that wait for an event another thread causes: the deadline is
/// generous, the wait ends as soon as the condition holds.
func eventually(timeout: Duration = .seconds(30), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return true
}
