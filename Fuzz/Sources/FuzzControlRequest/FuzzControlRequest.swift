// libFuzzer entry point for the control socket: the line decoder as the server drives it,
// JSON-RPC request parsing, and the dispatcher's params checks of every method, for a root
// and an unprivileged peer, over a daemon state with nothing mounted (so no method reaches
// storage or the network). Every frame must get one well-formed JSON-RPC answer, or none
// for a notification.
//
// Input byte 0: bits 0-1 how the stream is cut into reads (whole, 1, 7, 64 bytes), bit 2 the
// peer (root or nobody), bit 3 a line limit of 256 bytes instead of 1 MiB. Byte 1 picks a
// method from the dispatcher's table for the direct call. The rest is the byte stream.

import Control
import Daemon
import Foundation
import FuzzDriver
import FuzzSupport
import Logging
import NIOCore

private let root = PeerCredentials(pid: 1, uid: 0, gid: 0)
private let nobody = PeerCredentials(pid: 2, uid: 65534, gid: 65534)
private let methods = ControlDispatcher.readMethods.union(ControlDispatcher.mutatingMethods).sorted()
private let quiet = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

/// Two datastores on one target, a read-write and a shared read-only disk, one export of both;
/// from a path that does not exist, so `reload` fails cleanly.
private let config: DaemonConfig = {
    let text = """
        [daemon]
        control_socket = "/run/vdiskd-fuzz/control.sock"

        [[target]]
        name = "san"
        portal = "127.0.0.2:3260"
        iqn = "iqn.2026-11.example:san"
        lun = 0

        [[datastore]]
        name = "ds1"
        target = "san"
        host_uuid = "0a5e2d1c-7f3b-4e89-b6c4-1d2e3f405162"

        [[datastore]]
        name = "ds2"
        target = "san"
        host_uuid = "0a5e2d1c-7f3b-4e89-b6c4-1d2e3f405163"

        [[disk]]
        datastore = "ds1"
        name = "a"

        [[disk]]
        datastore = "ds2"
        name = "b"
        mode = "shared-read-only"

        [[export]]
        name = "both"
        iqn = "iqn.2026-11.example.vdiskd:both"
        listen = ["127.0.0.2:3261"]
        disks = ["ds1/a", "ds2/b"]
        read_only = true
        """
    do {
        return try ConfigLoader.parse(text: text, path: "/nonexistent/vdiskd-fuzz.toml", loadSecrets: { _ in [:] })
    } catch {
        fatalError("the fuzz config does not parse: \(error)")
    }
}()

private func makeDispatcher() -> ControlDispatcher {
    let state = DaemonState(config: config, logLevel: LogLevelControl(.info))
    state.setService("control-socket", .running)
    return ControlDispatcher(
        state: state, access: ControlAccess(mutatingGroup: nil),
        reloader: ConfigReloader(state: state, logger: quiet), logger: quiet
    )
}

/// Cuts `stream` into frames exactly as the server's channel handler does.
private func frames(_ stream: ByteBuffer, chunkSize: Int, lineLimit: Int) -> [ControlLineDecoder.Frame] {
    let processor = NIOSingleStepByteToMessageProcessor(ControlLineDecoder(maximumLineLength: lineLimit))
    var frames: [ControlLineDecoder.Frame] = []
    do {
        var rest = stream
        if chunkSize == 0 {
            try processor.process(buffer: rest) { frames.append($0) }
        } else {
            while rest.readableBytes > 0 {
                let chunk = rest.readSlice(length: min(chunkSize, rest.readableBytes))!
                try processor.process(buffer: chunk) { frames.append($0) }
            }
        }
        try processor.finishProcessing(seenEOF: true) { frames.append($0) }
    } catch {
        fatalError("ControlLineDecoder threw \(error); it never refuses bytes")
    }
    return frames
}

/// A response line must be one JSON-RPC 2.0 response: the version, an id, and exactly one of
/// a result and an error with an integer code and a message.
private func checkResponse(_ line: String, answering id: JSONValue?) {
    let value: JSONValue
    do {
        value = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
    } catch {
        fatalError("response is not JSON: \(line)")
    }
    precondition(!line.contains("\n"), "response spans lines: \(line)")
    precondition(value["jsonrpc"] == .string("2.0"), "response without jsonrpc 2.0: \(line)")
    guard let answered = value["id"] else { fatalError("response without an id: \(line)") }
    if let id { precondition(answered == id, "response id \(answered) for request id \(id): \(line)") }
    switch (value["result"], value["error"]) {
    case (.some, nil):
        break
    case (nil, .some(let error)):
        precondition(error["code"]?.intValue != nil && error["message"]?.stringValue?.isEmpty == false, "malformed error: \(line)")
    default:
        fatalError("response needs exactly one of result and error: \(line)")
    }
}

/// The id a well-formed request will be answered with, nil for a notification or a refusal.
private func expectedID(_ frame: ControlLineDecoder.Frame) -> (answered: Bool, id: JSONValue?) {
    guard case .line(let bytes) = frame else { return (true, .null) }
    switch JSONRPCRequest.parse(bytes) {
    case .invalid(let response): return (true, response.id)
    case .request(let request): return (request.id != nil, request.id)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControlRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 1 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let chunkSize = [0, 1, 7, 64][Int(input[0] & 0x03)]
    let peer = input[0] & 0x04 == 0 ? root : nobody
    let lineLimit = input[0] & 0x08 == 0 ? ControlLineDecoder.maximumLineLength : 256
    let method = methods[Int(input[1]) % methods.count]
    let stream = ByteBuffer(bytes: input.dropFirst(2))
    let decoded = frames(stream, chunkSize: chunkSize, lineLimit: lineLimit).prefix(32)
    // The same bytes as the params of a table method, so every method's checks see them;
    // read through the request parser, as the daemon reads params.
    let wrapped = Array(#"{"jsonrpc":"2.0","id":7,"method":"m","params":"#.utf8) + input.dropFirst(2) + Array("}".utf8)
    var params: JSONValue?
    if case .request(let parsed) = JSONRPCRequest.parse(wrapped) { params = parsed.params }

    let bound = params
    runBlocking {
        let dispatcher = makeDispatcher()
        for frame in decoded {
            let (answered, id) = expectedID(frame)
            let line = await dispatcher.respond(to: frame, peer: peer)
            precondition((line != nil) == answered, "frame \(frame) answered \(line ?? "nothing")")
            if let line { checkResponse(line, answering: id) }
        }
        for caller in [root, nobody] {
            let request = JSONRPCRequest(id: .int(7), method: method, params: bound)
            let response = await dispatcher.handle(request, peer: caller)
            checkResponse(response.encodedLine(), answering: .int(7))
            if caller == nobody && ControlDispatcher.mutatingMethods.contains(method) {
                precondition(response.error?.code == JSONRPCError.notPermittedCode, "\(method) let an unprivileged peer through")
            }
        }
    }
    return 0
}

/// The entry point SwiftPM links as main(); see FuzzDriver.c.
@_cdecl("FuzzControlRequest_main")
public func fuzzControlRequestMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    vdisk_fuzz_main(argc, argv, fuzzControlRequest)
}
