// One JSON-RPC 2.0 request, checked for shape before dispatch.

import Foundation

/// A well-formed request. `id` is nil for a notification, which gets no answer.
public struct JSONRPCRequest: Sendable, Hashable {
    public var id: JSONValue?
    public var method: String
    public var params: JSONValue?

    /// What a line turned out to be.
    public enum Parsed: Sendable, Hashable {
        case request(JSONRPCRequest)
        /// Not a usable request; the answer to send back.
        case invalid(JSONRPCResponse)
    }

    public init(id: JSONValue?, method: String, params: JSONValue? = nil) {
        self.id = id
        self.method = method
        self.params = params
    }

    /// Parses one line; on failure returns the error answer, carrying the request's id where it
    /// had a usable one so the client can still match it.
    public static func parse(_ line: [UInt8]) -> Parsed {
        if let problem = JSONRequestShape.problem(line) {
            return .invalid(JSONRPCResponse(id: .null, error: .invalidRequest(problem)))
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(line))
        } catch {
            return .invalid(JSONRPCResponse(id: .null, error: .parseError("the request is not valid JSON")))
        }
        guard case .object(let fields) = value else {
            return .invalid(JSONRPCResponse(id: .null, error: .invalidRequest("a request must be a JSON object (batches are not supported)")))
        }
        let id = fields["id"]
        let answerID: JSONValue
        switch id {
        case nil, .null?: answerID = .null
        case .string?, .int?: answerID = id ?? .null
        case .bool?, .double?, .array?, .object?:
            return .invalid(JSONRPCResponse(id: .null, error: .invalidRequest("id must be a string, an integer or null")))
        }
        guard fields["jsonrpc"] == .string("2.0") else {
            return .invalid(JSONRPCResponse(id: answerID, error: .invalidRequest("\"jsonrpc\" must be \"2.0\"")))
        }
        guard case .string(let method)? = fields["method"] else {
            return .invalid(JSONRPCResponse(id: answerID, error: .invalidRequest("\"method\" must be a string")))
        }
        let params = fields["params"]
        switch params {
        case nil, .object?, .array?: break
        case .null?, .bool?, .int?, .double?, .string?:
            return .invalid(JSONRPCResponse(id: answerID, error: .invalidRequest("\"params\" must be an object or an array")))
        }
        return .request(JSONRPCRequest(id: id, method: method, params: params))
    }
}
