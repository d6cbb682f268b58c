// The error every public ISCSI API throws: what failed, how far the damage reaches, and why.

/// A failure in the iSCSI layer.
///
/// `scope` says what the failure ends: one task, one connection, or the whole
/// session (docs/INITIATOR.md, "Errors and their scope"). `code` classifies it so callers
/// can react; `message` is for people and names the object that failed.
public struct ISCSIError: Error, Sendable, CustomStringConvertible {
    /// How much a failure takes down with it.
    public enum Scope: Sendable, Hashable, CustomStringConvertible {
        /// Only the command that saw it failed; the connection is fine.
        case task
        /// The connection is closed; the session may reconnect.
        case connection
        /// The session is over (authentication, target gone, logout).
        case session

        public var description: String {
            switch self {
            case .task: "task"
            case .connection: "connection"
            case .session: "session"
            }
        }
    }

    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            // Framing and protocol.
            case malformedPDU, unexpectedPDU, dataSegmentTooLong, headerDigestMismatch, dataDigestMismatch
            case protocolViolation, rejected, negotiationFailed
            // Login outcomes (RFC 7143 §11.13.5).
            case redirected, authenticationFailed, authorizationFailed, targetNotFound, targetRemoved
            case unsupportedVersion, tooManyConnections, missingParameter, cannotIncludeInSession
            case sessionTypeNotSupported, sessionDoesNotExist, invalidDuringLogin, initiatorError
            case targetError, serviceUnavailable, outOfResources
            // Runtime.
            case timeout, connectionClosed, connectFailed, taskAborted, taskManagementFailed
            case logoutRequested, sessionClosed, invalidArgument
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        public static let malformedPDU = Code(.malformedPDU)
        public static let unexpectedPDU = Code(.unexpectedPDU)
        public static let dataSegmentTooLong = Code(.dataSegmentTooLong)
        public static let headerDigestMismatch = Code(.headerDigestMismatch)
        public static let dataDigestMismatch = Code(.dataDigestMismatch)
        public static let protocolViolation = Code(.protocolViolation)
        public static let rejected = Code(.rejected)
        public static let negotiationFailed = Code(.negotiationFailed)
        public static let redirected = Code(.redirected)
        public static let authenticationFailed = Code(.authenticationFailed)
        public static let authorizationFailed = Code(.authorizationFailed)
        public static let targetNotFound = Code(.targetNotFound)
        public static let targetRemoved = Code(.targetRemoved)
        public static let unsupportedVersion = Code(.unsupportedVersion)
        public static let tooManyConnections = Code(.tooManyConnections)
        public static let missingParameter = Code(.missingParameter)
        public static let cannotIncludeInSession = Code(.cannotIncludeInSession)
        public static let sessionTypeNotSupported = Code(.sessionTypeNotSupported)
        public static let sessionDoesNotExist = Code(.sessionDoesNotExist)
        public static let invalidDuringLogin = Code(.invalidDuringLogin)
        public static let initiatorError = Code(.initiatorError)
        public static let targetError = Code(.targetError)
        public static let serviceUnavailable = Code(.serviceUnavailable)
        public static let outOfResources = Code(.outOfResources)
        public static let timeout = Code(.timeout)
        public static let connectionClosed = Code(.connectionClosed)
        public static let connectFailed = Code(.connectFailed)
        public static let taskAborted = Code(.taskAborted)
        public static let taskManagementFailed = Code(.taskManagementFailed)
        public static let logoutRequested = Code(.logoutRequested)
        public static let sessionClosed = Code(.sessionClosed)
        public static let invalidArgument = Code(.invalidArgument)

        public var description: String {
            switch base {
            case .malformedPDU: "malformed PDU"
            case .unexpectedPDU: "unexpected PDU"
            case .dataSegmentTooLong: "data segment too long"
            case .headerDigestMismatch: "header digest error"
            case .dataDigestMismatch: "data digest error"
            case .protocolViolation: "protocol violation"
            case .rejected: "rejected by target"
            case .negotiationFailed: "negotiation failed"
            case .redirected: "redirected"
            case .authenticationFailed: "authentication failed"
            case .authorizationFailed: "authorization failed"
            case .targetNotFound: "target not found"
            case .targetRemoved: "target removed"
            case .unsupportedVersion: "unsupported iSCSI version"
            case .tooManyConnections: "too many connections"
            case .missingParameter: "missing parameter"
            case .cannotIncludeInSession: "cannot include connection in session"
            case .sessionTypeNotSupported: "session type not supported"
            case .sessionDoesNotExist: "session does not exist"
            case .invalidDuringLogin: "invalid request during login"
            case .initiatorError: "initiator error"
            case .targetError: "target error"
            case .serviceUnavailable: "service unavailable"
            case .outOfResources: "target out of resources"
            case .timeout: "timeout"
            case .connectionClosed: "connection closed"
            case .connectFailed: "connect failed"
            case .taskAborted: "task aborted"
            case .taskManagementFailed: "task management failed"
            case .logoutRequested: "target requested logout"
            case .sessionClosed: "session closed"
            case .invalidArgument: "invalid argument"
            }
        }
    }

    public var code: Code
    public var scope: Scope
    public var message: String

    public init(_ code: Code, scope: Scope, _ message: String) {
        self.code = code
        self.scope = scope
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

extension ISCSIError: Equatable {
    /// Two errors are equal when code, scope and message are.
    public static func == (lhs: ISCSIError, rhs: ISCSIError) -> Bool {
        lhs.code == rhs.code && lhs.scope == rhs.scope && lhs.message == rhs.message
    }
}
