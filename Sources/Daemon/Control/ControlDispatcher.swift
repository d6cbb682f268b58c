// Answers control requests: checks access, runs the method, and shapes the JSON-RPC answer.

import Control
import Logging

/// Socket-free request handling, so every method and error is testable without a connection.
public struct ControlDispatcher: Sendable {
    /// Methods that only read; any peer the socket lets in may call them.
    public static let readMethods: Set<String> = Set(["status", "targets.list", "datastores.list", "disks.list", "exports.list", "disks.stats", "metrics"])
        .union(storageReadMethods).union(faultReadMethods).union(filterReadMethods).union(pathReadMethods)
    /// Methods that change the daemon; root or `control_group` only.
    public static let mutatingMethods: Set<String> = Set(["log.setLevel", "reload"])
        .union(storageMutatingMethods).union(exportMutatingMethods).union(faultMutatingMethods)
        .union(filterMutatingMethods).union(pathMutatingMethods)

    let state: DaemonState
    let access: ControlAccess
    let reloader: ConfigReloader
    let logger: Logger

    public init(state: DaemonState, access: ControlAccess, reloader: ConfigReloader, logger: Logger) {
        self.state = state
        self.access = access
        self.reloader = reloader
        self.logger = logger
    }

    /// The answer line for one frame, or nil for a notification (a request without an id).
    public func respond(to frame: ControlLineDecoder.Frame, peer: PeerCredentials) async -> String? {
        switch frame {
        case .tooLarge:
            return JSONRPCResponse(id: .null, error: .tooLarge(limit: ControlLineDecoder.maximumLineLength)).encodedLine()
        case .line(let bytes):
            switch JSONRPCRequest.parse(bytes) {
            case .invalid(let response):
                return response.encodedLine()
            case .request(let request):
                let response = await handle(request, peer: peer)
                return request.id == nil ? nil : response.encodedLine()
            }
        }
    }

    public func handle(_ request: JSONRPCRequest, peer: PeerCredentials) async -> JSONRPCResponse {
        let id = request.id ?? .null
        let known = Self.mutatingMethods.contains(request.method) || Self.readMethods.contains(request.method)
        state.metrics.controlRequest(method: request.method, known: known)
        if Self.mutatingMethods.contains(request.method) {
            guard access.mayMutate(peer) else {
                logger.notice("refused a mutating control call", metadata: ["vdiskd.method": "\(request.method)", "vdiskd.uid": "\(peer.uid)", "vdiskd.pid": "\(peer.pid)"])
                return JSONRPCResponse(id: id, error: .notPermitted(request.method))
            }
        } else if !Self.readMethods.contains(request.method) {
            return JSONRPCResponse(id: id, error: .methodNotFound(request.method))
        }
        switch await call(request) {
        case .success(let result): return JSONRPCResponse(id: id, result: result)
        case .failure(let error): return JSONRPCResponse(id: id, error: error)
        }
    }

    private func call(_ request: JSONRPCRequest) async -> Result<JSONValue, JSONRPCError> {
        let config = state.config
        switch request.method {
        case "status":
            return .success(ControlViews.status(state: state))
        case "targets.list":
            return .success(await ControlViews.targets(state: state))
        case "datastores.list":
            return .success(.array(config.datastores.map { ControlViews.datastore($0, state: state) }))
        case "disks.list":
            return .success(.array(config.disks.map { ControlViews.disk($0, state: state) }))
        case "exports.list":
            return .success(.array(config.exports.map { ControlViews.export($0, state: state) }))
        case "disks.stats":
            return diskStatistics(request.params)
        case "metrics":
            return .success(.object(["format": .string("prometheus-text-0.0.4"), "text": .string(state.metricsExposition())]))
        case "log.setLevel":
            guard let text = request.params?["level"]?.stringValue else {
                return .failure(.invalidParams("expected {\"level\": \"trace|debug|info|notice|warning|error|critical\"}"))
            }
            guard let level = Logger.Level(rawValue: text) else {
                return .failure(.invalidParams("\"\(text)\" is not one of trace, debug, info, notice, warning, error, critical"))
            }
            let previous = state.logLevel.current
            state.logLevel.set(level)
            logger.info("log level changed", metadata: ["vdiskd.from": "\(previous)", "vdiskd.to": "\(level)"])
            return .success(.object(["previous": .string(previous.rawValue), "level": .string(level.rawValue)]))
        case "reload":
            switch await reloader.reload() {
            case .success(let plan):
                return .success(ControlViews.reload(plan))
            case .failure(let invalid):
                return .failure(JSONRPCError(
                    code: JSONRPCError.operationFailedCode,
                    message: "reload refused: the config is invalid; the running config is unchanged",
                    data: .array(invalid.errors.map { .string($0.description) })
                ))
            }
        default:
            if let result = await callStorage(request) { return result }
            if let result = await callFilters(request) { return result }
            if let result = await callExports(request) { return result }
            if let result = await callFaults(request) { return result }
            if let result = await callPaths(request) { return result }
            return .failure(.methodNotFound(request.method))
        }
    }
}
