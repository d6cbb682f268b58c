// `vdiskctl target discover PORTAL`: SendTargets discovery.

import ArgumentParser
import Foundation
import ISCSI

struct TargetDiscoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discover",
        abstract: "List the targets and portals a portal offers (SendTargets)."
    )

    @Argument(help: "The portal: host, host:port or [IPv6]:port.")
    var portal: String

    @Option(name: .customLong("user"), help: "CHAP user for the discovery session.")
    var user: String?

    @OptionGroup var target: TargetOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        if target.engine == .libiscsi {
            throw ValidationError("discover runs on the native engine only: the libiscsi engine has no SendTargets discovery (and libiscsi's iscsi-ls spins on istgt's answer); drop --engine libiscsi")
        }
    }

    func run() async throws {
        try await CLIFailure.guarding {
            let address: TargetPortal
            do {
                address = try TargetPortal(parsing: portal)
            } catch let error as ISCSIError {
                throw ValidationError("'\(portal)' is not a portal (host, host:port or [IPv6]:port): \(error.message)")
            }
            let configuration = try target.sessionConfiguration(portal: address, targetName: nil, user: user, password: nil)
            let targets = try await ISCSIDiscovery.sendTargets(configuration)
            if json {
                let objects = targets.map { target in
                    [
                        "name": target.name,
                        "portals": target.portals.map { ["host": $0.host, "port": $0.port, "tag": $0.portalGroupTag as Any] },
                        "login": "iscsi://\(TargetPortal(host: address.host, port: address.port))/\(target.name)",
                    ] as [String: Any]
                }
                print(try JSONOutput.string(objects))
            } else if targets.isEmpty {
                print("\(address) offers no targets to \(target.initiatorName)")
            } else {
                for discovered in targets {
                    print(discovered.name)
                    for portal in discovered.portals {
                        let tag = portal.portalGroupTag.map { ", portal group \($0)" } ?? ""
                        print("  \(TargetPortal(host: portal.host, port: portal.port))\(tag)")
                    }
                    // The listed addresses are the target's view; behind NAT or port forwarding
                    // only the portal we dialled is known to reach it (DiscoveredTarget.loginPortals).
                    if !discovered.portals.contains(where: { $0.host == address.host && $0.port == address.port }) {
                        print("  reached through \(TargetPortal(host: address.host, port: address.port)): iscsi://\(TargetPortal(host: address.host, port: address.port))/\(discovered.name)")
                    }
                }
            }
        }
    }
}
