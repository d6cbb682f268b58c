// The target's side of the shared LUN: its backing file, read from the host through the target
// container's tree. A snapshot keeps a hash of every 4 KiB unit and the datastore layout
// (FORMAT.md) found in it, so a test can say which units changed between two moments, and whose
// they are, without asking any host.

import Foundation
import TestSupport

struct LUNSnapshot {
    static let unit = 4096

    let hashes: [Int]
    /// Heartbeat slot units by the host name they carry.
    let slots: [String: Int]
    /// Each disk's allocated data units (direct pointers: disks up to 256 file blocks), by name.
    let diskUnits: [String: [Int]]
    private let regions: Regions

    /// Where the datastore's regions start, in units.
    private struct Regions {
        var heartbeat = 0, journal = 0, descriptor = 0, cluster = 0, data = 0
    }

    init(path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        let unit = Self.unit
        hashes = data.withUnsafeBytes { raw in
            stride(from: 0, to: raw.count, by: unit).map { offset in
                var hasher = Hasher()
                hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: raw[offset..<min(offset + unit, raw.count)]))
                return hasher.finalize()
            }
        }
        func integer<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> Int {
            data.withUnsafeBytes { Int(T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self))) }
        }
        func text(_ offset: Int, _ length: Int) -> String {
            String(decoding: data[offset..<offset + length].prefix { $0 != 0 }, as: UTF8.self)
        }
        guard data.count >= unit, text(0, 8) == "VDSKVOL1" else {
            throw TestSupportError(.commandFailed, "\(path) holds no datastore (no VDSKVOL1 header)")
        }
        let fileBlock = integer(104, UInt32.self), maxHosts = integer(112, UInt32.self), maxDisks = integer(116, UInt32.self)
        regions = Regions(heartbeat: integer(128, UInt64.self) / unit, journal: integer(136, UInt64.self) / unit,
                          descriptor: integer(144, UInt64.self) / unit, cluster: integer(152, UInt64.self) / unit,
                          data: integer(160, UInt64.self) / unit)
        var slots: [String: Int] = [:]
        for slot in 0..<maxHosts {
            let offset = (regions.heartbeat + slot) * unit
            if text(offset, 4) == "VDHB", integer(offset + 8, UInt32.self) == 1 {
                slots[text(offset + 32, 64)] = regions.heartbeat + slot
            }
        }
        var disks: [String: [Int]] = [:]
        for disk in 0..<maxDisks {
            let offset = (regions.descriptor + 2 * disk + 1) * unit
            guard text(offset, 4) == "VDFD", integer(offset + 4, UInt32.self) == 1 else {
                continue
            }
            let name = text(offset + 32, integer(offset + 28, UInt32.self))
            disks[name] = (0..<256).flatMap { index -> Range<Int> in
                let block = integer(offset + 384 + 8 * index, UInt64.self)
                return block == 0 ? 0..<0 : (block * fileBlock / unit)..<((block + 1) * fileBlock / unit)
            }
        }
        self.slots = slots
        diskUnits = disks
    }

    /// Units whose content differs from `earlier`, in order.
    func changed(since earlier: LUNSnapshot, among units: [Int]? = nil) -> [Int] {
        (units ?? Array(hashes.indices)).filter { $0 >= earlier.hashes.count || $0 >= hashes.count || hashes[$0] != earlier.hashes[$0] }
    }

    /// What unit `index` holds, for failure messages.
    func describe(_ index: Int) -> String {
        if let host = slots.first(where: { $0.value == index })?.key {
            return "unit \(index) (heartbeat of \(host))"
        }
        if let disk = diskUnits.first(where: { $0.value.contains(index) })?.key {
            return "unit \(index) (data of \(disk))"
        }
        let region = index == 0 ? "header"
            : index < regions.journal ? "heartbeats"
            : index < regions.descriptor ? "journals"
            : index < regions.cluster ? "locks and descriptors"
            : index < regions.data ? "cluster locks and bitmaps"
            : "data"
        return "unit \(index) (\(region))"
    }
}
