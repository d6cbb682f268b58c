// The daemon's live log level, shared by every logger so `log.setLevel` takes effect at once.

import Logging
import Synchronization

/// One level for the whole process; `LiveLevelLogHandler` reads it on every message.
public final class LogLevelControl: Sendable {
    private let level: Mutex<Logger.Level>

    public init(_ level: Logger.Level) {
        self.level = Mutex(level)
    }

    public var current: Logger.Level {
        get { level.withLock { $0 } }
    }

    public func set(_ newLevel: Logger.Level) {
        level.withLock { $0 = newLevel }
    }
}
