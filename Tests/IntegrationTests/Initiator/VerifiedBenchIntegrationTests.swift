// `vdiskctl target bench --verify` as an unprivileged user against tgtd: a clean run reports
// no errors or miscompares and a plausible stall, and a run whose blocks a second writer
// overwrites mid-way reports miscompares and exits non-zero, so the check can fail.

import Foundation
import Testing
import TestSupport

extension InitiatorEngineTests {
@Suite(.timeLimit(.minutes(3)))
struct VerifiedBenchIntegrationTests {
    static let iqn = "iqn.2026-11.org.vdiskd.test:verify"
    static let spec = TgtTargetSpec(iqn: iqn, luns: [.file(1, size: 16 << 20)])

    static func report(_ stdout: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any], "not JSON: \(stdout)")
    }

    @Test(arguments: InitiatorEngine.allCases)
    func aCleanRunReportsNoErrorsOrMiscompares(engine: InitiatorEngine) async throws {
        try await withTgt(TgtConfiguration(targets: [Self.spec])) { tgt in
            let vdiskctl = try BuiltExecutable.path("vdiskctl", overriddenBy: "VDISKCTL")
            let run = try await UnprivilegedUser.standard.run(vdiskctl, [
                "target", "bench", tgt.url(Self.iqn, lun: 1), "--engine", engine.rawValue, "--verify",
                "--qd", "8", "--bs", "8k", "--range", "2M", "--seconds", "2", "--max-ios", "20000", "--json",
            ], timeout: .seconds(90))
            #expect(run.status.isSuccess, "\(run)")
            let report = try Self.report(run.stdout)
            #expect(report["pattern"] as? String == "verify")
            #expect(report["errors"] as? Int == 0, "\(report)")
            #expect(report["miscompares"] as? Int == 0, "\(report)")
            #expect((report["errorMessages"] as? [String])?.isEmpty == true)
            let reads = try #require(report["reads"] as? Int)
            let writes = try #require(report["writes"] as? Int)
            #expect(reads > 0 && writes > 0 && report["ios"] as? Int == reads + writes, "\(report)")
            // Every slot written was read back at the end: at least one per worker.
            #expect(report["finalChecks"] as? Int ?? 0 >= 8, "\(report)")
            // A plausible stall on loopback: above zero, far below the run.
            let stall = try #require(report["longestStallMilliseconds"] as? Double)
            #expect(stall > 0 && stall < 1500, "longest stall \(stall) ms")
            let latency = try #require(report["latencyMicroseconds"] as? [String: Double])
            #expect((latency["p50"] ?? 0) > 0 && (latency["p50"] ?? 0) <= (latency["p99"] ?? 0), "\(latency)")
        }
    }

    /// A second writer (a plain randwrite bench, a real client of its own) overwrites the
    /// blocks the verify run owns while it runs.
    @Test func blocksOverwrittenByAnotherWriterAreMiscomparesAndFailTheRun() async throws {
        try await withTgt(TgtConfiguration(targets: [Self.spec])) { tgt in
            let vdiskctl = try BuiltExecutable.path("vdiskctl", overriddenBy: "VDISKCTL")
            let url = tgt.url(Self.iqn, lun: 1)
            let output = tgt.directory.file("verify.json")
            let verify = try await UnprivilegedUser.standard.spawn(vdiskctl, [
                "target", "bench", url, "--verify", "--qd", "4", "--bs", "4k", "--range", "256k",
                "--seconds", "4", "--max-ios", "200000", "--json",
            ], stdoutPath: output, stderrPath: tgt.directory.file("verify.stderr"))
            try await Task.sleep(for: .seconds(1))
            let intruder = try await UnprivilegedUser.standard.run(vdiskctl, [
                "target", "bench", url, "--pattern", "randwrite", "--qd", "4", "--bs", "4k", "--range", "256k",
                "--seconds", "1", "--max-ios", "20000",
            ], timeout: .seconds(60))
            #expect(intruder.status.isSuccess, "\(intruder)")
            let status = await verify.waitForExit(timeout: .seconds(60))
            #expect(status == .exited(74), "verify ended with \(String(describing: status)): \(verify.outputTail())")
            let stderr = try String(contentsOfFile: tgt.directory.file("verify.stderr"), encoding: .utf8)
            #expect(stderr.contains("miscompares"), "\(stderr)")
            let report = try Self.report(try String(contentsOfFile: output, encoding: .utf8))
            let miscompares = try #require(report["miscompares"] as? Int)
            #expect(miscompares > 0, "\(report)")
            let messages = try #require(report["miscompareMessages"] as? [String])
            #expect(!messages.isEmpty && messages.count <= 5)
            #expect(messages.allSatisfy { $0.hasPrefix("LBA ") }, "\(messages)")
            print("verify under a second writer: \(miscompares) miscompares, first: \(messages.first ?? "")")
        }
    }
}
}
