// Renders the command table as the Markdown docs/VSCSI.md carries, so a test can
// check the document against the code (and rewrite it with VSCSI_UPDATE_DOCS=1).

import Foundation
import SCSI
@testable import VSCSI

enum CommandTableDocument {
    static let begin = "<!-- command-table:begin (generated from CommandTable.all by VSCSITests) -->"
    static let end = "<!-- command-table:end -->"

    static var markdown: String {
        var lines = [
            "| opcode | SA | name | CDB | reservations | notes |",
            "|---|---|---|---|---|---|",
        ]
        for command in CommandTable.all {
            let code = String(format: "0x%02X", command.operationCode.rawValue)
            let action = command.serviceAction.map { String(format: "0x%02X", $0) } ?? ""
            var notes = command.notes
            if command.rules.contains(.thinOnly) { notes += " (thin only)" }
            lines.append("| \(code) | \(action) | \(command.name) | \(command.cdbLength) | \(command.access) | \(notes) |")
        }
        return lines.joined(separator: "\n")
    }

    static var documentPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/VSCSI.md").path
    }

    /// The table section of the document as it stands, or nil when the markers are missing.
    static func documentedTable() throws -> String? {
        let text = try String(contentsOfFile: documentPath, encoding: .utf8)
        guard let start = text.range(of: begin), let stop = text.range(of: end) else { return nil }
        return String(text[start.upperBound..<stop.lowerBound]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func rewriteDocument() throws {
        let text = try String(contentsOfFile: documentPath, encoding: .utf8)
        guard let start = text.range(of: begin), let stop = text.range(of: end) else { return }
        let updated = text[..<start.upperBound] + "\n" + markdown + "\n" + text[stop.lowerBound...]
        try String(updated).write(toFile: documentPath, atomically: true, encoding: .utf8)
    }
}
