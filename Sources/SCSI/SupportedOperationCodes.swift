// REPORT SUPPORTED OPERATION CODES with REPORTING OPTIONS 000b (SPC-5 §6.36.2):
// every command the device server supports.

public struct SupportedOperationCodes: Sendable, Hashable {
    /// One command descriptor.
    public struct Command: Sendable, Hashable, CustomStringConvertible {
        public var operationCode: UInt8
        /// The service action, when SERVACTV says the command has one.
        public var serviceAction: UInt16?
        public var cdbLength: UInt16
        /// Present when the request set RCTD.
        public var timeouts: CommandTimeouts?

        public init(operationCode: UInt8, serviceAction: UInt16?, cdbLength: UInt16, timeouts: CommandTimeouts? = nil) {
            self.operationCode = operationCode
            self.serviceAction = serviceAction
            self.cdbLength = cdbLength
            self.timeouts = timeouts
        }

        public var name: String {
            guard let code = OperationCode(rawValue: operationCode) else {
                return "OPERATION CODE 0x\(operationCode.hexDigits)"
            }
            return serviceAction.map { code.name(serviceAction: $0) } ?? code.name
        }

        public var description: String { "\(name), \(cdbLength)-byte CDB" }
    }

    public var commands: [Command]

    /// Needs the whole list its COMMAND DATA LENGTH announces.
    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let header = ByteReader(bytes, structure: "REPORT SUPPORTED OPERATION CODES data")
        let length = Int(try header.uint32(at: 0))
        let reader = try header.subReader(at: 0, count: 4 + length, structure: "REPORT SUPPORTED OPERATION CODES data")
        var commands: [Command] = []
        var offset = 4
        while offset < reader.count {
            guard offset + 8 <= reader.count else {
                throw reader.invalid("command descriptor at byte \(offset) is cut off inside its 8 bytes")
            }
            let flags = try reader.uint8(at: offset + 5)
            let hasTimeouts = flags & 0x02 != 0
            let hasServiceAction = flags & 0x01 != 0
            let descriptorLength = hasTimeouts ? 20 : 8
            guard offset + descriptorLength <= reader.count else {
                throw reader.invalid("command descriptor at byte \(offset) has CTDP set but no room for its timeouts")
            }
            commands.append(Command(
                operationCode: try reader.uint8(at: offset),
                serviceAction: hasServiceAction ? try reader.uint16(at: offset + 2) : nil,
                cdbLength: try reader.uint16(at: offset + 6),
                timeouts: hasTimeouts ? try CommandTimeouts(reader, at: offset + 8) : nil
            ))
            offset += descriptorLength
        }
        self.commands = commands
    }

    /// Whether the list holds `operationCode` (with `serviceAction`, when given).
    public func supports(_ operationCode: UInt8, serviceAction: UInt16? = nil) -> Bool {
        commands.contains { command in
            command.operationCode == operationCode
                && (serviceAction == nil || command.serviceAction == serviceAction)
        }
    }

    public func supports(_ operationCode: OperationCode, serviceAction: UInt16? = nil) -> Bool {
        supports(operationCode.rawValue, serviceAction: serviceAction)
    }
}
