// Turns a DATASTORE argument into a block device: the one place that knows which kinds
// of datastore location exist: local image files and iscsi:// LUN URLs.

import BlockDevice
import Foundation
import ISCSI
import ISCSIAddress

enum BlockDeviceLocator {
    /// The CHAP secret of an iscsi:// URL that names a user and no password.
    static let chapSecretVariable = "VDISK_CHAP_SECRET"

    /// Opens the device behind `spec`. A local path must name an existing image file.
    static func open(_ spec: String, readOnly: Bool) async throws -> any BlockDevice {
        if spec.lowercased().hasPrefix("iscsi://") {
            var url: ISCSITargetURL
            do {
                url = try ISCSITargetURL(parsing: spec)
                _ = try url.chapOffer()
            } catch let error as ISCSIAddressError {
                throw DatastoreCommandError("\(error)", exitCode: DatastoreCommandError.usage)
            } catch let error as ISCSIError {
                throw DatastoreCommandError(error.message, exitCode: DatastoreCommandError.usage)
            }
            // A password in the URL shows in `ps` and shell history: the environment keeps it out.
            let environment = ProcessInfo.processInfo.environment
            if url.user != nil, url.password == nil, let secret = environment[chapSecretVariable], !secret.isEmpty {
                url.password = secret
            }
            // The LUN is shared with other hosts; read-only access is enforced by the datastore's locks.
            return try await ISCSILUN.connect(url)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: spec, isDirectory: &isDirectory) else {
            throw DatastoreCommandError("datastore image \(spec) does not exist (create one with `datastore format --image-size`)", exitCode: DatastoreCommandError.refused)
        }
        guard !isDirectory.boolValue else {
            throw DatastoreCommandError("datastore image \(spec) is a directory, not an image file", exitCode: DatastoreCommandError.usage)
        }
        return try FileBlockDevice(path: spec, readOnly: readOnly)
    }

    /// Creates a sparse image of `size` bytes for `format`; refuses to overwrite a file.
    static func createImage(_ spec: String, size: UInt64) async throws {
        guard !spec.lowercased().hasPrefix("iscsi://") else {
            throw DatastoreCommandError("--image-size applies to image files only, not to \(spec)", exitCode: DatastoreCommandError.usage)
        }
        guard !FileManager.default.fileExists(atPath: spec) else {
            throw DatastoreCommandError("image file \(spec) already exists; drop --image-size to format it in place", exitCode: DatastoreCommandError.refused)
        }
        guard size % 4096 == 0 else {
            throw DatastoreCommandError("--image-size \(size) must be a multiple of 4096 bytes", exitCode: DatastoreCommandError.usage)
        }
        // The caller opens it again through open(), as any other image.
        try await FileBlockDevice.create(path: spec, byteCount: size).close()
    }
}
