// The error every SCSI response parser throws: which structure, what was wrong,
// and for short input how many bytes were needed against how many arrived.

/// A response, page or descriptor that could not be decoded.
///
/// When `code` is `.truncated`, `neededBytes` is the length the structure
/// announced (or the smallest length that holds its fixed fields); a caller that
/// truncated the data with a small allocation length can ask again with that size.
public struct SCSIParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case truncated
            case invalidField
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Fewer bytes arrived than the structure needs.
        public static let truncated = Code(.truncated)
        /// A field holds a value the structure does not allow.
        public static let invalidField = Code(.invalidField)

        public var description: String {
            switch base {
            case .truncated: "truncated"
            case .invalidField: "invalid field"
            }
        }
    }

    public var code: Code
    /// The structure being decoded, e.g. "READ CAPACITY(16) data".
    public var structure: String
    public var message: String
    /// For `.truncated`: how many bytes the structure needs.
    public var neededBytes: Int?
    /// How many bytes were given.
    public var availableBytes: Int

    public init(_ code: Code, structure: String, message: String, neededBytes: Int? = nil, availableBytes: Int) {
        self.code = code
        self.structure = structure
        self.message = message
        self.neededBytes = neededBytes
        self.availableBytes = availableBytes
    }

    static func truncated(_ structure: String, needed: Int, had: Int) -> SCSIParseError {
        SCSIParseError(
            .truncated,
            structure: structure,
            message: "needs \(needed) bytes but only \(had) arrived",
            neededBytes: needed,
            availableBytes: had
        )
    }

    static func invalid(_ structure: String, _ message: String, had: Int) -> SCSIParseError {
        SCSIParseError(.invalidField, structure: structure, message: message, availableBytes: had)
    }

    public var description: String { "cannot parse \(structure): \(message)" }
}
