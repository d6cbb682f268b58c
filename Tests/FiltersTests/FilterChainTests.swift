// A chain's shape: the fixed category order, one filter per category, and located errors for
// every bad name and parameter, checked before anything is built.

import Filters
import Testing

@Suite struct FilterChainTests {
    private func spec(_ name: String, _ parameters: [String: FilterParameterValue] = [:]) -> FilterSpec {
        FilterSpec(name: name, parameters: FilterParameters(parameters))
    }

    @Test func aChainOutOfOrderIsRefusedNamingBothFilters() {
        let errors = FilterRegistry.check([spec("inspection"), spec("ioControl", ["iops": .int(100)])])
        #expect(errors.count == 1)
        #expect(errors.first?.code == .order)
        #expect(errors.first?.location == "filters[2]")
        #expect(errors.first?.message.contains("ioControl (ioControl) must come before inspection (inspection)") == true, "\(errors)")
        #expect(FilterRegistry.check([spec("ioControl"), spec("inspection")]).isEmpty)
    }

    @Test func twoFiltersOfOneCategoryAreRefusedWithTheSecondsPlace() {
        let errors = FilterRegistry.check([spec("inspection"), spec("inspection")])
        #expect(errors.map(\.code) == [.duplicateCategory])
        #expect(errors.first?.location == "filters[2]")
        let built = Result { try FilterChain([RecordingFilter(.cache, name: "a"), RecordingFilter(.cache, name: "b")]) }
        guard case .failure(let error as FilterConfigError) = built else {
            Issue.record("two cache filters were accepted")
            return
        }
        #expect(error.code == .duplicateCategory && error.index == 2)
    }

    @Test func insertingPutsAFilterInItsCategorysPlaceAndRefusesASecondOfOneCategory() throws {
        let chain = try FilterChain([RecordingFilter(.ioControl), RecordingFilter(.cache)])
        let grown = try chain.inserting(RecordingFilter(.inspection))
        #expect(grown.filters.map(\.category) == [.ioControl, .inspection, .cache])
        #expect(throws: FilterConfigError.self) { try grown.inserting(RecordingFilter(.inspection, name: "other")) }
        let shrunk = try grown.removing("recording-ioControl")
        #expect(shrunk.filters.map(\.category) == [.inspection, .cache])
        #expect(throws: FilterConfigError.self) { try shrunk.removing("ioControl") }
    }

    @Test func unknownNamesAndParametersAreLocated() {
        let errors = FilterRegistry.check([spec("ioControl", ["iosp": .int(5)]), spec("compression")])
        #expect(errors.map(\.location) == ["filters[1].iosp", "filters[2]"], "\(errors)")
        #expect(errors.map(\.code) == [.unknownParameter, .unknownFilter])
        #expect(errors[0].message.contains("has no parameter \"iosp\""))
        #expect(errors[1].message.contains("no filter named \"compression\""))
    }

    @Test(arguments: [
        ("iops", FilterParameterValue.int(0)), ("iops", .int(-5)), ("bps_read", .double(-1.5)),
        ("shares", .int(0)), ("iops", .string("fast")), ("reservation", .int(-1)),
    ])
    func zeroNegativeAndMistypedValuesAreRefused(name: String, value: FilterParameterValue) {
        let errors = FilterRegistry.check([spec("ioControl", [name: value])])
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.location == "filters[1].\(name)")
        #expect(errors.first?.code == .badValue)
    }

    @Test func qemuRulesForBurstsAndTotalsHold() {
        let errors = FilterRegistry.check([spec("ioControl", [
            "iops_max": .int(2000), "bps": .int(1000), "bps_read": .int(500), "iops_size": .int(4096),
            "bps_write_max": .int(10), "bps_write": .int(100),
        ])])
        let messages = Dictionary(uniqueKeysWithValues: errors.map { ($0.parameter ?? "", $0.message) })
        #expect(messages["iops_max"]?.contains("needs iops") == true, "\(errors)")
        #expect(messages["bps_read"]?.contains("cannot be set together with bps") == true)
        #expect(messages["iops_size"]?.contains("set iops") == true)
        #expect(messages["bps_write_max"]?.contains("below bps_write") == true)
    }

    @Test func aReservationNeedsAHostAndMustFitTheDevice() async throws {
        let context = FilterContext(disk: "ds1/vm1")
        await #expect(throws: FilterConfigError.self) {
            _ = try await FilterRegistry.build([spec("ioControl", ["reservation": .int(100)])], context: context)
        }
        let host = IOControlHost(name: "datastore ds1", capacity: 1000)
        let first = try await FilterRegistry.build([spec("ioControl", ["reservation": .int(700)])], context: FilterContext(disk: "ds1/vm1", ioControlHost: host))
        do {
            _ = try await FilterRegistry.build([spec("ioControl", ["reservation": .int(400)])], context: FilterContext(disk: "ds1/vm2", ioControlHost: host))
            Issue.record("a reservation past the device's capacity was accepted")
        } catch {
            #expect(error.code == .exceedsCapacity)
            #expect(error.location == "filters[1].reservation")
            #expect(error.message.contains("700 IOPS already reserved") && error.message.contains("1000 IOPS"), "\(error)")
        }
        // The refused disk registered nothing: 300 still fit once it is gone.
        _ = try await FilterRegistry.build([spec("ioControl", ["reservation": .int(300)])], context: FilterContext(disk: "ds1/vm3", ioControlHost: host))
        #expect(first.filters.count == 1)
    }

    @Test func aFilterThatCannotAttachRefusesTheChainLocatedAndReleasesTheOthers() async throws {
        let host = IOControlHost(name: "datastore ds1", capacity: 1000)
        let chain = [spec("ioControl", ["reservation": .int(700)]), spec("faultInjection", ["fail_attach": .bool(true)])]
        do {
            _ = try await FilterRegistry.build(chain, context: FilterContext(disk: "ds1/vm1", ioControlHost: host))
            Issue.record("a chain whose filter could not attach was built")
        } catch {
            #expect(error.code == .attachFailed)
            #expect(error.location == "filters[2]")
            #expect(error.message == "the faultInjection filter could not attach to disk ds1/vm1: injected fault at attach", "\(error)")
        }
        // The ioControl filter built before it was detached: its reservation is free again.
        let whole = try await FilterRegistry.build([spec("ioControl", ["reservation": .int(1000)])], context: FilterContext(disk: "ds1/vm2", ioControlHost: host))
        #expect(whole.filters.count == 1)
    }
}
