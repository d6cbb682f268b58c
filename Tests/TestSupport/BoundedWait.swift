// The one polling loop of the harness: bounded both by a deadline and by a
// number of rounds, so no wait can hang a test run.

public enum BoundedWait {
    /// Polls `condition` every `interval` until it holds or `timeout` passes.
    /// Returns whether it held. Cancellation ends the wait early (false).
    public static func until(
        timeout: Duration,
        interval: Duration,
        _ condition: () async throws -> Bool
    ) async rethrows -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        // The round limit is a second guard should the clock misbehave.
        let maximumRounds = Int(timeout / interval) + 2
        for _ in 0..<maximumRounds {
            if try await condition() {
                return true
            }
            if clock.now >= deadline || Task.isCancelled {
                return false
            }
            try? await Task.sleep(for: interval)
        }
        return false
    }
}
