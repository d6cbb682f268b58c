// A scratch folder per test (image files, journals, configs, sockets), removed when the test
// lets go of it.

import Foundation

/// A fresh directory under the system temporary directory, removed on deinit.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "vdisk") {
        path = "\(FileManager.default.temporaryDirectory.path)/\(label)-\(UUID().uuidString)"
        // A test cannot go on without its folder; failing to make one in /tmp is the machine's fault.
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Writes `text` to `name` with `mode` and returns the full path.
    @discardableResult
    public func write(_ name: String, _ text: String, mode: Int = 0o644) throws -> String {
        let file = file(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
        return file
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
