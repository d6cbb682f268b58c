// A disk's filters in category order, checked once when the chain is built.

/// The filters of one disk, ordered from the client down. Built once per disk (and again only
/// when the chain is changed live); an empty chain is legal and costs one branch per I/O.
public struct FilterChain: Sendable {
    let stages: [FilterStage]

    /// Checks the list as written: categories strictly in the fixed order (a list out of order
    /// is refused, not rearranged, so what runs is what the config says), at most one filter per
    /// category. Errors carry the 1-based index of the offending filter.
    public init(_ filters: [any IOFilter]) throws(FilterConfigError) {
        try Self.validate(filters.map(\.category), names: filters.map(\.name))
        self.stages = filters.map(FilterStage.init)
    }

    init(stages: [FilterStage]) {
        self.stages = stages
    }

    public static let empty = FilterChain(stages: [])

    public var isEmpty: Bool { stages.isEmpty }
    public var filters: [any IOFilter] { stages.map(\.filter) }

    /// The order check on its own, for a config read before any filter exists.
    public static func validate(_ categories: [FilterCategory], names: [String]) throws(FilterConfigError) {
        for index in categories.indices.dropFirst() {
            let previous = categories[index - 1], current = categories[index]
            if previous == current {
                throw FilterConfigError(
                    .duplicateCategory, filter: names[index], parameter: nil, index: index + 1,
                    "a chain holds one filter per category, and filters[\(index)] (\(names[index - 1])) is already the \(current) filter"
                )
            }
            if current < previous {
                throw FilterConfigError(
                    .order, filter: names[index], parameter: nil, index: index + 1,
                    "\(names[index]) (\(current)) must come before \(names[index - 1]) (\(previous)); categories run \(FilterCategory.orderDescription) from the client down"
                )
            }
        }
    }

    /// This chain with `filter` put in its category's place.
    public func inserting(_ filter: any IOFilter) throws(FilterConfigError) -> FilterChain {
        if let existing = stages.first(where: { $0.filter.category == filter.category }) {
            throw FilterConfigError(
                .duplicateCategory, filter: filter.name, parameter: nil,
                "the chain already has a \(filter.category) filter (\(existing.filter.name)); remove it first or change its parameters"
            )
        }
        var stages = self.stages
        let place = stages.firstIndex(where: { $0.filter.category > filter.category }) ?? stages.endIndex
        stages.insert(FilterStage(filter), at: place)
        return FilterChain(stages: stages)
    }

    /// This chain without the filter named `name` (or of category `name`).
    public func removing(_ name: String) throws(FilterConfigError) -> FilterChain {
        guard let index = stages.firstIndex(where: { $0.filter.name == name || $0.filter.category.rawValue == name }) else {
            throw FilterConfigError(.notFound, filter: name, parameter: nil, "the chain has no \(name) filter (it has \(describedNames))")
        }
        var stages = self.stages
        stages.remove(at: index)
        return FilterChain(stages: stages)
    }

    public func filter(named name: String) -> (any IOFilter)? {
        stages.first(where: { $0.filter.name == name || $0.filter.category.rawValue == name })?.filter
    }

    /// "ioControl, inspection" or "none".
    public var describedNames: String {
        stages.isEmpty ? "none" : stages.map(\.filter.name).joined(separator: ", ")
    }

    /// The operations every filter in the chain handles: what the disk can still offer.
    var operations: Set<FilterOperation> {
        stages.reduce(Set(FilterOperation.allCases)) { $0.intersection($1.filter.operations) }
    }
}
