// A private temporary directory per started target: config files, logs and
// LUN backing files live here and go away when the target stops.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

public struct ScratchDirectory: Sendable, Hashable {
    public let path: String

    /// Creates a fresh directory "vdiskd-PREFIX.XXXXXX" under $TMPDIR (or
    /// /tmp) with mkdtemp, so parallel tests and test runs never share one.
    public init(prefix: String) throws(TestSupportError) {
        let base = Self.baseDirectory
        var template = Array((base + "/" + Self.namePrefix + prefix + ".XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else {
            throw TestSupportError(.systemCallFailed, "mkdtemp in \(base) failed: \(String(cString: strerror(errno)))")
        }
        path = String(cString: created)
        _ = Self.abandonedDirectoriesSwept
        // Lets a later run tell this directory was abandoned if the test
        // process is killed before it can remove it.
        _ = FileManager.default.createFile(atPath: file(Self.ownerFile), contents: Data(String(getpid()).utf8))
    }

    private static let namePrefix = "vdiskd-"
    private static let ownerFile = "owner.pid"
    /// Holds the `-C` number of a tgtd started from this directory, so its
    /// socket files can be removed with the directory.
    public static let tgtControlNumberFile = "tgtd.control-number"

    /// Once per process: removes scratch directories (and their tgtd socket
    /// files) left by test processes that were killed; their daemons died
    /// with them through the parent-death signal, their files did not.
    private static let abandonedDirectoriesSwept: Bool = {
        let base = baseDirectory
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        for entry in entries where entry.hasPrefix(namePrefix) {
            let directory = ScratchDirectory(existing: base + "/" + entry)
            guard directory.isAbandoned else {
                continue
            }
            if let controlNumber = Int(TextFile.read(directory.file(tgtControlNumberFile)).trimmingCharacters(in: .whitespacesAndNewlines)) {
                TgtTarget.removeSocketFilesIfUnused(controlNumber: controlNumber)
            }
            directory.remove()
        }
        return true
    }()

    /// Its owner process is gone; or, if it was killed before recording
    /// itself, the directory is older than any test run would keep one.
    private var isAbandoned: Bool {
        let recorded = TextFile.read(file(Self.ownerFile)).trimmingCharacters(in: .whitespacesAndNewlines)
        if let owner = pid_t(recorded) {
            return owner != getpid() && kill(owner, 0) != 0 && errno == ESRCH
        }
        let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        return modified.map { $0.timeIntervalSinceNow < -3600 } ?? false
    }

    private static var baseDirectory: String {
        ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    }

    private init(existing path: String) {
        self.path = path
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
