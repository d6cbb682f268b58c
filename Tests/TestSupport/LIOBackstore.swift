// How LIO stores a LUN: both sit on a virtio disk whose host side is a sparse file in the
// target's scratch directory.

public enum LIOBackstore: String, Hashable, Sendable {
    /// target_core_iblock on the block device: bios straight to the disk, discards reach the
    /// host file as holes. The default.
    case iblock
    /// target_core_file on the block device with direct I/O (`fd_async_io=1`). Buffered fileio
    /// is not offered: it discards below the guest's page cache and then reads stale data.
    case fileio

    /// The configfs HBA directory under core/.
    var hba: String {
        "\(rawValue)_0"
    }

    /// The `control` line that binds a backstore to `device`.
    func control(device: String) -> String {
        switch self {
        case .iblock: "udev_path=\(device)"
        case .fileio: "fd_dev_name=\(device),fd_async_io=1"
        }
    }
}
