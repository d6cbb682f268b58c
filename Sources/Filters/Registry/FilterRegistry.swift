// The built-in filters by name: checks a chain as written and builds it for a disk.

/// Knows every filter a config may name. `check` validates a list without building anything
/// (the config loader's use); `build` makes the filters for one disk.
public enum FilterRegistry {
    /// The names a config may use, with their categories.
    public static let categories: [String: FilterCategory] = [
        "ioControl": .ioControl,
        "inspection": .inspection,
        "faultInjection": .cache,
    ]

    public static var names: [String] { categories.keys.sorted() }

    /// The category a spec takes (a fault-injection filter says which in its parameters).
    static func category(of spec: FilterSpec) throws(FilterConfigError) -> FilterCategory {
        guard let category = categories[spec.name] else {
            throw FilterConfigError(.unknownFilter, filter: spec.name, parameter: nil, "there is no filter named \"\(spec.name)\" (filters: \(names.joined(separator: ", ")))")
        }
        if spec.name == "faultInjection", case .string(let text)? = spec.parameters["category"], let chosen = FilterCategory(rawValue: text) {
            return chosen
        }
        return category
    }

    /// Every problem with `specs` as written: unknown names, bad parameters (each with its
    /// index), then order and one-per-category. Checks that need the running host (does a
    /// reservation fit the device?) happen in `build`.
    public static func check(_ specs: [FilterSpec]) -> [FilterConfigError] {
        var errors: [FilterConfigError] = []
        var categories: [FilterCategory] = []
        for (offset, spec) in specs.enumerated() {
            do throws(FilterConfigError) {
                categories.append(try category(of: spec))
                for var error in parameterErrors(spec) {
                    error.index = offset + 1
                    errors.append(error)
                }
            } catch {
                var located = error
                located.index = offset + 1
                errors.append(located)
            }
        }
        if errors.isEmpty {
            do throws(FilterConfigError) {
                try FilterChain.validate(categories, names: specs.map(\.name))
            } catch {
                errors.append(error)
            }
        }
        return errors
    }

    private static func parameterErrors(_ spec: FilterSpec) -> [FilterConfigError] {
        switch spec.name {
        case "ioControl":
            var reader = FilterParameterReader(spec.parameters, filter: spec.name)
            _ = IOControlSettings(spec.parameters, reader: &reader)
            reader.finish()
            return reader.errors
        case "inspection":
            do throws(FilterConfigError) {
                _ = try InspectionFilter.read(spec.parameters)
                return []
            } catch {
                return [error]
            }
        default:
            do throws(FilterConfigError) {
                _ = try FaultInjectionFilter(parameters: spec.parameters)
                return []
            } catch {
                return [error]
            }
        }
    }

    /// Builds the chain for one disk. Throws the first problem, located; nothing is registered
    /// with the host when it throws (filters built before the failure are detached).
    public static func build(_ specs: [FilterSpec], context: FilterContext) async throws(FilterConfigError) -> FilterChain {
        if let first = check(specs).first { throw first }
        var filters: [any IOFilter] = []
        for (offset, spec) in specs.enumerated() {
            do throws(FilterConfigError) {
                filters.append(try make(spec, context: context))
            } catch {
                for filter in filters { try? await filter.detach() }
                var located = error
                located.index = offset + 1
                throw located
            }
        }
        for (offset, filter) in filters.enumerated() {
            do {
                try await filter.attach()
            } catch {
                for built in filters { try? await built.detach() }
                throw FilterConfigError(.attachFailed, filter: filter.name, parameter: nil, index: offset + 1, "the \(filter.name) filter could not attach to disk \(context.disk): \(error)")
            }
        }
        return try FilterChain(filters)
    }

    /// One filter for one disk.
    public static func make(_ spec: FilterSpec, context: FilterContext) throws(FilterConfigError) -> any IOFilter {
        _ = try category(of: spec)
        switch spec.name {
        case "ioControl":
            var reader = FilterParameterReader(spec.parameters, filter: spec.name)
            let settings = IOControlSettings(spec.parameters, reader: &reader)
            reader.finish()
            if let first = reader.errors.first { throw first }
            return try IOControlFilter(disk: context.disk, settings: settings, host: context.ioControlHost, clock: context.clock)
        case "inspection":
            return try InspectionFilter(parameters: spec.parameters, clock: context.clock, disk: context.disk, sidecars: context.sidecars, events: context.events)
        default:
            return try FaultInjectionFilter(parameters: spec.parameters)
        }
    }
}
