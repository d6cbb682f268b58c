// A scratch folder per unit test (image files, journals), removed when the test lets go of it.

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

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
