// PERSISTENT RESERVE IN / REPORT CAPABILITIES parameter data (SPC-5 §6.15.4):
// which reservation types and options the device server offers.

public struct PersistentReservationCapabilities: Sendable, Hashable {
    /// RLR_C: the REPLACE LOST RESERVATION service action is supported.
    public var replaceLostReservation: Bool
    /// CRH: RESERVE(6)/(10) are handled compatibly with persistent reservations.
    public var compatibleReservationHandling: Bool
    /// SIP_C: SPEC_I_PT (registering other initiators) is supported.
    public var specifyInitiatorPorts: Bool
    /// ATP_C: ALL_TG_PT (registering on all target ports) is supported.
    public var allTargetPorts: Bool
    /// PTPL_C: APTPL (surviving power loss) is supported.
    public var persistThroughPowerLoss: Bool
    /// TMV: `supportedTypes` is valid.
    public var typeMaskValid: Bool
    /// ALLOW COMMANDS (3 bits).
    public var allowCommands: UInt8
    /// PTPL_A: persist through power loss is active.
    public var persistThroughPowerLossActivated: Bool
    /// The PERSISTENT RESERVATION TYPE MASK, decoded; empty unless `typeMaskValid`.
    public var supportedTypes: Set<PersistentReservationType>

    public init(parsing bytes: [UInt8]) throws(SCSIParseError) {
        let reader = ByteReader(bytes, structure: "REPORT CAPABILITIES data")
        let length = Int(try reader.uint16(at: 0))
        guard length >= 8 else {
            throw reader.invalid("LENGTH is \(length); REPORT CAPABILITIES data is 8 bytes")
        }
        try reader.require(8)
        replaceLostReservation = try reader.bit(7, at: 2)
        compatibleReservationHandling = try reader.bit(4, at: 2)
        specifyInitiatorPorts = try reader.bit(3, at: 2)
        allTargetPorts = try reader.bit(2, at: 2)
        persistThroughPowerLoss = try reader.bit(0, at: 2)
        typeMaskValid = try reader.bit(7, at: 3)
        allowCommands = try reader.bits(at: 3, shift: 4, width: 3)
        persistThroughPowerLossActivated = try reader.bit(0, at: 3)

        var types: Set<PersistentReservationType> = []
        if typeMaskValid {
            let mask = try reader.uint16(at: 4)
            // SPC-5 table 205: byte 4 bits 7,6,5,3,1 and byte 5 bit 0.
            let bits: [(UInt16, PersistentReservationType)] = [
                (0x8000, .writeExclusiveAllRegistrants),
                (0x4000, .exclusiveAccessRegistrantsOnly),
                (0x2000, .writeExclusiveRegistrantsOnly),
                (0x0800, .exclusiveAccess),
                (0x0200, .writeExclusive),
                (0x0001, .exclusiveAccessAllRegistrants),
            ]
            for (bit, type) in bits where mask & bit != 0 {
                types.insert(type)
            }
        }
        supportedTypes = types
    }
}
