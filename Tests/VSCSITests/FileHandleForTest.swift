// Grows an image file behind a device's back, as a datastore grow would.

import Foundation

struct FileHandleForTest {
    let path: String

    init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CocoaError(.fileNoSuchFile)
        }
        self.path = path
    }

    func grow(to byteCount: UInt64) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.truncate(atOffset: byteCount)
    }
}
