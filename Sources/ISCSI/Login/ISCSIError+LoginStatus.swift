// Turns a Login Response's Status-Class and Status-Detail (RFC 7143 §11.13.5) into an
// error a person can read, with a scope that says whether reconnecting can help.

extension ISCSIError {
    /// The error for a failed login, or nil for success (class 0) and redirection (class 1).
    ///
    /// Scopes: `.session` where logging in again to the same target cannot succeed
    /// without someone changing a configuration (credentials, ACLs, names, versions,
    /// a session that no longer exists); `.connection` where a later attempt may
    /// succeed (connection limits, a busy or short-of-resources target, a stray
    /// request), so reconnect policies keep trying with back-off.
    public static func loginStatus(statusClass: UInt8, statusDetail: UInt8, target: String) -> ISCSIError? {
        let status = "status 0x" + hex2(statusClass) + hex2(statusDetail)
        func error(_ code: Code, _ scope: Scope, _ text: String) -> ISCSIError {
            ISCSIError(code, scope: scope, "login to \(target) failed (\(status)): \(text)")
        }
        switch (statusClass, statusDetail) {
        case (0, _), (1, _):
            return nil
        case (2, 0x01):
            return error(.authenticationFailed, .session, "authentication failed; check the CHAP user and secret")
        case (2, 0x02):
            return error(.authorizationFailed, .session, "this initiator is not allowed to access the target; check its ACL")
        case (2, 0x03):
            return error(.targetNotFound, .session, "target not found; check the target name")
        case (2, 0x04):
            return error(.targetRemoved, .session, "the target has been removed and will not come back at this address")
        case (2, 0x05):
            return error(.unsupportedVersion, .session, "the target does not support iSCSI version 0")
        case (2, 0x06):
            return error(.tooManyConnections, .connection, "too many connections on this session")
        case (2, 0x07):
            return error(.missingParameter, .session, "the target misses a required parameter in our login request")
        case (2, 0x08):
            return error(.cannotIncludeInSession, .connection, "the target cannot add this connection to the session")
        case (2, 0x09):
            return error(.sessionTypeNotSupported, .session, "the target does not support this session type")
        case (2, 0x0A):
            return error(.sessionDoesNotExist, .session, "the session (TSIH) no longer exists; start a new session")
        case (2, 0x0B):
            return error(.invalidDuringLogin, .connection, "the target received a request that is invalid during login")
        case (2, _):
            return error(.initiatorError, .connection, "initiator error (detail 0x\(hex2(statusDetail)))")
        case (3, 0x00):
            return error(.targetError, .connection, "target error; retry later")
        case (3, 0x01):
            // LIO answers a TargetName it does not serve with this status, not with 0x0203.
            return error(.serviceUnavailable, .connection, "service unavailable; retry later, and check the target name (LIO answers an unknown one with this status)")
        case (3, 0x02):
            return error(.outOfResources, .connection, "target out of resources; retry later")
        case (3, _):
            return error(.targetError, .connection, "target error (detail 0x\(hex2(statusDetail))); retry later")
        default:
            return error(
                .protocolViolation,
                .connection,
                "unknown status class \(statusClass) with detail \(statusDetail)"
            )
        }
    }

    private static func hex2(_ value: UInt8) -> String {
        let digits = String(value, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }
}
