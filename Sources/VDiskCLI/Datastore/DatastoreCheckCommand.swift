// `vdiskctl datastore check [--repair]`: verify every structure; fix what is safe.

import ArgumentParser
import Datastore

struct DatastoreCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify every structure; report bad checksums, leaked and double-allocated blocks, orphans.",
        discussion: "Exits 0 when the datastore is clean (or was fully repaired), 1 when problems remain."
    )

    @OptionGroup var location: DatastoreLocation
    @OptionGroup var host: HostOptions

    @Flag(help: "Fix what is safe to fix (needs every other host unmounted) and list each fix.")
    var repair = false

    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await DatastoreCommandRunner.run {
            let (report, after) = try await DatastoreSession.withMounted(location, host) { store in
                let report = try await store.check(repair: repair)
                // After a repair, a second pass says whether anything is left.
                let after = repair && !report.isClean ? try await store.check() : report
                return (report, after)
            }
            if output.json {
                try output.printJSON(report)
            } else {
                for issue in report.issues { print("problem: \(issue)") }
                for fix in report.repairs { print("repaired: \(fix)") }
                if report.otherHostsLive {
                    print("note: other hosts are mounted; changes they are making may show as transient problems")
                }
                print(after.isClean ? (report.isClean ? "clean" : "clean after repair") : "\(after.issues.count) problems remain")
            }
            if !after.isClean {
                throw DatastoreCommandError("datastore \(location.datastore): check found \(after.issues.count) problems\(repair ? " that repair could not fix" : "; run with --repair")")
            }
        }
    }
}
