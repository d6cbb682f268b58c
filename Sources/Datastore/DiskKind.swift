// How a virtual disk's blocks are provisioned; recorded in its descriptor.

/// How a disk's blocks are provisioned.
public enum DiskKind: UInt32, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Blocks are allocated (and zeroed) on first write.
    case thin = 1
    /// Every block is allocated and zeroed when the disk is created or grown.
    case eagerZeroed = 2

    public var description: String {
        switch self {
        case .thin: "thin"
        case .eagerZeroed: "eager-zeroed"
        }
    }

    /// JSON carries the name people read, not the on-disk number.
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let kind = Self.allCases.first(where: { $0.description == name }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown disk kind '\(name)'"))
        }
        self = kind
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
