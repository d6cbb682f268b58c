// A scratch directory per test for image files, removed afterwards.

import Foundation

final class TemporaryDirectory: Sendable {
    let path: String

    init(_ label: String = "vscsi") {
        path = "\(FileManager.default.temporaryDirectory.path)/\(label)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
