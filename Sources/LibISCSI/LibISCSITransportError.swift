// Why a command or a login failed below SCSI: libiscsi's status and its error text.

/// A failure of the libiscsi engine's connection rather than of the device server.
///
/// It is the `underlying` error of a `BlockDeviceError` whose code is
/// `.transport`, `.timeout` or `.closed`.
public struct LibISCSITransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What we were doing ("login", "READ(16)", ...).
    public var operation: String
    /// libiscsi's `iscsi_get_error` text at the time, or our own reason.
    public var reason: String

    public init(operation: String, reason: String) {
        self.operation = operation
        self.reason = reason
    }

    public var description: String { "\(operation): \(reason)" }
}
