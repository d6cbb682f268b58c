// `vdiskctl target inquiry URL`: what the LUN says about itself.

import ArgumentParser
import ISCSI
import SCSI

struct TargetInquiryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inquiry",
        abstract: "Show a LUN's INQUIRY data and its identification, block limits and provisioning pages."
    )

    @Argument(help: "iscsi://[user[%password]@]host[:port]/IQN/LUN")
    var url: String

    @OptionGroup var target: TargetOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        let url = try parseTargetURL(self.url)
        try await CLIFailure.guarding {
            let report = try await TargetConnection.withSession(url, options: target) { session in
                try await InquiryReport.gather(session: session, lun: url.lun)
            }
            print(json ? try JSONOutput.string(report.json) : report.text)
        }
    }
}
