// A private temporary directory per started target: config files, logs and
// LUN backing files live here and go away when the target stops.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

public struct ScratchDirectory: Sendable, Hashable {
    public let path: String

    /// Creates a fresh directory under $TMPDIR (or /tmp) with mkdtemp, so
    /// parallel tests and parallel test runs never share one.
    public init(prefix: String) throws(TestSupportError) {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((base + "/" + prefix + ".XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else {
            throw TestSupportError(.systemCallFailed, "mkdtemp in \(base) failed: \(String(cString: strerror(errno)))")
        }
        path = String(cString: created)
    }

    public func file(_ name: String) -> String {
        path + "/" + name
    }

    /// Creates (or truncates) a sparse file of `size` bytes: no blocks are
    /// allocated, so large LUNs cost no disk space until written.
    public func createSparseFile(_ name: String, size: UInt64) throws(TestSupportError) -> String {
        let filePath = file(name)
        let descriptor = open(filePath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw TestSupportError(.systemCallFailed, "cannot create \(filePath): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard ftruncate(descriptor, off_t(size)) == 0 else {
            throw TestSupportError(.systemCallFailed, "cannot size \(filePath) to \(size) bytes: \(String(cString: strerror(errno)))")
        }
        return filePath
    }

    public func write(_ text: String, to name: String) throws(TestSupportError) -> String {
        let filePath = file(name)
        do {
            try text.write(toFile: filePath, atomically: true, encoding: .utf8)
        } catch {
            throw TestSupportError(.systemCallFailed, "cannot write \(filePath): \(error)")
        }
        return filePath
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
