// The control methods on disks' filter chains: show, add, remove and change filters live, and
// read an inspection filter's histograms and trace.

import Control
import Filters

extension ControlDispatcher {
    static let filterReadMethods: Set<String> = ["disks.filters", "disks.histogram", "disks.trace"]
    static let filterMutatingMethods: Set<String> = ["disks.filters.add", "disks.filters.remove", "disks.filters.set", "disks.inspection"]

    /// The answer to a filter method, or nil when `request` is not one.
    func callFilters(_ request: JSONRPCRequest) async -> Result<JSONValue, JSONRPCError>? {
        guard Self.filterReadMethods.contains(request.method) || Self.filterMutatingMethods.contains(request.method) else { return nil }
        guard let reference = request.params?["disk"]?.stringValue else {
            return .failure(.invalidParams("\(request.method) needs \"disk\", written datastore/disk"))
        }
        guard state.storage.disk(reference) != nil else {
            return .failure(.notFound("disk \(reference) is not open (see disks.list)"))
        }
        guard let device = state.storage.chain(reference) else {
            return .failure(.operationFailed("disk \(reference) was opened without a filter chain; give it filters = [] in the config (an empty chain) and open it again to change filters live"))
        }
        switch request.method {
        case "disks.filters":
            return .success(ControlViews.chain(device))
        case "disks.filters.add", "disks.filters.remove", "disks.filters.set":
            guard let name = request.params?["filter"]?.stringValue else {
                return .failure(.invalidParams("\(request.method) needs \"filter\", a filter's name (\(FilterRegistry.names.joined(separator: ", ")))"))
            }
            let parameters: FilterParameters
            switch Self.filterParameters(request.params?["parameters"]) {
            case .success(let parsed): parameters = parsed
            case .failure(let error): return .failure(error)
            }
            return await reloader.live.serialized {
                await changeChain(request.method, device: device, reference: reference, filter: name, parameters: parameters)
            }
        case "disks.histogram":
            return inspection(of: device).flatMap { filter in histogram(filter, request.params) }
        case "disks.trace":
            return inspection(of: device).map { filter in
                let snapshot = filter.snapshot
                return .object(["disk": .string(reference), "entries": .int(snapshot.trace.count), "csv": .string(snapshot.traceCSV)])
            }
        default:
            guard let action = request.params?["action"]?.stringValue, ["start", "stop", "reset"].contains(action) else {
                return .failure(.invalidParams("disks.inspection needs \"action\": \"start\", \"stop\" or \"reset\""))
            }
            return inspection(of: device).map { filter in
                switch action {
                case "start": filter.start()
                case "stop": filter.stop()
                default: filter.reset()
                }
                return .object(["disk": .string(reference), "collecting": .bool(filter.snapshot.collecting)])
            }
        }
    }

    /// Applies one change; on any refusal the chain in force and the running config stay as they were.
    private func changeChain(_ method: String, device: FilteredBlockDevice, reference: String, filter name: String, parameters: FilterParameters) async -> Result<JSONValue, JSONRPCError> {
        let current = device.chain
        do {
            switch method {
            case "disks.filters.add":
                let spec = FilterSpec(name: name, parameters: parameters)
                if let error = FilterRegistry.check([spec]).first { throw error }
                let filter = try FilterRegistry.make(spec, context: FilterChains.context(for: reference, disk: state.storage.disk(reference), state: state, logger: logger))
                let grown: FilterChain
                do {
                    grown = try current.inserting(filter)
                    // A filter with a sidecar loads its state here, before it sees any I/O.
                    try await filter.attach()
                } catch {
                    try? await filter.detach()
                    throw error
                }
                do {
                    try await device.replaceChain(with: grown)
                } catch {
                    try? await filter.detach()
                    throw error
                }
            case "disks.filters.remove":
                try await device.replaceChain(with: try current.removing(name))
            default:
                try device.updateParameters(of: name, parameters)
            }
        } catch let error as FilterConfigError {
            return .failure(.invalidParams("disk \(reference): \(error.parameter.map { "\($0): " } ?? "")\(error.message); the chain in force is unchanged"))
        } catch {
            return .failure(.operationFailed("disk \(reference): \(error); the chain in force is unchanged"))
        }
        let specs = FilterChains.specs(of: device.chain)
        state.updateConfig { config in
            if let index = config.disks.firstIndex(where: { $0.reference == reference }) { config.disks[index].filters = specs }
        }
        // Kept in the state directory like the other live changes, so a reload or restart keeps it.
        reloader.live.persist(disk: reference)
        logger.notice("filter chain changed", metadata: ["vdiskd.disk": "\(reference)", "vdiskd.chain": "\(device.chain.describedNames)"])
        return .success(ControlViews.chain(device))
    }

    private func inspection(of device: FilteredBlockDevice) -> Result<InspectionFilter, JSONRPCError> {
        guard let filter = device.chain.filter(named: "inspection") as? InspectionFilter else {
            return .failure(.operationFailed("disk \(device.disk) has no inspection filter; add one (disks.filters.add with \"filter\": \"inspection\")"))
        }
        return .success(filter)
    }

    private func histogram(_ filter: InspectionFilter, _ params: JSONValue?) -> Result<JSONValue, JSONRPCError> {
        let names = HistogramKind.allCases.map(\.rawValue).joined(separator: ", ")
        guard let text = params?["kind"]?.stringValue, let kind = HistogramKind(rawValue: text) else {
            return .failure(.invalidParams("disks.histogram needs \"kind\", one of \(names)"))
        }
        let snapshot = filter.snapshot
        let histograms = snapshot.histograms[kind] ?? [:]
        var fields: [String: JSONValue] = [
            "kind": .string(kind.rawValue),
            "unit": .string(kind.unit),
            "collecting": .bool(snapshot.collecting),
            "edges": .array(kind.edges.map { .int(Int($0)) }),
            "classes": .object(Dictionary(uniqueKeysWithValues: IOClass.allCases.map { ioClass in
                (ioClass.rawValue, .array((histograms[ioClass]?.counts ?? []).map { .int(Int($0)) }))
            })),
        ]
        // Set while the saved histograms could not be loaded (and saving is off until a reset).
        if let problem = filter.sidecarProblem { fields["sidecar_problem"] = .string(problem) }
        return .success(.object(fields))
    }

    /// A "parameters" object as filter parameters; numbers, strings and booleans only.
    static func filterParameters(_ value: JSONValue?) -> Result<FilterParameters, JSONRPCError> {
        guard let value, value != .null else { return .success(FilterParameters()) }
        guard case .object(let fields) = value else {
            return .failure(.invalidParams("\"parameters\" must be an object such as {\"iops\": 500}"))
        }
        var parameters = FilterParameters()
        for (name, field) in fields {
            switch field {
            case .int(let number): parameters[name] = .int(number)
            case .double(let number): parameters[name] = .double(number)
            case .string(let text): parameters[name] = .string(text)
            case .bool(let flag): parameters[name] = .bool(flag)
            case .null, .array, .object:
                return .failure(.invalidParams("parameter \"\(name)\" must be a number, a string or true/false"))
            }
        }
        return .success(parameters)
    }
}
