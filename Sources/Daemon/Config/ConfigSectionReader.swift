// Reads typed keys out of one TOML table, recording every wrong type, bad value and unknown key.

import TOMLKit

/// One section (`[daemon]` or one `[[target]]` entry) being read. Each accessor marks its key as
/// known, so `finish()` can name whatever is left as an unknown key — usually a typo.
struct ConfigSectionReader {
    private let table: TOMLTable
    let section: String
    let index: Int?
    private let file: String
    private let locator: TOMLKeyLocator
    private var known: Set<String> = []
    private(set) var errors: [ConfigError] = []

    init(table: TOMLTable, section: String, index: Int?, file: String, locator: TOMLKeyLocator) {
        self.table = table
        self.section = section
        self.index = index
        self.file = file
        self.locator = locator
    }

    private func path(_ key: String?) -> String {
        let base = index.map { "\(section)[\($0)]" } ?? section
        guard let key else { return base }
        return base.isEmpty ? key : "\(base).\(key)"
    }

    /// Records a problem with `key` (or with the section itself when nil).
    mutating func fail(_ key: String?, _ message: String) {
        errors.append(ConfigError(file: file, line: locator.line(section: section, index: index, key: key), key: path(key), message: message))
    }

    /// Records a problem inside `key`'s value, at `place` (`filters[2].iops`), on `key`'s line.
    mutating func fail(_ key: String, at place: String, _ message: String) {
        errors.append(ConfigError(file: file, line: locator.line(section: section, index: index, key: key), key: path(place), message: message))
    }

    /// The raw value of `key` (marked known), for readers of structured values.
    mutating func rawValue(_ key: String) -> (any TOMLValueConvertible)? {
        value(key, required: false)
    }

    private mutating func value(_ key: String, required: Bool) -> (any TOMLValueConvertible)? {
        known.insert(key)
        guard let value = table[key] else {
            if required { fail(key, "missing required key") }
            return nil
        }
        return value
    }

    private mutating func typeMismatch(_ key: String, expected: String, found: TOMLType) {
        fail(key, "wrong type: expected \(expected), found \(Self.name(of: found))")
    }

    mutating func string(_ key: String, required: Bool = false) -> String? {
        guard let value = value(key, required: required) else { return nil }
        guard let text = value.string else {
            typeMismatch(key, expected: "a string", found: value.type)
            return nil
        }
        if required && text.isEmpty {
            fail(key, "must not be empty")
            return nil
        }
        return text
    }

    mutating func int(_ key: String, required: Bool = false, range: ClosedRange<Int>) -> Int? {
        guard let value = value(key, required: required) else { return nil }
        guard value.type == .int, let number = value.int else {
            typeMismatch(key, expected: "an integer", found: value.type)
            return nil
        }
        guard range.contains(number) else {
            fail(key, "\(number) is out of range: expected \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return number
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let value = value(key, required: false) else { return nil }
        guard let flag = value.bool else {
            typeMismatch(key, expected: "true or false", found: value.type)
            return nil
        }
        return flag
    }

    mutating func stringArray(_ key: String, required: Bool = false) -> [String]? {
        guard let value = value(key, required: required) else { return nil }
        guard let array = value.array else {
            typeMismatch(key, expected: "an array of strings", found: value.type)
            return nil
        }
        var result: [String] = []
        for element in array {
            guard let text = element.string else {
                typeMismatch(key, expected: "an array of strings", found: element.type)
                return nil
            }
            result.append(text)
        }
        return result
    }

    /// A string that must be one of `choices`.
    mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, as type: T.Type) -> T? where T.RawValue == String {
        guard let text = string(key) else { return nil }
        guard let parsed = T(rawValue: text) else {
            let names = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            fail(key, "\"\(text)\" is not one of \(names)")
            return nil
        }
        return parsed
    }

    /// A sub-table such as `[daemon]`; nil when absent.
    mutating func table(_ key: String) -> TOMLTable? {
        guard let value = value(key, required: false) else { return nil }
        guard let sub = value.table else {
            typeMismatch(key, expected: "a table ([\(key)])", found: value.type)
            return nil
        }
        return sub
    }

    /// An array of tables such as `[[target]]`; empty when absent.
    mutating func tableArray(_ key: String) -> [TOMLTable] {
        guard let value = value(key, required: false) else { return [] }
        guard let array = value.array else {
            typeMismatch(key, expected: "an array of tables ([[\(key)]])", found: value.type)
            return []
        }
        var tables: [TOMLTable] = []
        for element in array {
            guard let sub = element.table else {
                typeMismatch(key, expected: "an array of tables ([[\(key)]])", found: element.type)
                return []
            }
            tables.append(sub)
        }
        return tables
    }

    /// TOML's own names for its types, as a person writing the file knows them.
    private static func name(of type: TOMLType) -> String {
        switch type {
        case .table: "table"
        case .array: "array"
        case .string: "string"
        case .int: "integer"
        case .double: "float"
        case .bool: "boolean"
        case .date: "date"
        case .time: "time"
        case .dateTime: "date-time"
        }
    }

    /// Names every key no accessor asked for.
    mutating func finish() {
        for key in table.keys.sorted() where !known.contains(key) {
            fail(key, "unknown key")
        }
    }
}
