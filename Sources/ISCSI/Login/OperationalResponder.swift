// How either side of a login answers a key the other side offered first (RFC 7143 §6.2):
// the key's result function applied to the offer and our own value.

/// A negotiating side that knows its own value for every key it may be asked about.
protocol OperationalResponder {
    /// Our value for a numerical key.
    func ourNumber(for key: OperationalKey) -> UInt64
    /// Our value for a boolean key.
    func ourBoolean(for key: OperationalKey) -> Bool
    /// The values of a list key we accept, in our order of preference.
    func acceptable(for key: OperationalKey) -> [String]
}

extension OperationalResponder {
    /// Our answer to `key`, offered as `value`: the combined value, or Reject when the
    /// offer is outside the key's range or grammar or shares no value with ours.
    func respond(_ key: OperationalKey, to value: String) -> String {
        switch key.rule {
        case .numerical(let range, let function):
            guard let theirs = TextValue.number(value), range.contains(theirs) else {
                return TextValue.Special.reject.rawValue
            }
            return String(function.combine(theirs, ourNumber(for: key)))
        case .boolean(let function):
            guard let theirs = TextValue.boolean(value) else { return TextValue.Special.reject.rawValue }
            return TextValue.boolean(function.combine(theirs, ourBoolean(for: key)))
        case .list:
            guard let theirs = TextValue.list(value), let choice = theirs.first(where: acceptable(for: key).contains)
            else {
                return TextValue.Special.reject.rawValue
            }
            return choice
        case .declarative, .security, .obsolete:
            preconditionFailure("\(key.rawValue) is never answered by value")
        }
    }
}
