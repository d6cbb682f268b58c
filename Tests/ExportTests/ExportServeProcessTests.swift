// `vdiskctl export serve --raw` as a process: it prints its target and portal, serves a
// real client, and exits 0 on SIGTERM after closing its sessions.

import Foundation
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(3))) struct ExportServeProcessTests {
    /// The vdiskctl built with the tests: beside the test bundle, else in .build/debug; VDISKCTL overrides.
    static func vdiskctlPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["VDISKCTL"] { return path }
        var candidates: [String] = []
        var bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(bundle.appendingPathComponent("vdiskctl").path)
            bundle.deleteLastPathComponent()
        }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(package.appendingPathComponent(".build/debug/vdiskctl").path)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestSupportError(.commandFailed, "no vdiskctl binary found (run `swift build --build-tests` first); looked in \(candidates)")
        }
        return found
    }

    @Test func serveRawPrintsItsPortalServesAndStopsCleanlyOnSIGTERM() async throws {
        let directory = try ScratchDirectory(prefix: "export-serve")
        defer { directory.remove() }
        let image = try directory.createSparseFile("raw.img", size: 8 << 20)
        let port = try LoopbackPort.reserve()
        let iqn = "iqn.2025-01.io.vdiskd:served"
        let process = try await ChildProcess.spawn(
            executable: try Self.vdiskctlPath(),
            arguments: ["export", "serve", "--raw", image, "--listen", "127.0.0.1:\(port)", "--iqn", iqn],
            stdoutPath: directory.file("stdout"), stderrPath: directory.file("stderr")
        )
        do {
            // Bounded: 100 looks, 100 ms apart.
            var banner = ""
            for _ in 0..<100 {
                banner = (try? String(contentsOfFile: directory.file("stdout"), encoding: .utf8)) ?? ""
                if banner.contains("portal ") || !process.isRunning { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(banner.contains("target \(iqn)"))
            #expect(banner.contains("portal 127.0.0.1:\(port)"))
            let capacity = try await LibISCSIClient.capacity(Portal(host: "127.0.0.1", port: port).libiscsiURL(target: iqn, lun: 0))
            #expect(capacity == 8 << 20)
            process.send(signal: SIGTERM)
            let status = await process.waitForExit(timeout: .seconds(20))
            #expect(status?.isSuccess == true, "exit: \(String(describing: status)) \(process.outputTail())")
        } catch {
            _ = await process.terminate(gracePeriod: .seconds(1))
            throw error
        }
        if process.isRunning { _ = await process.terminate(gracePeriod: .seconds(1)) }
    }
}
