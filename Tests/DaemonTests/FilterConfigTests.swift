// A disk's `filters` in the TOML config: read as plain values, every mistake located at
// `disk[N].filters[M].parameter` on the line of the `filters` key.

import Daemon
import Filters
import Testing

@Suite struct FilterConfigTests {
    private func withFilters(_ filters: String) -> String {
        ConfigFixtures.minimal.replacingOccurrences(of: "name = \"vm1\"\n\n[[export]]", with: "name = \"vm1\"\nfilters = \(filters)\n\n[[export]]")
    }

    @Test func aChainIsReadAsPlainValuesAndAbsentMeansNoChain() throws {
        let config = try ConfigFixtures.parse(withFilters("[{ name = \"ioControl\", iops = 500, iops_max = 2000, iops_max_length = 2.5 }, { name = \"inspection\", collect = false }]"))
        let specs = try #require(config.disks.first?.filters)
        #expect(specs.map(\.name) == ["ioControl", "inspection"])
        #expect(specs[0].parameters["iops"] == .int(500))
        #expect(specs[0].parameters["iops_max_length"] == .double(2.5))
        #expect(specs[1].parameters["collect"] == .bool(false))
        #expect(try ConfigFixtures.parse(withFilters("[]")).disks.first?.filters == [])
        #expect(try ConfigFixtures.parse(ConfigFixtures.minimal).disks.first?.filters == nil)
    }

    @Test func everyMistakeIsLocatedAndNothingIsAccepted() {
        let errors = ConfigFixtures.errors(withFilters("[{ name = \"ioControl\", iops = 0, shares = 0 }, { name = \"zip\" }]"))
        #expect(errors.map(\.key) == ["disk[1].filters[1].iops", "disk[1].filters[1].shares", "disk[1].filters[2]"], "\(errors)")
        #expect(errors.allSatisfy { $0.line == 19 }, "\(errors.map(\.line))")
        #expect(errors[0].message.contains("must be greater than 0"))
        #expect(errors[2].message.contains("no filter named \"zip\""))
    }

    @Test func orderAndOnePerCategoryAreEnforced() {
        let wrongOrder = ConfigFixtures.errors(withFilters("[{ name = \"inspection\" }, { name = \"ioControl\" }]"))
        #expect(wrongOrder.map(\.key) == ["disk[1].filters[2]"])
        #expect(wrongOrder.first?.message.contains("must come before inspection") == true)
        let twice = ConfigFixtures.errors(withFilters("[{ name = \"inspection\" }, { name = \"inspection\" }]"))
        #expect(twice.map(\.key) == ["disk[1].filters[2]"])
        #expect(twice.first?.message.contains("one filter per category") == true)
    }

    @Test func shapesThatAreNotAChainAreRefused() {
        #expect(ConfigFixtures.errors(withFilters("\"ioControl\"")).map(\.key) == ["disk[1].filters"])
        #expect(ConfigFixtures.errors(withFilters("[\"ioControl\"]")).map(\.key) == ["disk[1].filters[1]"])
        #expect(ConfigFixtures.errors(withFilters("[{ iops = 5 }]")).map(\.key) == ["disk[1].filters[1].name"])
        #expect(ConfigFixtures.errors(withFilters("[{ name = \"ioControl\", iops = [1] }]")).map(\.key) == ["disk[1].filters[1].iops"])
    }

    @Test func aDatastoreCapacityIsReadAndBounded() throws {
        let text = ConfigFixtures.minimal.replacingOccurrences(of: "host_uuid = \"4f0c2a3e-9b8d-4c61-a0e7-2d5b8f1c9e40\"", with: "host_uuid = \"4f0c2a3e-9b8d-4c61-a0e7-2d5b8f1c9e40\"\nio_control_capacity_iops = 8000")
        #expect(try ConfigFixtures.parse(text).datastores.first?.ioControlCapacityIOPS == 8000)
        let zero = ConfigFixtures.errors(text.replacingOccurrences(of: "= 8000", with: "= 0"))
        #expect(zero.map(\.key) == ["datastore[1].io_control_capacity_iops"])
    }

    @Test func reservationsMustFitTheDatastoresCapacityAndNeedIt() {
        let capacity = ConfigFixtures.minimal.replacingOccurrences(
            of: "host_uuid = \"4f0c2a3e-9b8d-4c61-a0e7-2d5b8f1c9e40\"", with: "host_uuid = \"4f0c2a3e-9b8d-4c61-a0e7-2d5b8f1c9e40\"\nio_control_capacity_iops = 1000")
        let twoDisks = { (text: String, first: Int, second: Int) in
            text.replacingOccurrences(of: "name = \"vm1\"\n\n[[export]]", with: """
                name = "vm1"
                filters = [{ name = "ioControl", reservation = \(first) }]

                [[disk]]
                datastore = "ds1"
                name = "vm2"
                filters = [{ name = "ioControl", reservation = \(second), shares = 500 }]

                [[export]]
                """)
        }
        #expect(ConfigFixtures.errors(twoDisks(capacity, 600, 400)).isEmpty)
        let over = ConfigFixtures.errors(twoDisks(capacity, 600, 401))
        #expect(over.map(\.key) == ["disk[2].filters[1].reservation"], "\(over)")
        #expect(over.first?.message.contains("more than its io_control_capacity_iops (1000)") == true)
        let noCapacity = ConfigFixtures.errors(twoDisks(ConfigFixtures.minimal, 10, 10))
        #expect(noCapacity.map(\.key) == ["disk[1].filters[1].reservation", "disk[2].filters[1].reservation"], "\(noCapacity)")
    }
}
