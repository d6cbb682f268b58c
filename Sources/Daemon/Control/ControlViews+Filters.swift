// The JSON shape of a disk's filter chain.

import Control
import Filters

extension ControlViews {
    static func chain(_ device: FilteredBlockDevice) -> JSONValue {
        .object([
            "disk": .string(device.disk),
            "filters": .array(device.chain.filters.map { filter in
                .object([
                    "name": .string(filter.name),
                    "category": .string(filter.category.rawValue),
                    "failure_policy": .string(filter.failurePolicy.rawValue),
                    "parameters": filterParameters(filter.parameters),
                ])
            }),
            "events": .array(device.recentEvents.map { .string($0.description) }),
        ])
    }

    static func filterParameters(_ parameters: FilterParameters) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: parameters.sorted.map { entry -> (String, JSONValue) in
            switch entry.value {
            case .int(let number): (entry.name, .int(number))
            case .double(let number): (entry.name, .double(number))
            case .string(let text): (entry.name, .string(text))
            case .bool(let flag): (entry.name, .bool(flag))
            }
        }))
    }

    /// The chain column of `disks.list`: filter names from the client down, [] for an empty
    /// chain, null for a disk opened with none.
    static func chainNames(_ reference: String, state: DaemonState) -> JSONValue {
        guard let device = state.storage.chain(reference) else { return .null }
        return .array(device.chain.filters.map { .string($0.name) })
    }
}
