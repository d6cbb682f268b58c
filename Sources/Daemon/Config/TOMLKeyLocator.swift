// Finds the line of a key in TOML source text; TOMLKit reports positions only for parse errors.


import Foundation
/// A small line scanner over the config text. It understands `[table]`, `[[array]]` headers and
/// `key = value` lines, which is all the vdiskd schema uses; a key it cannot find (dotted keys,
/// inline tables) falls back to its section's header line.
struct TOMLKeyLocator: Sendable, Hashable {
    private struct Entry: Sendable, Hashable {
        var section: String
        var index: Int?
        var key: String?
        var line: Int
    }

    private var entries: [Entry] = []

    init(source: String) {
        var section = ""
        var index: Int? = nil
        var arrayCounts: [String: Int] = [:]
        var inMultiline = false
        // One pass over the lines; the loop is bounded by the file's line count.
        for (offset, raw) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            let text = raw.trimmingCharacters(in: .whitespaces)
            let quoteRuns = text.components(separatedBy: "\"\"\"").count - 1 + text.components(separatedBy: "'''").count - 1
            if inMultiline {
                if quoteRuns % 2 == 1 { inMultiline = false }
                continue
            }
            if text.isEmpty || text.hasPrefix("#") { continue }
            if text.hasPrefix("[[") {
                let name = Self.headerName(text, open: "[[", close: "]]")
                let next = arrayCounts[name, default: 0] + 1
                arrayCounts[name] = next
                section = name
                index = next
                entries.append(Entry(section: name, index: next, key: nil, line: lineNumber))
            } else if text.hasPrefix("[") {
                let name = Self.headerName(text, open: "[", close: "]")
                section = name
                index = nil
                entries.append(Entry(section: name, index: nil, key: nil, line: lineNumber))
            } else if let equals = text.firstIndex(of: "=") {
                var key = text[..<equals].trimmingCharacters(in: .whitespaces)
                if key.count >= 2, key.hasPrefix("\""), key.hasSuffix("\"") { key = String(key.dropFirst().dropLast()) }
                entries.append(Entry(section: section, index: index, key: key, line: lineNumber))
                if quoteRuns % 2 == 1 { inMultiline = true }
            }
        }
    }

    private static func headerName(_ text: String, open: String, close: String) -> String {
        var body = text.dropFirst(open.count)
        if let end = body.range(of: close) { body = body[..<end.lowerBound] }
        return body.trimmingCharacters(in: .whitespaces)
    }

    /// The line of `key` in `section` (its `index`-th entry for an array of tables, 1-based),
    /// or of the section header when the key is not written there; nil when neither is found.
    func line(section: String, index: Int?, key: String?) -> Int? {
        if let key, let hit = entries.first(where: { $0.section == section && $0.index == index && $0.key == key }) {
            return hit.line
        }
        if section.isEmpty, let key, let header = entries.first(where: { $0.section == key && $0.key == nil }) {
            // A top-level key written as a table header, such as a misspelt `[[targets]]`.
            return header.line
        }
        return entries.first(where: { $0.section == section && $0.index == index && $0.key == nil })?.line
    }
}
