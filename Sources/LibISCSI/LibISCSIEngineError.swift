// How the engine reports a command or login that ended below SCSI; the device
// turns each case into a BlockDeviceError with the object named.

/// Internal failures of the libiscsi engine, before they are put in words for a caller.
enum LibISCSIEngineError: Error, Sendable {
    /// No answer within the command or login timeout.
    case timeout(String)
    /// The connection failed, libiscsi refused the command, or the login was refused.
    case transport(String)
    /// The device was closed before or while the command ran.
    case closed
    /// The command was taken back (`revokeOutstandingCommands`) before it completed.
    case revoked(String)
}
