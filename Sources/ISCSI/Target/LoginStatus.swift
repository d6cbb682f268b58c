// The Status-Class and Status-Detail pairs a target answers a Login Request with
// (RFC 7143 §11.13.5), named so the responder never writes raw numbers.

/// A login outcome as it goes on the wire in a Login Response.
public struct LoginStatus: Error, Sendable, Hashable, CustomStringConvertible {
    public var statusClass: UInt8
    public var statusDetail: UInt8

    public init(statusClass: UInt8, statusDetail: UInt8) {
        self.statusClass = statusClass
        self.statusDetail = statusDetail
    }

    public static let success = LoginStatus(statusClass: 0, statusDetail: 0)
    /// 0x0200: a miscellaneous initiator error (a malformed or out-of-order request).
    public static let initiatorError = LoginStatus(statusClass: 2, statusDetail: 0x00)
    /// 0x0201: the initiator could not be authenticated (wrong CHAP secret, no CHAP).
    public static let authenticationFailed = LoginStatus(statusClass: 2, statusDetail: 0x01)
    /// 0x0202: authenticated, but not allowed to use this target (the ACL).
    public static let notAuthorized = LoginStatus(statusClass: 2, statusDetail: 0x02)
    /// 0x0203: no target of that name here.
    public static let targetNotFound = LoginStatus(statusClass: 2, statusDetail: 0x03)
    /// 0x0205: no version in VersionMin...VersionMax that we speak.
    public static let unsupportedVersion = LoginStatus(statusClass: 2, statusDetail: 0x05)
    /// 0x0206: the session already has all the connections it may have.
    public static let tooManyConnections = LoginStatus(statusClass: 2, statusDetail: 0x06)
    /// 0x0207: InitiatorName, or TargetName in a normal session, is missing.
    public static let missingParameter = LoginStatus(statusClass: 2, statusDetail: 0x07)
    /// 0x0209: a SessionType other than Normal or Discovery.
    public static let sessionTypeNotSupported = LoginStatus(statusClass: 2, statusDetail: 0x09)
    /// 0x020A: a non-zero TSIH that names no session.
    public static let sessionDoesNotExist = LoginStatus(statusClass: 2, statusDetail: 0x0A)
    /// 0x020B: a PDU other than a Login Request during login.
    public static let invalidDuringLogin = LoginStatus(statusClass: 2, statusDetail: 0x0B)
    /// 0x0300: the target failed on its own side.
    public static let targetError = LoginStatus(statusClass: 3, statusDetail: 0x00)
    /// 0x0301: the service is not available now; the initiator may try again later.
    public static let serviceUnavailable = LoginStatus(statusClass: 3, statusDetail: 0x01)
    /// 0x0302: no session slot or memory left.
    public static let outOfResources = LoginStatus(statusClass: 3, statusDetail: 0x02)

    public var isSuccess: Bool { statusClass == 0 }

    public var description: String {
        let value = UInt16(statusClass) << 8 | UInt16(statusDetail)
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
