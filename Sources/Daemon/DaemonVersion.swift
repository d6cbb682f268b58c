// The daemon's version string, reported by `status` and `--version`.

/// Kept in step with `VDiskVersion` in VDiskCLI; the daemon cannot import the CLI.
public enum DaemonVersion {
    public static let current = "0.1.0"
}
