// Request lines nested too deep or holding too many values are refused before decoding:
// decoding them cost seconds of CPU per line (found probing FuzzControlRequest's harness).

import Control
import Daemon
import Foundation
import Testing

@Suite struct JSONRPCRequestShapeTests {
    private func request(params: String) -> [UInt8] {
        Array(#"{"jsonrpc":"2.0","id":1,"method":"status","params":\#(params)}"#.utf8)
    }

    private func refusal(_ line: [UInt8]) -> JSONRPCError? {
        guard case .invalid(let response) = JSONRPCRequest.parse(line) else { return nil }
        return response.error
    }

    @Test func sixteenLevelsAreDecoded() throws {
        // The request object is level 1, so params may nest 15 more.
        guard case .request(let parsed) = JSONRPCRequest.parse(request(params: String(repeating: "[", count: 15) + String(repeating: "]", count: 15))) else {
            Issue.record("a request 16 levels deep was refused")
            return
        }
        #expect(parsed.method == "status")
    }

    @Test func seventeenLevelsAreRefused() {
        let error = refusal(request(params: String(repeating: "[", count: 16) + String(repeating: "]", count: 16)))
        #expect(error?.code == JSONRPCError.invalidRequestCode)
        #expect(error?.message == "invalid request: the request nests deeper than 16 levels")
    }

    @Test func manyValuesAreRefused() {
        let values = Array(repeating: "0", count: 1030).joined(separator: ",")
        let error = refusal(request(params: "[\(values)]"))
        #expect(error?.message == "invalid request: the request holds more than 1024 values")
    }

    @Test func bracketsInsideStringsDoNotCount() throws {
        let deep = String(repeating: "[{", count: 40) + #"\"],,,"#
        guard case .request(let parsed) = JSONRPCRequest.parse(request(params: #"{"name":"\#(deep)"}"#)) else {
            Issue.record("brackets inside a string were counted")
            return
        }
        #expect(parsed.params?["name"] == .string(String(repeating: "[{", count: 40) + "\"],,,"))
    }

    /// The line that took 0.9 s under ASan: 200 arrays 16 deep as params (6.8 KB).
    @Test func theSlowLineIsRefusedUnread() async throws {
        let line = request(params: "[" + Array(repeating: String(repeating: "[", count: 16) + String(repeating: "]", count: 16), count: 200).joined(separator: ",") + "]")
        let (dispatcher, _) = try DispatcherFixture.make()
        let answer = try #require(await dispatcher.respond(to: .line(line), peer: DispatcherFixture.nobody))
        let response = try JSONDecoder().decode(JSONValue.self, from: Data(answer.utf8))
        #expect(response["error"]?["code"] == .int(JSONRPCError.invalidRequestCode))
        #expect(response["error"]?["message"] == .string("invalid request: the request nests deeper than 16 levels"))
        #expect(response["id"] == .null)
    }
}
