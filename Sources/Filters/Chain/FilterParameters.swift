// A filter's parameters by name, and the typed reading every filter factory does on them.

/// Named plain values. Sorted by name when listed, so a chain prints and compares the same
/// whatever order it was written in.
public struct FilterParameters: Sendable, Hashable {
    public private(set) var values: [String: FilterParameterValue]

    public init(_ values: [String: FilterParameterValue] = [:]) {
        self.values = values
    }

    public subscript(name: String) -> FilterParameterValue? {
        get { values[name] }
        set { values[name] = newValue }
    }

    public var sorted: [(name: String, value: FilterParameterValue)] {
        values.keys.sorted().map { ($0, values[$0]!) }
    }

    /// These parameters with `changes` laid over them; a `nil`-free merge used by a live change.
    public func merging(_ changes: FilterParameters) -> FilterParameters {
        FilterParameters(values.merging(changes.values) { _, new in new })
    }
}

/// Reads typed parameters for one filter, collecting every problem (wrong type, out of range,
/// unknown name) so a config or a control request hears of all of them at once.
public struct FilterParameterReader {
    private let parameters: FilterParameters
    private let filter: String
    private var known: Set<String> = []
    public private(set) var errors: [FilterConfigError] = []

    public init(_ parameters: FilterParameters, filter: String) {
        self.parameters = parameters
        self.filter = filter
    }

    public mutating func fail(_ parameter: String?, _ message: String, code: FilterConfigError.Code = .badValue) {
        errors.append(FilterConfigError(code, filter: filter, parameter: parameter, message))
    }

    /// A positive number (integer or float) with no upper bound but `maximum`; zero and negative
    /// values are refused: a limit of zero would stop the disk, so "no limit" is leaving it out.
    public mutating func positive(_ name: String, maximum: Double = 1e15) -> Double? {
        known.insert(name)
        guard let value = parameters[name] else { return nil }
        guard let number = value.number else {
            fail(name, "must be a number, not \(value)")
            return nil
        }
        guard number > 0, number.isFinite else {
            fail(name, "must be greater than 0, not \(value) (leave it out for no limit)")
            return nil
        }
        guard number <= maximum else {
            fail(name, "\(value) is larger than the most allowed, \(Int(maximum))")
            return nil
        }
        return number
    }

    /// A non-negative number (a reservation may be zero).
    public mutating func nonNegative(_ name: String, maximum: Double = 1e15) -> Double? {
        known.insert(name)
        guard let value = parameters[name] else { return nil }
        guard let number = value.number, number.isFinite else {
            fail(name, "must be a number, not \(value)")
            return nil
        }
        guard number >= 0, number <= maximum else {
            fail(name, "\(value) is out of range: expected 0...\(Int(maximum))")
            return nil
        }
        return number
    }

    public mutating func integer(_ name: String, range: ClosedRange<Int>) -> Int? {
        known.insert(name)
        guard let value = parameters[name] else { return nil }
        guard case .int(let number) = value else {
            fail(name, "must be an integer, not \(value)")
            return nil
        }
        guard range.contains(number) else {
            fail(name, "\(number) is out of range: expected \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return number
    }

    public mutating func bool(_ name: String) -> Bool? {
        known.insert(name)
        guard let value = parameters[name] else { return nil }
        guard case .bool(let flag) = value else {
            fail(name, "must be true or false, not \(value)")
            return nil
        }
        return flag
    }

    /// Any string.
    public mutating func text(_ name: String) -> String? {
        known.insert(name)
        guard let value = parameters[name] else { return nil }
        guard case .string(let text) = value else {
            fail(name, "must be a string, not \(value)")
            return nil
        }
        return text
    }

    public mutating func string(_ name: String, choices: [String]) -> String? {
        known.insert(name)
        guard let value = parameters[name] else { return nil }
        guard case .string(let text) = value, choices.contains(text) else {
            fail(name, "must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", ")), not \(value)")
            return nil
        }
        return text
    }

    /// Names every parameter no accessor asked for, listing the ones the filter knows.
    public mutating func finish() {
        for name in parameters.values.keys.sorted() where !known.contains(name) {
            fail(name, "the \(filter) filter has no parameter \"\(name)\" (it has \(known.sorted().joined(separator: ", ")))", code: .unknownParameter)
        }
    }
}
