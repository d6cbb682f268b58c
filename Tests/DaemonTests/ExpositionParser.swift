// Checks a Prometheus text exposition with an independent parser: prometheus_client's, from
// Debian's python3-prometheus-client (Scripts/install-deps installs it).

import Foundation
import TestSupport

enum ExpositionParser {
    static let python = "/usr/bin/python3"

    /// Parses `text` and returns each metric family's name and type ("counter", "gauge", ...);
    /// throws with the parser's complaint when the text is not a valid exposition.
    static func families(_ text: String, in scratch: TemporaryDirectory) async throws -> [String: String] {
        let path = try scratch.write("exposition.txt", text)
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                print(family.name, family.type)
            """
        let output = try await ProcessRunner.run(python, ["-c", script, path])
        guard output.status == 0 else {
            throw ParseFailure(message: "prometheus_client refused the exposition: \(output.stderr)")
        }
        var families: [String: String] = [:]
        for line in output.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2 { families[String(fields[0])] = String(fields[1]) }
        }
        return families
    }

    struct ParseFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
