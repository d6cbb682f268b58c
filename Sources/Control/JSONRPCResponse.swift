// One JSON-RPC 2.0 response line: a result or an error, echoing the request's id.

import Foundation

/// A response; exactly one of `result` and `error` is set.
public struct JSONRPCResponse: Sendable, Hashable, Codable {
    public var jsonrpc = "2.0"
    public var id: JSONValue
    public var result: JSONValue?
    public var error: JSONRPCError?

    public init(id: JSONValue, result: JSONValue) {
        self.id = id
        self.result = result
    }

    public init(id: JSONValue, error: JSONRPCError) {
        self.id = id
        self.error = error
    }

    public func encode(to encoder: any Encoder) throws {
        // `id` is written even when null, as JSON-RPC requires for errors without one.
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(jsonrpc, forKey: .jsonrpc)
        try container.encode(id, forKey: .id)
        try container.encodeIfPresent(result, forKey: .result)
        try container.encodeIfPresent(error, forKey: .error)
    }

    /// The response as one line of JSON, without the trailing newline.
    public func encodedLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain JSON values cannot fail; a failure would be our own bug.
        guard let data = try? encoder.encode(self), let line = String(data: data, encoding: .utf8) else {
            preconditionFailure("a JSONRPCResponse always encodes")
        }
        return line
    }
}
