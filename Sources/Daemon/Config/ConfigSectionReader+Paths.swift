// Reads a target's paths: `portals = [...]` or `paths = [{ portal = ..., source = ... }]`, and its
// multipath settings, every problem located.

import ISCSIAddress
import Paths

extension ConfigSectionReader {
    /// The target's paths, empty when it names only `portal` (one session that recovers itself).
    mutating func pathSettings() -> [PathSettings] {
        let portals = stringArray("portals")
        let tables = rawValue("paths")
        if portals != nil, tables != nil {
            fail("paths", "give either portals or paths, not both")
            return []
        }
        var paths: [PathSettings] = []
        if let portals {
            if portals.isEmpty { fail("portals", "lists no portal") }
            for (offset, text) in portals.enumerated() {
                do {
                    paths.append(PathSettings(name: "path\(offset)", portal: try ISCSIEndpoint(parsing: text)))
                } catch {
                    fail("portals", at: "portals[\(offset + 1)]", "\"\(text)\" is not host or host:port: \(error.reason)")
                }
            }
        } else if let tables {
            guard let array = tables.array, !array.isEmpty else {
                fail("paths", "wrong type: expected an array of tables such as [{ portal = \"10.0.0.2:3260\", source = \"10.0.0.1\" }]")
                return []
            }
            for (offset, element) in array.enumerated() {
                let place = "paths[\(offset + 1)]"
                guard let table = element.table else {
                    fail("paths", at: place, "must be a table such as { portal = \"10.0.0.2:3260\" }")
                    continue
                }
                for key in table.keys.sorted() where !["portal", "source", "interface", "name"].contains(key) {
                    fail("paths", at: "\(place).\(key)", "unknown key (a path takes portal, source, interface and name)")
                }
                guard let text = table["portal"]?.string else {
                    fail("paths", at: "\(place).portal", "missing the path's portal (host or host:port)")
                    continue
                }
                let portal: ISCSIEndpoint
                do {
                    portal = try ISCSIEndpoint(parsing: text)
                } catch {
                    fail("paths", at: "\(place).portal", "\"\(text)\" is not host or host:port: \(error.reason)")
                    continue
                }
                if table["source"] != nil, table["source"]?.string == nil {
                    fail("paths", at: "\(place).source", "must be a string: the source address to bind")
                }
                if table["interface"] != nil, table["interface"]?.string == nil {
                    fail("paths", at: "\(place).interface", "must be a string: the network interface to bind")
                }
                if table["name"] != nil, table["name"]?.string == nil {
                    fail("paths", at: "\(place).name", "must be a string")
                }
                let source = table["source"]?.string
                let interface = table["interface"]?.string
                if source != nil || interface != nil {
                    do {
                        _ = try ConnectionSource(address: source, interface: interface)
                    } catch {
                        fail("paths", at: "\(place).\(source != nil ? "source" : "interface")", error.reason)
                    }
                }
                paths.append(PathSettings(name: table["name"]?.string ?? "path\(offset)", portal: portal, source: source, interface: interface))
            }
        }
        let key = portals != nil ? "portals" : "paths"
        var seen: Set<String> = []
        var seenNames: Set<String> = []
        for path in paths {
            if !seen.insert(path.route).inserted {
                fail(key, "names the portal \(path.portal)\(path.source.map { " from \($0)" } ?? "") twice")
            }
            if !seenNames.insert(path.name).inserted {
                fail(key, "names the path \(path.name) twice")
            }
        }
        return paths
    }

    /// `path_policy` (with `path_preferred`, `round_robin_ios`, `round_robin_bytes`); nil when absent or wrong.
    mutating func pathPolicy(paths: [PathSettings]) -> PathPolicy? {
        let name = string("path_policy")
        let preferred = string("path_preferred")
        let ios = int("round_robin_ios", range: 1...1_000_000)
        let bytes = int("round_robin_bytes", range: 512...(1 << 30))
        guard let name else {
            if preferred != nil || ios != nil || bytes != nil {
                fail("path_policy", "path_preferred, round_robin_ios and round_robin_bytes need a path_policy")
            }
            return nil
        }
        if let preferred, !paths.contains(where: { $0.name == preferred }) {
            fail("path_preferred", "no path is named \"\(preferred)\" (paths: \(paths.map(\.name).joined(separator: ", ")))")
        }
        do {
            let policy = try PathPolicy(
                name: name,
                preferred: preferred,
                ios: ios ?? PathPolicy.defaultRoundRobinIOs,
                bytes: bytes ?? PathPolicy.defaultRoundRobinBytes
            )
            if preferred != nil, policy.name != "fixed" { fail("path_preferred", "only the fixed policy has a preferred path") }
            return policy
        } catch {
            fail("path_policy", error.message)
            return nil
        }
    }
}
