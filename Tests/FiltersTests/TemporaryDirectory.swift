// A scratch folder per test, removed when the test is done with it.

import Foundation

/// A fresh directory under the system temporary directory.
final class TemporaryDirectory {
    let path: String

    init(_ label: String = "vdisk") {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/\(label)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
