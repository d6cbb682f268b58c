// Bridges libFuzzer's synchronous callback to the async code under test.

import Dispatch

/// Runs `body` to completion from a synchronous caller (libFuzzer's callback).
public func runBlocking(_ body: @escaping @Sendable () async -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task {
        await body()
        done.signal()
    }
    done.wait()
}
