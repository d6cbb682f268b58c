// Reading small text files the harness and its children write (logs,
// command output) without failing a test over a missing or binary file.

import Foundation

enum TextFile {
    /// The whole file as UTF-8 (invalid bytes replaced), or "" if unreadable.
    static func read(_ path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            return ""
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The last `maxBytes` of the file, trimmed, for error messages.
    static func tail(of path: String, maxBytes: Int) -> String {
        let text = read(path)
        let tail = text.utf8.count > maxBytes ? "…" + String(decoding: text.utf8.suffix(maxBytes), as: UTF8.self) : text
        return tail.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
