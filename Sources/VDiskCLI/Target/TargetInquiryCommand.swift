// `vdiskctl target inquiry URL`: what the LUN says about itself.

import ArgumentParser
import ISCSI
import SCSI

struct TargetInquiryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inquiry",
        abstract: "Show a LUN's INQUIRY data, its identification, block limits and provisioning pages, and its ALUA target port groups.",
        discussion: "With --engine libiscsi the LUN is opened as a block device first, so it must be a disk."
    )

    @Argument(help: "iscsi://[user[%password]@]host[:port]/IQN/LUN")
    var url: String

    @OptionGroup var target: TargetOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        let url = try parseTargetURL(self.url)
        try await CLIFailure.guarding {
            let report = switch target.engine {
            case .native:
                // A bare session, so LUNs that are not disks (tgt's LUN 0 controller) answer too.
                try await TargetConnection.withSession(url, options: target) { session in
                    try await InquiryReport.gather { try await InquiryReport.command(session, lun: url.lun, cdb: $0, name: $1, length: $2) }
                }
            case .libiscsi:
                // libiscsi's engine opens the LUN as a block device first, so it must be a disk.
                try await TargetConnection.withDevice(url, options: target) { device in
                    try await InquiryReport.gather { try await InquiryReport.command(device, cdb: $0, name: $1, length: $2) }
                }
            }
            print(json ? try JSONOutput.string(report.json) : report.text)
        }
    }
}
