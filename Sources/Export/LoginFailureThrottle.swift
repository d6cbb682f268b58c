// Failed logins counted per source address: past a few failures within a window, further
// logins from that address are turned away until the window passes, so a secret cannot
// be guessed at the rate the export answers.

import NIOConcurrencyHelpers
import NIOCore

/// Per-address failure counts in fixed windows, bounded in the addresses it remembers.
final class LoginFailureThrottle: Sendable {
    let maximumFailures: Int
    let window: TimeAmount
    let maximumAddresses: Int
    private let state = NIOLockedValueBox([String: Entry]())

    struct Entry {
        var failures: Int
        var windowStart: NIODeadline
    }

    init(maximumFailures: Int, window: TimeAmount, maximumAddresses: Int = 4096) {
        self.maximumFailures = maximumFailures
        self.window = window
        self.maximumAddresses = maximumAddresses
    }

    /// Whether `address` has used up its failures for now.
    func isThrottled(_ address: String, now: NIODeadline = .now()) -> Bool {
        state.withLockedValue { entries in
            guard let entry = entries[address] else { return false }
            if now - entry.windowStart >= window {
                entries[address] = nil
                return false
            }
            return entry.failures >= maximumFailures
        }
    }

    /// Counts one failed login from `address`.
    func recordFailure(_ address: String, now: NIODeadline = .now()) {
        state.withLockedValue { entries in
            if var entry = entries[address], now - entry.windowStart < window {
                entry.failures += 1
                entries[address] = entry
                return
            }
            if entries.count >= maximumAddresses {
                // Forget the windows that ended; if every one is live, the oldest goes.
                entries = entries.filter { now - $0.value.windowStart < window }
                if entries.count >= maximumAddresses, let oldest = entries.min(by: { $0.value.windowStart < $1.value.windowStart })?.key {
                    entries[oldest] = nil
                }
            }
            entries[address] = Entry(failures: 1, windowStart: now)
        }
    }
}
