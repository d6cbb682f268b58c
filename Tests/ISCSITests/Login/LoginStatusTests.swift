// Every Login Response status (RFC 7143 §11.13.5) becomes a distinct, readable error
// with a deliberate scope.

import Testing

@testable import ISCSI

@Suite struct LoginStatusTests {
    @Test(arguments: [
        (UInt8(2), UInt8(0x01), ISCSIError.Code.authenticationFailed, ISCSIError.Scope.session, "0x0201): authentication failed"),
        (2, 0x02, .authorizationFailed, .session, "0x0202): this initiator is not allowed"),
        (2, 0x03, .targetNotFound, .session, "0x0203): target not found"),
        (2, 0x04, .targetRemoved, .session, "0x0204): the target has been removed"),
        (2, 0x05, .unsupportedVersion, .session, "0x0205): the target does not support iSCSI version 0"),
        (2, 0x06, .tooManyConnections, .connection, "0x0206): too many connections"),
        (2, 0x07, .missingParameter, .session, "0x0207): the target misses a required parameter"),
        (2, 0x08, .cannotIncludeInSession, .connection, "0x0208): the target cannot add this connection"),
        (2, 0x09, .sessionTypeNotSupported, .session, "0x0209): the target does not support this session type"),
        (2, 0x0A, .sessionDoesNotExist, .session, "0x020a): the session (TSIH) no longer exists"),
        (2, 0x0B, .invalidDuringLogin, .connection, "0x020b): the target received a request that is invalid during login"),
        (2, 0x00, .initiatorError, .connection, "0x0200): initiator error (detail 0x00)"),
        (2, 0x42, .initiatorError, .connection, "0x0242): initiator error (detail 0x42)"),
        (3, 0x00, .targetError, .connection, "0x0300): target error; retry later"),
        (3, 0x01, .serviceUnavailable, .connection, "0x0301): service unavailable; retry later, and check the target name"),
        (3, 0x02, .outOfResources, .connection, "0x0302): target out of resources"),
        (3, 0x07, .targetError, .connection, "0x0307): target error (detail 0x07)"),
        (9, 0x09, .protocolViolation, .connection, "0x0909): unknown status class 9 with detail 9"),
    ])
    func statusBecomesAnError(
        statusClass: UInt8,
        detail: UInt8,
        code: ISCSIError.Code,
        scope: ISCSIError.Scope,
        fragment: String
    ) throws {
        let error = try #require(ISCSIError.loginStatus(statusClass: statusClass, statusDetail: detail, target: "iqn.t"))
        #expect(error.code == code)
        #expect(error.scope == scope)
        #expect(error.message.hasPrefix("login to iqn.t failed (status "))
        #expect(error.message.contains(fragment), "\(error.message)")
    }

    @Test func successAndRedirectionAreNotErrors() {
        #expect(ISCSIError.loginStatus(statusClass: 0, statusDetail: 0, target: "t") == nil)
        #expect(ISCSIError.loginStatus(statusClass: 1, statusDetail: 1, target: "t") == nil)
    }

    @Test func everyKnownStatusHasItsOwnCode() throws {
        let known: [(UInt8, UInt8)] = [
            (2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (2, 6), (2, 7), (2, 8), (2, 9), (2, 10), (2, 11), (3, 1), (3, 2),
        ]
        let codes = try known.map { try #require(ISCSIError.loginStatus(statusClass: $0.0, statusDetail: $0.1, target: "t")).code }
        #expect(Set(codes).count == known.count)
    }
}
