// The JSON-RPC 2.0 error object, with the standard codes and vdiskd's own.

/// An error answer. Codes -32768...-32000 are JSON-RPC's; vdiskd's application codes sit just above.
public struct JSONRPCError: Error, Sendable, Hashable, Codable {
    public var code: Int
    public var message: String
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public static let parseErrorCode = -32700
    public static let invalidRequestCode = -32600
    public static let methodNotFoundCode = -32601
    public static let invalidParamsCode = -32602
    public static let internalErrorCode = -32603
    /// The peer may read but not change state: it is neither root nor in the control group.
    public static let notPermittedCode = -32001
    /// The request line was longer than `ControlLineDecoder.maximumLineLength`.
    public static let requestTooLargeCode = -32002
    /// The method exists but the config or state it needs refused the call.
    public static let operationFailedCode = -32003

    public static func parseError(_ detail: String) -> JSONRPCError {
        JSONRPCError(code: parseErrorCode, message: "parse error: \(detail)")
    }

    public static func invalidRequest(_ detail: String) -> JSONRPCError {
        JSONRPCError(code: invalidRequestCode, message: "invalid request: \(detail)")
    }

    public static func methodNotFound(_ method: String) -> JSONRPCError {
        JSONRPCError(code: methodNotFoundCode, message: "method not found: \(method)")
    }

    public static func invalidParams(_ detail: String) -> JSONRPCError {
        JSONRPCError(code: invalidParamsCode, message: "invalid params: \(detail)")
    }

    public static func notPermitted(_ method: String) -> JSONRPCError {
        JSONRPCError(code: notPermittedCode, message: "not permitted: \(method) changes the daemon; call it as root or as a member of the configured control_group")
    }

    public static func tooLarge(limit: Int) -> JSONRPCError {
        JSONRPCError(code: requestTooLargeCode, message: "request too large: a request line may hold at most \(limit) bytes")
    }
}
