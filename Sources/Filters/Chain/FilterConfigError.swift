// A filter chain or a filter's parameters that cannot be used, said so a person can fix it.

/// Why a chain or a parameter was refused. `index` is the filter's place in the list as
/// written (1-based), set by whoever checks a whole chain; the daemon turns it into a config
/// key (`disk[2].filters[1].iops`) or a JSON-RPC error. The chain in force is never changed
/// by a request that produced one of these.
public struct FilterConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        public static let unknownFilter = Code("unknown filter")
        public static let unknownParameter = Code("unknown parameter")
        public static let badValue = Code("bad value")
        public static let order = Code("wrong order")
        public static let duplicateCategory = Code("two filters of one category")
        public static let notChangeable = Code("not changeable in place")
        public static let exceedsCapacity = Code("more than the device can give")
        public static let notFound = Code("not in the chain")
        public static let attachFailed = Code("could not attach")

        public var description: String { name }
    }

    public var code: Code
    public var filter: String
    public var parameter: String?
    public var index: Int?
    public var message: String

    public init(_ code: Code, filter: String, parameter: String?, index: Int? = nil, _ message: String) {
        self.code = code
        self.filter = filter
        self.parameter = parameter
        self.index = index
        self.message = message
    }

    /// `filters[2].iops`, `filters[1]`, or `filters` — where in a chain's list this points.
    public var location: String {
        var text = "filters"
        if let index { text += "[\(index)]" }
        if let parameter { text += ".\(parameter)" }
        return text
    }

    public var description: String { "\(location): \(message)" }
}
