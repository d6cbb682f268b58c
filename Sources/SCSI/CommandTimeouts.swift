// The command timeouts descriptor of REPORT SUPPORTED OPERATION CODES (SPC-5 §6.36.4).

public struct CommandTimeouts: Sendable, Hashable {
    /// COMMAND SPECIFIC: meaning depends on the command.
    public var commandSpecific: UInt8
    /// NOMINAL COMMAND PROCESSING TIMEOUT, seconds; 0 when not reported.
    public var nominalProcessingSeconds: UInt32
    /// RECOMMENDED COMMAND TIMEOUT, seconds; 0 when not reported.
    public var recommendedSeconds: UInt32

    public init(commandSpecific: UInt8, nominalProcessingSeconds: UInt32, recommendedSeconds: UInt32) {
        self.commandSpecific = commandSpecific
        self.nominalProcessingSeconds = nominalProcessingSeconds
        self.recommendedSeconds = recommendedSeconds
    }

    /// The descriptor is 12 bytes; its DESCRIPTOR LENGTH must say 0x0A.
    init(_ reader: ByteReader, at offset: Int) throws(SCSIParseError) {
        let length = try reader.uint16(at: offset)
        guard length == 0x0A else {
            throw reader.invalid("command timeouts descriptor at byte \(offset) has DESCRIPTOR LENGTH \(length), not 10")
        }
        commandSpecific = try reader.uint8(at: offset + 3)
        nominalProcessingSeconds = try reader.uint32(at: offset + 4)
        recommendedSeconds = try reader.uint32(at: offset + 8)
    }
}
