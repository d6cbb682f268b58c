// The client side of the control socket: one JSON-RPC call per connection, bounded in time.

import Foundation
import NIOCore
import NIOPosix

/// What vdiskctl (and the tests) use to talk to a running vdiskd.
public struct ControlClient: Sendable {
    public var socketPath: String
    public var timeout: Duration

    public init(socketPath: String, timeout: Duration = .seconds(10)) {
        self.socketPath = socketPath
        self.timeout = timeout
    }

    /// Sends one request and returns its result, or throws a classified `ControlClientError`.
    public func call(_ method: String, params: JSONValue? = nil) async throws(ControlClientError) -> JSONValue {
        var fields: [String: JSONValue] = ["jsonrpc": .string("2.0"), "id": .int(1), "method": .string(method)]
        if let params { fields["params"] = params }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(JSONValue.object(fields)) else {
            preconditionFailure("a JSON object always encodes")
        }
        let line = try await exchange(Array(data))
        guard let response = try? JSONDecoder().decode(JSONValue.self, from: Data(line)), response["jsonrpc"] == .string("2.0") else {
            throw ControlClientError(code: .badResponse, message: "the daemon's answer on \(socketPath) is not a JSON-RPC response")
        }
        if let errorValue = response["error"] {
            guard let code = errorValue["code"]?.intValue, let message = errorValue["message"]?.stringValue else {
                throw ControlClientError(code: .badResponse, message: "the daemon's error answer has no code or message")
            }
            let error = JSONRPCError(code: code, message: message, data: errorValue["data"])
            throw ControlClientError(code: .daemonError(error), message: "vdiskd refused \(method): \(message)")
        }
        guard let result = response["result"] else {
            throw ControlClientError(code: .badResponse, message: "the daemon's answer has neither result nor error")
        }
        return result
    }

    /// Writes one line and reads one line back, all within `timeout`.
    public func exchange(_ request: [UInt8]) async throws(ControlClientError) -> [UInt8] {
        let path = socketPath
        let limit = timeout
        do {
            return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                group.addTask {
                    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .connect(unixDomainSocketPath: path) { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ControlLineDecoder()))
                                return try NIOAsyncChannel<ControlLineDecoder.Frame, ByteBuffer>(wrappingChannelSynchronously: channel)
                            }
                        }
                    return try await channel.executeThenClose { inbound, outbound in
                        var buffer = ByteBuffer(bytes: request)
                        buffer.writeInteger(UInt8(ascii: "\n"))
                        try await outbound.write(buffer)
                        for try await frame in inbound {
                            switch frame {
                            case .line(let bytes): return bytes
                            case .tooLarge: throw ControlClientError(code: .badResponse, message: "the daemon's answer is longer than 1 MiB")
                            }
                        }
                        throw ControlClientError(code: .badResponse, message: "vdiskd closed the connection without answering")
                    }
                }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return nil
                }
                // The first child to finish decides; the other is cancelled.
                let first = try await group.next() ?? nil
                group.cancelAll()
                guard let first else {
                    throw ControlClientError(code: .timeout, message: "vdiskd did not answer on \(path) within \(limit)")
                }
                return first
            }
        } catch let error as ControlClientError {
            throw error
        } catch let error as IOError where [ENOENT, ECONNREFUSED].contains(error.errnoCode) {
            throw ControlClientError(code: .notRunning, message: "vdiskd is not running: nothing listens on \(path) (start it with systemctl start vdiskd, or pass --socket)")
        } catch let error as IOError where [EACCES, EPERM].contains(error.errnoCode) {
            throw ControlClientError(code: .permissionDenied, message: "permission denied on \(path): join the daemon's socket_group or run as root")
        } catch {
            throw ControlClientError(code: .notRunning, message: "cannot talk to vdiskd on \(path): \(error)")
        }
    }
}
