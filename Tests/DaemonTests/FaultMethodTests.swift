// The fault control methods through the dispatcher: the event log's answer and its limit,
// and datastores.recover's refusals.

import Control
@testable import Daemon
import Testing

/// `events.list` and `datastores.recover` through the dispatcher, without a daemon.
@Suite struct FaultMethodTests {
    @Test func eventsListAnswersTheRingAndRefusesABadLimit() async throws {
        let (dispatcher, state) = try DispatcherFixture.make()
        state.setService("datastore:ds1", .fenced("host 'a' lost its slot"))
        let answer = await dispatcher.handle(JSONRPCRequest(id: .int(1), method: "events.list", params: .object(["limit": .int(1)])), peer: DispatcherFixture.nobody)
        let events = try #require(answer.result?["events"]?.arrayValue)
        #expect(events.count == 1)
        #expect(events.first?["part"] == .string("datastore:ds1"))
        #expect(events.first?["state"] == .string("fenced"))
        let bad = await dispatcher.handle(JSONRPCRequest(id: .int(2), method: "events.list", params: .object(["limit": .int(0)])), peer: DispatcherFixture.root)
        #expect(bad.error?.code == -32602, "\(String(describing: bad.error))")
    }

    @Test func recoverIsMutatingAndNamesWhatIsMissing() async throws {
        let (dispatcher, _) = try DispatcherFixture.make()
        let refused = await dispatcher.handle(JSONRPCRequest(id: .int(1), method: "datastores.recover", params: .object(["datastore": .string("ds1")])), peer: DispatcherFixture.nobody)
        #expect(refused.error?.code == JSONRPCError.notPermittedCode)
        let unmounted = await dispatcher.handle(JSONRPCRequest(id: .int(2), method: "datastores.recover", params: .object(["datastore": .string("ds1")])), peer: DispatcherFixture.root)
        #expect(unmounted.error?.code == -32004 && unmounted.error?.message.contains("not mounted") == true, "\(String(describing: unmounted.error))")
        let unknown = await dispatcher.handle(JSONRPCRequest(id: .int(3), method: "datastores.recover", params: .object(["datastore": .string("nope")])), peer: DispatcherFixture.root)
        #expect(unknown.error?.message.contains("no datastore nope") == true, "\(String(describing: unknown.error))")
        let missing = await dispatcher.handle(JSONRPCRequest(id: .int(4), method: "datastores.recover"), peer: DispatcherFixture.root)
        #expect(missing.error?.code == -32602)
    }
}
