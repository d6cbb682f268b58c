// The inspection filter's cumulative histograms as a sidecar blob, so vscsiStats-style counts
// outlive a daemon restart and a takeover by another host.

/// Layout (little-endian): magic `VDIH`, version 1 (UInt32), the number of histograms
/// (UInt32), then per histogram its kind and class as length-prefixed (UInt8) ASCII names,
/// its bucket count (UInt32) and the counts (UInt64 each). Named, not positional, so a blob
/// from another version is matched histogram by histogram or refused, never misread.
enum InspectionSidecar {
    static let name = "inspection/histograms"
    static let magic: [UInt8] = Array("VDIH".utf8)
    static let version: UInt32 = 1

    static func encode(_ histograms: [HistogramKind: [IOClass: IOHistogram]]) -> [UInt8] {
        var bytes = magic
        append(version, to: &bytes)
        append(UInt32(HistogramKind.allCases.count * IOClass.allCases.count), to: &bytes)
        for kind in HistogramKind.allCases {
            for ioClass in IOClass.allCases {
                let histogram = histograms[kind]?[ioClass] ?? IOHistogram(kind)
                for text in [kind.rawValue, ioClass.rawValue] {
                    bytes.append(UInt8(text.utf8.count))
                    bytes += Array(text.utf8)
                }
                append(UInt32(histogram.counts.count), to: &bytes)
                for count in histogram.counts { append(count, to: &bytes) }
            }
        }
        return bytes
    }

    /// Every histogram the blob holds; throws naming what does not fit this version.
    static func decode(_ bytes: [UInt8]) throws(InspectionSidecarError) -> [HistogramKind: [IOClass: IOHistogram]] {
        var reader = Reader(bytes: bytes)
        guard try reader.take(4) == magic else { throw InspectionSidecarError("it does not start with VDIH") }
        let version = try reader.integer(UInt32.self)
        guard version == Self.version else { throw InspectionSidecarError("it is version \(version); this filter reads version \(Self.version)") }
        let count = try reader.integer(UInt32.self)
        guard count == UInt32(HistogramKind.allCases.count * IOClass.allCases.count) else {
            throw InspectionSidecarError("it holds \(count) histograms, not \(HistogramKind.allCases.count * IOClass.allCases.count)")
        }
        var result: [HistogramKind: [IOClass: IOHistogram]] = [:]
        for _ in 0..<count {
            let kindName = String(decoding: try reader.take(Int(try reader.integer(UInt8.self))), as: UTF8.self)
            let className = String(decoding: try reader.take(Int(try reader.integer(UInt8.self))), as: UTF8.self)
            guard let kind = HistogramKind(rawValue: kindName), let ioClass = IOClass(rawValue: className) else {
                throw InspectionSidecarError("it names an unknown histogram \(kindName)/\(className)")
            }
            guard result[kind]?[ioClass] == nil else { throw InspectionSidecarError("it holds \(kindName)/\(className) twice") }
            let buckets = Int(try reader.integer(UInt32.self))
            guard buckets == kind.edges.count + 1 else {
                throw InspectionSidecarError("its \(kindName)/\(className) histogram has \(buckets) buckets; this version has \(kind.edges.count + 1)")
            }
            var counts: [UInt64] = []
            for _ in 0..<buckets { counts.append(try reader.integer(UInt64.self)) }
            result[kind, default: [:]][ioClass] = IOHistogram(kind, counts: counts)
        }
        guard reader.offset == bytes.count else { throw InspectionSidecarError("it has \(bytes.count - reader.offset) bytes after its last histogram") }
        return result
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func take(_ count: Int) throws(InspectionSidecarError) -> [UInt8] {
            guard count <= bytes.count - offset else { throw InspectionSidecarError("it is cut short at byte \(bytes.count)") }
            defer { offset += count }
            return Array(bytes[offset..<offset + count])
        }

        mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws(InspectionSidecarError) -> T {
            let raw = try take(MemoryLayout<T>.size)
            var value: T = 0
            for (index, byte) in raw.enumerated() { value |= T(byte) << (8 * index) }
            return value
        }
    }
}

/// Why a saved histograms blob cannot be used.
struct InspectionSidecarError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
