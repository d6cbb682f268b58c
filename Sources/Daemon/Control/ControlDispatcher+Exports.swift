// The control methods that add and remove exports while the daemon runs.

import Control
import ISCSIAddress

extension ControlDispatcher {
    static let exportMutatingMethods: Set<String> = ["exports.add", "exports.remove"]

    /// The answer to an export method, or nil when `request` is not one.
    func callExports(_ request: JSONRPCRequest) async -> Result<JSONValue, JSONRPCError>? {
        let live = reloader.live
        switch request.method {
        case "exports.add":
            let settings: ExportSettings
            switch exportSettings(request.params) {
            case .success(let parsed): settings = parsed
            case .failure(let error): return .failure(error)
            }
            return await live.serialized {
                await live.startExport(settings).map {
                    live.persist(export: settings.name)
                    return ControlViews.export(settings, state: state)
                }
            }
        case "exports.remove":
            guard let name = request.params?["name"]?.stringValue else {
                return .failure(.invalidParams("exports.remove needs \"name\", an export's name"))
            }
            return await live.serialized {
                await live.stopExport(name).map {
                    live.persist(export: name)
                    return .object(["removed": .string(name)])
                }
            }
        default:
            return nil
        }
    }

    /// An export from `exports.add` params, checked as the config checks an [[export]].
    private func exportSettings(_ params: JSONValue?) -> Result<ExportSettings, JSONRPCError> {
        let usage = "exports.add needs {\"name\", \"iqn\", \"listen\": [\"host:port\", ...], \"disks\": [\"datastore/disk\", ...]} and optionally \"read_only\", \"chap_user\", \"chap_secret\""
        guard let name = params?["name"]?.stringValue, !name.isEmpty,
            let iqn = params?["iqn"]?.stringValue, !iqn.isEmpty,
            let listenTexts = params?["listen"]?.arrayValue?.compactMap(\.stringValue), !listenTexts.isEmpty,
            let disks = params?["disks"]?.arrayValue?.compactMap(\.stringValue), !disks.isEmpty
        else { return .failure(.invalidParams(usage)) }
        var listen: [ISCSIEndpoint] = []
        for text in listenTexts {
            guard let endpoint = try? ISCSIEndpoint(parsing: text, defaultPort: nil) else {
                return .failure(.invalidParams("listen \"\(text)\" is not host:port"))
            }
            listen.append(endpoint)
        }
        let config = state.config
        if config.exports.contains(where: { $0.name == name }) {
            return .failure(.inUse("an export named \(name) already exists"))
        }
        if let taken = config.exports.first(where: { !Set($0.listen).isDisjoint(with: listen) }) {
            return .failure(.inUse("export \(taken.name) already listens on \(Set(taken.listen).intersection(listen).map(\.description).sorted().joined(separator: ", "))"))
        }
        var settings = ExportSettings(name: name, iqn: iqn, listen: listen, disks: disks)
        settings.readOnly = params?["read_only"] == .bool(true)
        settings.chapUser = params?["chap_user"]?.stringValue
        settings.chapSecret = params?["chap_secret"]?.stringValue
        guard (settings.chapUser == nil) == (settings.chapSecret == nil) else {
            return .failure(.invalidParams("chap_user and chap_secret go together"))
        }
        if let problem = settings.diskConflict(with: config.exports) {
            return .failure(.inUse(problem))
        }
        return .success(settings)
    }
}
