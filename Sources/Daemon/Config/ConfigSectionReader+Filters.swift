// Reads a disk's `filters = [...]`: an array of inline tables, each a filter's name and its
// parameters, checked by the Filters registry with every problem located.

import Filters
import TOMLKit

extension ConfigSectionReader {
    /// The chain as written, or nil when the key is absent or any entry is wrong (every problem
    /// is recorded, located as `disk[1].filters[2].iops`).
    mutating func filterSpecs(_ key: String) -> [FilterSpec]? {
        guard let value = rawValue(key) else { return nil }
        guard let array = value.array else {
            fail(key, "wrong type: expected an array of tables such as [{ name = \"ioControl\", iops = 500 }]")
            return nil
        }
        var specs: [FilterSpec] = []
        var broken = false
        for (offset, element) in array.enumerated() {
            let place = "\(key)[\(offset + 1)]"
            guard let table = element.table else {
                fail(key, at: place, "must be a table such as { name = \"inspection\" }")
                broken = true
                continue
            }
            guard let name = table["name"]?.string else {
                fail(key, at: "\(place).name", "missing the filter's name (filters: \(FilterRegistry.names.joined(separator: ", ")))")
                broken = true
                continue
            }
            var parameters = FilterParameters()
            for parameter in table.keys.sorted() where parameter != "name" {
                guard let raw = table[parameter], let converted = Self.parameterValue(raw) else {
                    fail(key, at: "\(place).\(parameter)", "must be a number, a string or true/false")
                    broken = true
                    continue
                }
                parameters[parameter] = converted
            }
            specs.append(FilterSpec(name: name, parameters: parameters))
        }
        guard !broken else { return nil }
        let errors = FilterRegistry.check(specs)
        for error in errors {
            fail(key, at: error.location.replacingFirst("filters", with: key), error.message)
        }
        return errors.isEmpty ? specs : nil
    }

    static func parameterValue(_ value: any TOMLValueConvertible) -> FilterParameterValue? {
        switch value.type {
        case .int: value.int.map { .int($0) }
        case .double: value.double.map { .double($0) }
        case .string: value.string.map { .string($0) }
        case .bool: value.bool.map { .bool($0) }
        case .table, .array, .date, .time, .dateTime: nil
        }
    }
}

extension String {
    fileprivate func replacingFirst(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
