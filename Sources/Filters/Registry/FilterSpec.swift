// A filter as a config names it: which one, with what parameters.

/// One entry of a disk's `filters = [...]`: plain values only, so a chain can be written to a
/// config file, sent over the control socket and persisted as it is.
public struct FilterSpec: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var parameters: FilterParameters

    public init(name: String, parameters: FilterParameters = FilterParameters()) {
        self.name = name
        self.parameters = parameters
    }

    public var description: String {
        let parameters = parameters.sorted.map { "\($0.name) = \($0.value)" }
        return parameters.isEmpty ? name : "\(name)(\(parameters.joined(separator: ", ")))"
    }
}
