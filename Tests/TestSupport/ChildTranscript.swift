// The transcript of our own programs' stderr across a test run: every vdiskd, vdiskctl and
// `export serve` a test starts writes its stderr to a file of its own, and when the test is
// done with it that file is appended here, so Scripts/check-secrets can grep all of it for
// the test secrets after the run. Scripts/test names the file in VDISKD_TEST_TRANSCRIPT; with
// the variable unset (a plain `swift test`) nothing is kept.

import Foundation

#if canImport(Glibc)
import Glibc
#endif

public enum ChildTranscript {
    public static let variable = "VDISKD_TEST_TRANSCRIPT"

    /// The programs whose output is ours to check.
    static let programs: Set<String> = ["vdiskd", "vdiskctl"]

    /// Whether `commandLine` runs one of our programs, directly or through a wrapper
    /// (setpriv, runuser, prlimit).
    public static func isOurs(_ commandLine: [String]) -> Bool {
        commandLine.contains { programs.contains(($0 as NSString).lastPathComponent) }
    }

    /// Appends the file at `path` (a child's stderr), under a header naming `commandLine`'s
    /// program, when the run keeps a transcript and the program is ours. One `write` with
    /// O_APPEND per file, so parallel tests' pieces do not interleave.
    public static func append(fileAt path: String, of commandLine: [String]) {
        guard let transcript = ProcessInfo.processInfo.environment[variable], !transcript.isEmpty, isOurs(commandLine),
              let contents = FileManager.default.contents(atPath: path), !contents.isEmpty
        else { return }
        let program = commandLine.first { programs.contains(($0 as NSString).lastPathComponent) } ?? "?"
        var chunk = Data("==== \((program as NSString).lastPathComponent) stderr (\(path))\n".utf8)
        chunk.append(contents)
        if contents.last != UInt8(ascii: "\n") { chunk.append(UInt8(ascii: "\n")) }
        let descriptor = open(transcript, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        chunk.withUnsafeBytes { bytes in
            var written = 0
            // Bounded: each turn writes at least one byte or stops.
            while written < bytes.count {
                let count = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
                guard count > 0 else { return }
                written += count
            }
        }
    }
}
