// A descriptor-format sense descriptor this module does not decode (ATA status
// return, OSD, progress of another command, vendor ones), kept whole.

/// One sense data descriptor (SPC-5 §4.4.2.1) by type, with its bytes after the
/// two-byte header.
public struct SenseDescriptor: Sendable, Hashable {
    public var type: UInt8
    /// The descriptor body: everything after DESCRIPTOR TYPE and ADDITIONAL LENGTH.
    public var body: [UInt8]

    public init(type: UInt8, body: [UInt8]) {
        self.type = type
        self.body = body
    }
}
