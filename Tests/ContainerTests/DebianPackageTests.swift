// The .deb Scripts/package builds, checked as Debian checks packages: lintian finds no error or
// warning (the overrides it ships are justified in docs/INSTALL.md), and Depends: names what the
// static-stdlib binaries really load, no Swift runtime among it.

import Foundation
import Testing
import TestSupport

extension ContainerSuite {
    @Suite(.timeLimit(.minutes(10))) struct DebianPackageTests {
        @Test func lintianFindsNoErrorOrWarning() async throws {
            let deb = try await ContainerImage.shared.packagePath()
            let lint = try await ExternalCommand.run(
                executable: try ContainerLab.tool("lintian"),
                ["--fail-on", "error,warning", "--tag-display-limit", "0", deb],
                timeout: .seconds(600)
            )
            #expect(lint.succeeded, "lintian \(deb): \(lint.output)")
        }

        @Test func dependsNamesTheLibrariesTheBinariesLoadAndNoSwiftRuntime() async throws {
            let deb = try await ContainerImage.shared.packagePath()
            let fields = try await ExternalCommand.run(executable: try ContainerLab.tool("dpkg-deb"), ["--field", deb, "Depends", "Package", "Architecture"]).check()
            let depends = fields.stdout
            #expect(depends.contains("libiscsi7"), "vdiskd links libiscsi, yet Depends lacks libiscsi7: \(depends)")
            #expect(depends.contains("libc6"), "\(depends)")
            #expect(!depends.lowercased().contains("swift"), "\(depends)")
            #expect(depends.contains("Architecture: amd64"), "\(depends)")

            let scratch = try ScratchDirectory(prefix: "deb")
            defer { scratch.remove() }
            try await ExternalCommand.run(executable: try ContainerLab.tool("dpkg-deb"), ["--extract", deb, scratch.path]).check()
            for tool in ["vdiskd", "vdiskctl"] {
                let headers = try await ExternalCommand.run(executable: try ContainerLab.tool("objdump"), ["-p", scratch.file("usr/bin/\(tool)")]).check()
                let needed = headers.stdout.split(separator: "\n").filter { $0.contains("NEEDED") }
                #expect(!needed.isEmpty, "\(tool) has no NEEDED entries: is it a static binary?")
                #expect(!needed.contains { $0.contains("libswift") || $0.contains("libFoundation") || $0.contains("libdispatch") }, "\(tool) loads the Swift runtime: \(needed)")
            }
        }
    }
}
