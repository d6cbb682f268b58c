// The application error codes of the methods that change storage and exports.

extension JSONRPCError {
    /// A disk, datastore or export the call names does not exist (in the config or on the datastore).
    public static let notFoundCode = -32004
    /// The part is in use: a disk an export presents, a name already taken.
    public static let inUseCode = -32005

    package static func notFound(_ message: String) -> JSONRPCError {
        JSONRPCError(code: notFoundCode, message: "not found: \(message)")
    }

    package static func inUse(_ message: String) -> JSONRPCError {
        JSONRPCError(code: inUseCode, message: "in use: \(message)")
    }

    package static func operationFailed(_ message: String) -> JSONRPCError {
        JSONRPCError(code: operationFailedCode, message: message)
    }
}
