// A program the harness runs (target daemons, libiscsi clients), found on PATH
// and named with the Debian package that provides it.

import Foundation

public struct ExternalTool: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let debianPackage: String

    public init(name: String, debianPackage: String) {
        self.name = name
        self.debianPackage = debianPackage
    }

    public static let tgtd = ExternalTool(name: "tgtd", debianPackage: "tgt")
    public static let tgtadm = ExternalTool(name: "tgtadm", debianPackage: "tgt")
    public static let istgt = ExternalTool(name: "istgt", debianPackage: "istgt")
    public static let iscsiInq = ExternalTool(name: "iscsi-inq", debianPackage: "libiscsi-bin")
    public static let iscsiLs = ExternalTool(name: "iscsi-ls", debianPackage: "libiscsi-bin")
    public static let iscsiReadCapacity16 = ExternalTool(name: "iscsi-readcapacity16", debianPackage: "libiscsi-bin")
    public static let iscsiPerf = ExternalTool(name: "iscsi-perf", debianPackage: "libiscsi-bin")
    public static let qemuImg = ExternalTool(name: "qemu-img", debianPackage: "qemu-utils")
    public static let qemuIo = ExternalTool(name: "qemu-io", debianPackage: "qemu-utils")
    public static let setpriv = ExternalTool(name: "setpriv", debianPackage: "util-linux")
    public static let qemuSystem = ExternalTool(name: "qemu-system-x86_64", debianPackage: "qemu-system-x86")
    public static let busybox = ExternalTool(name: "busybox", debianPackage: "busybox-static")
    public static let cpio = ExternalTool(name: "cpio", debianPackage: "cpio")
    public static let modprobe = ExternalTool(name: "modprobe", debianPackage: "kmod")
    public static let depmod = ExternalTool(name: "depmod", debianPackage: "kmod")
    public static let dpkgDeb = ExternalTool(name: "dpkg-deb", debianPackage: "dpkg")
    public static let aptGet = ExternalTool(name: "apt-get", debianPackage: "apt")
    public static let aptCache = ExternalTool(name: "apt-cache", debianPackage: "apt")
    public static let bash = ExternalTool(name: "bash", debianPackage: "bash")
    public static let ip = ExternalTool(name: "ip", debianPackage: "iproute2")
    public static let ss = ExternalTool(name: "ss", debianPackage: "iproute2")

    public var description: String {
        name
    }

    /// Daemons live in sbin, which a non-login shell's PATH (CI, sudo -E) may
    /// leave out; those standard directories are searched after PATH.
    private static let systemDirectories = ["/usr/local/sbin", "/usr/sbin", "/sbin"]

    /// The absolute path of the program, or an error saying how to install it.
    public func path() throws(TestSupportError) -> String {
        let pathVariable = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = pathVariable.split(separator: ":").map(String.init) + Self.systemDirectories
        for directory in directories where !directory.isEmpty {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        throw TestSupportError(
            .toolMissing,
            "\(name) was not found on PATH; install the Debian package \(debianPackage) (Scripts/test does this through Scripts/install-deps)"
        )
    }
}
