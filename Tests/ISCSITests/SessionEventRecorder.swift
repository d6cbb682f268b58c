// Collects a session's events in the background so tests can wait for one with a deadline.

import ISCSI
import NIOConcurrencyHelpers

/// Reads `session.events` until the stream ends and keeps what arrived.
///
/// A single long-lived reader, because cancelling a task that awaits an
/// `AsyncStream` ends the stream: one timed-out wait would lose every later event.
final class SessionEventRecorder: Sendable {
    private let events = NIOLockedValueBox<[ISCSISessionEvent]>([])
    private let reader: Task<Void, Never>

    init(_ session: ISCSISession) {
        let events = self.events
        reader = Task {
            for await event in session.events {
                events.withLockedValue { $0.append(event) }
            }
        }
    }

    deinit { reader.cancel() }

    var all: [ISCSISessionEvent] { events.withLockedValue { $0 } }

    /// Waits, at most `timeout`, for an event `match` accepts.
    func first<T>(
        _ what: String,
        within timeout: Duration = BoundedWait.hangGuard,
        _ match: @escaping @Sendable (ISCSISessionEvent) -> T?
    ) async throws -> T {
        try await BoundedWait.poll(what, within: timeout) { self.all.lazy.compactMap(match).first }
    }
}
