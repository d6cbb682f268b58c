// Parsing of libiscsi-form URLs: every part, the CHAP forms, and errors that say
// what is wrong without repeating secrets.

import Testing

@testable import LibISCSI

@Suite("LibISCSI URL")
struct LibISCSIURLTests {
    @Test func plainURL() throws {
        let url = try LibISCSIURL(parsing: "iscsi://127.0.0.1:3300/iqn.2026-11.test:t1/1")
        #expect(url.host == "127.0.0.1")
        #expect(url.port == 3300)
        #expect(url.targetName == "iqn.2026-11.test:t1")
        #expect(url.lun == 1)
        #expect(url.user == nil)
        #expect(url.portal == "127.0.0.1:3300")
    }

    @Test func defaultPortAndIPv6() throws {
        let url = try LibISCSIURL(parsing: "iscsi://[::1]/iqn.x:y/0")
        #expect(url.host == "::1")
        #expect(url.port == 3260)
        #expect(url.portal == "[::1]:3260")
        let withPort = try LibISCSIURL(parsing: "iscsi://[::1]:3301/iqn.x:y/7")
        #expect(withPort.port == 3301)
        #expect(withPort.lun == 7)
    }

    @Test func oneWayAndMutualCHAP() throws {
        let oneWay = try LibISCSIURL(parsing: "iscsi://alice%s3cr@t@host:3261/iqn.x:y/2")
        #expect(oneWay.user == "alice")
        #expect(oneWay.password == "s3cr@t")
        #expect(oneWay.host == "host")
        #expect(oneWay.targetUser == nil)

        let mutual = try LibISCSIURL(
            parsing: "iscsi://alice%secret@host/iqn.x:y/0?target_user=tgt&target_password=tsecret&header_digest=crc32c"
        )
        #expect(mutual.targetUser == "tgt")
        #expect(mutual.targetPassword == "tsecret")
        #expect(mutual.headerDigest == .crc32c)
    }

    @Test(arguments: [
        ("http://host/iqn.x:y/0", "must start with iscsi://"),
        ("iscsi://host/iqn.x:y", "exactly host[:port]"),
        ("iscsi://host//0", "target IQN is empty"),
        ("iscsi://host/iqn.x:y/lun", "is not a number"),
        ("iscsi://host/iqn.x:y/99999", "is not a number"),
        ("iscsi://host:0/iqn.x:y/0", "port '0'"),
        ("iscsi://host:http/iqn.x:y/0", "port 'http'"),
        ("iscsi://@host/iqn.x:y/0", "user name before '@' is empty"),
        ("iscsi://host/iqn.x:y/0?header_digest=md5", "header_digest must be"),
        ("iscsi://host/iqn.x:y/0?colour=blue", "query key 'colour'"),
        ("iscsi://u%p@host/iqn.x:y/0?target_user=t", "both target_user and target_password"),
        ("iscsi://host/iqn.x:y/0?target_user=t&target_password=p", "also needs the initiator's"),
    ])
    func malformedURLsSayWhy(text: String, reason: String) {
        #expect {
            try LibISCSIURL(parsing: text)
        } throws: { error in
            guard let error = error as? LibISCSIURLError else { return false }
            return error.reason.contains(reason)
        }
    }

    @Test func errorsAndDescriptionsHideSecrets() throws {
        let url = try LibISCSIURL(parsing: "iscsi://alice%topsecret@host/iqn.x:y/0?target_user=t&target_password=alsosecret")
        #expect(!url.description.contains("topsecret"))
        #expect(url.description.contains("alice@"))
        do {
            _ = try LibISCSIURL(parsing: "iscsi://alice%topsecret@host/iqn.x:y/zz?target_password=alsosecret")
            Issue.record("a bad LUN must be refused")
        } catch {
            let text = "\(error)"
            #expect(!text.contains("topsecret"))
            #expect(!text.contains("alsosecret"))
            #expect(text.contains("alice"))
        }
    }

    @Test func statusHiddenInLibISCSIErrorText() {
        #expect(LibISCSIEventLoop.statusInErrorText("Unknown SCSI status :8.") == 0x08)
        #expect(LibISCSIEventLoop.statusInErrorText("Cant handle  scsi status 40 yet.") == 40)
        #expect(LibISCSIEventLoop.statusInErrorText("Connection refused") == nil)
    }
}
