// The per-target CHAP algorithm list: how configuration, options and URLs spell it.

import ISCSI
import ISCSIAddress
import Testing

@Suite struct CHAPAlgorithmListTests {
    @Test func namesAndNumbersParseInOrder() throws {
        #expect(try CHAPAlgorithm.parse(list: "md5") == [.md5])
        #expect(try CHAPAlgorithm.parse(list: "SHA256, md5") == [.sha256, .md5])
        #expect(try CHAPAlgorithm.parse(list: "7,6,5") == [.sha256, .sha1, .md5])
        #expect(try CHAPAlgorithm.parse(names: ["sha1"]) == [.sha1])
    }

    @Test func badListsAreRefusedNamingTheEntry() {
        #expect(throws: ISCSIError.self) { try CHAPAlgorithm.parse(names: []) }
        do {
            _ = try CHAPAlgorithm.parse(list: "md5,md4")
            Issue.record("md4 was accepted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("'md4'"), "\(error.message)")
        }
        do {
            _ = try CHAPAlgorithm.parse(list: "md5,5")
            Issue.record("a repeated algorithm was accepted")
        } catch {
            #expect(error.message.contains("twice"), "\(error.message)")
        }
        #expect(throws: ISCSIError.self) { try CHAPAlgorithm.parse(list: "md5,") }
    }

    @Test func theURLArgumentSetsTheOffer() throws {
        let url = try ISCSITargetURL(parsing: "iscsi://alice%alice-secret-12@127.0.0.1:3260/iqn.2026-11.t:x/1?chap_algorithms=md5")
        #expect(try url.chapOffer() == [.md5])
        guard case .chap(_, _, let algorithms) = try url.authentication() else {
            Issue.record("the URL names a CHAP user")
            return
        }
        #expect(algorithms == [.md5])
        #expect(url.description.hasSuffix("?chap_algorithms=md5"))
        #expect(!url.description.contains("alice-secret-12"))

        let plain = try ISCSITargetURL(parsing: "iscsi://alice%alice-secret-12@127.0.0.1/iqn.2026-11.t:x/1")
        guard case .chap(_, _, let defaults) = try plain.authentication() else {
            Issue.record("the URL names a CHAP user")
            return
        }
        #expect(defaults == CHAPAlgorithm.defaultOffer)

        // The URL's syntax is ISCSIAddress's; which names are CHAP algorithms is the engine's.
        let unknown = try ISCSITargetURL(parsing: "iscsi://alice%alice-secret-12@127.0.0.1/iqn.2026-11.t:x/1?chap_algorithms=rot13")
        do {
            _ = try unknown.authentication()
            Issue.record("an unknown algorithm was accepted")
        } catch {
            #expect(error.message.contains("'rot13'") && error.message.contains("chap_algorithms"), "\(error.message)")
            #expect(!error.message.contains("alice-secret-12"), "\(error.message)")
        }
    }
}
