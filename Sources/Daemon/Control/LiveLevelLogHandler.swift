// A stderr log handler whose level follows LogLevelControl, so it can change while running.

import Logging

/// Wraps swift-log's stderr handler (journald adds timestamps under systemd); the level a
/// caller sets on one logger is ignored in favour of the daemon-wide live level.
public struct LiveLevelLogHandler: LogHandler {
    private var inner: StreamLogHandler
    private let control: LogLevelControl

    public init(label: String, control: LogLevelControl) {
        self.inner = StreamLogHandler.standardError(label: label)
        self.control = control
        self.inner.logLevel = .trace
    }

    public var logLevel: Logger.Level {
        get { control.current }
        set { _ = newValue }
    }

    public var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        inner.log(event: event)
    }
}
