// Executables of this package that tests run as child processes (vdiskctl, vdiskd):
// found beside the test bundle, else in the package's .build/debug.

import Foundation

public enum BuiltExecutable {
    /// The path of the product `name` built with the tests; the environment variable
    /// `variable` (VDISKCTL, say) overrides the search.
    public static func path(_ name: String, overriddenBy variable: String) throws(TestSupportError) -> String {
        if let path = ProcessInfo.processInfo.environment[variable] { return path }
        var candidates: [String] = []
        var bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(bundle.appendingPathComponent(name).path)
            bundle.deleteLastPathComponent()
        }
        // This file is Tests/TestSupport/BuiltExecutable.swift: three levels below the package.
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(package.appendingPathComponent(".build/debug/\(name)").path)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestSupportError(.toolMissing, "no \(name) binary found (run `swift build --build-tests` first); looked in \(candidates)")
        }
        return found
    }
}
