// The control methods of multipath targets: list paths, enable or disable one, change the
// policy, reopen after device loss.

import Control
import Paths

extension ControlDispatcher {
    static let pathReadMethods: Set<String> = ["paths.list"]
    static let pathMutatingMethods: Set<String> = ["paths.enable", "paths.disable", "paths.policy", "paths.reopen"]

    /// The answer to a paths method, or nil when `request` is not one.
    func callPaths(_ request: JSONRPCRequest) async -> Result<JSONValue, JSONRPCError>? {
        guard request.method.hasPrefix("paths.") else { return nil }
        if request.method == "paths.list" {
            let wanted = request.params?["target"]?.stringValue
            let devices = state.storage.multipaths.filter { wanted == nil || $0.name == wanted }
            if let wanted, devices.isEmpty { return .failure(.notFound(notMultipath(wanted))) }
            return .success(.array(devices.map { ControlViews.paths($0.device.snapshot) }))
        }
        guard let target = request.params?["target"]?.stringValue else {
            return .failure(.invalidParams("\(request.method) needs \"target\", a target with several paths"))
        }
        guard let device = state.storage.multipath(target) else {
            return .failure(.notFound(notMultipath(target)))
        }
        switch request.method {
        case "paths.enable", "paths.disable":
            guard let path = request.params?["path"]?.stringValue else {
                return .failure(.invalidParams("\(request.method) needs \"path\", one of \(device.pathNames.joined(separator: ", "))"))
            }
            do {
                try await device.setEnabled(request.method == "paths.enable", path: path)
            } catch {
                return .failure(.notFound(error.message))
            }
            state.events.record("target:\(target)", "paths", reason: "path \(path) \(request.method == "paths.enable" ? "enabled" : "disabled") by the operator")
        case "paths.policy":
            guard let name = request.params?["policy"]?.stringValue else {
                return .failure(.invalidParams("paths.policy needs \"policy\": one of \(PathPolicy.names.joined(separator: ", ")), and optionally \"preferred\", \"ios\", \"bytes\""))
            }
            do {
                let policy = try PathPolicy(
                    name: name,
                    preferred: request.params?["preferred"]?.stringValue,
                    ios: request.params?["ios"]?.intValue ?? PathPolicy.defaultRoundRobinIOs,
                    bytes: request.params?["bytes"]?.intValue ?? PathPolicy.defaultRoundRobinBytes
                )
                try device.setPolicy(policy)
                state.events.record("target:\(target)", "paths", reason: "policy set to \(policy)")
            } catch {
                return .failure(error.code == .notFound ? .notFound(error.message) : .invalidParams(error.message))
            }
        case "paths.reopen":
            await device.reopen()
            if device.snapshot.health != .deviceLost, device.snapshot.paths.contains(where: { $0.state == .active }) {
                state.setService("target:\(target)", .running)
            }
            state.events.record("target:\(target)", "paths", reason: "reopened by the operator")
        default:
            return .failure(.methodNotFound(request.method))
        }
        return .success(ControlViews.paths(device.snapshot))
    }

    private func notMultipath(_ target: String) -> String {
        let names = state.storage.multipaths.map(\.name)
        return "no target \(target) with several paths is open (multipath targets: \(names.isEmpty ? "none" : names.joined(separator: ", ")))"
    }
}
