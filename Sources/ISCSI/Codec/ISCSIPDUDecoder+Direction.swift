// Which side's opcodes a decoder accepts (RFC 7143 §11.1.1.1: initiator opcodes 0x00-0x1f, target opcodes 0x20-0x3f).

extension ISCSIPDUDecoder {
    /// The peer whose PDUs a decoder reads.
    public enum Direction: Sendable, Hashable, CustomStringConvertible {
        /// The initiator reads what a target sends.
        case fromTarget
        /// A target (the export) reads what an initiator sends.
        case fromInitiator

        func accepts(_ opcode: ISCSIOpcode) -> Bool {
            switch self {
            case .fromTarget: opcode.isTargetOpcode
            case .fromInitiator: !opcode.isTargetOpcode
            }
        }

        public var description: String {
            switch self {
            case .fromTarget: "from the target"
            case .fromInitiator: "from the initiator"
            }
        }
    }
}
