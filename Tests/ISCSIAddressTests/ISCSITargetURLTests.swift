// Parsing of iscsi:// target URLs: every part, the CHAP forms, the query keys of both
// engines, and errors that name the wrong part without repeating secrets.

import ISCSIAddress
import Testing

@Suite struct ISCSITargetURLTests {
    @Test func plainURL() throws {
        let url = try ISCSITargetURL(parsing: "iscsi://127.0.0.1:3300/iqn.2026-11.test:t1/1")
        #expect(url.endpoint == ISCSIEndpoint(host: "127.0.0.1", port: 3300))
        #expect(url.targetName == "iqn.2026-11.test:t1")
        #expect(url.lun == 1)
        #expect(url.user == nil && url.password == nil)
        #expect(url.description == "iscsi://127.0.0.1:3300/iqn.2026-11.test:t1/1")
    }

    @Test func defaultPortAndIPv6() throws {
        let url = try ISCSITargetURL(parsing: "iscsi://[::1]/iqn.x:y/0")
        #expect(url.endpoint.host == "::1" && url.endpoint.port == 3260)
        #expect(url.endpoint.description == "[::1]:3260")
        let withPort = try ISCSITargetURL(parsing: "iscsi://[::1]:3301/iqn.x:y/7")
        #expect(withPort.endpoint.port == 3301 && withPort.lun == 7)
        #expect(try ISCSITargetURL(parsing: "iscsi://san.example/iqn.x:y/16383").lun == 16383)
    }

    @Test func oneWayAndMutualCHAPWithSecretsTakenAsWritten() throws {
        // The first '%' ends the user, the last '@' ends the secret: "s3cr@t%x" stays as written.
        let oneWay = try ISCSITargetURL(parsing: "iscsi://alice%s3cr@t%x@host:3261/iqn.x:y/2")
        #expect(oneWay.user == "alice" && oneWay.password == "s3cr@t%x")
        #expect(oneWay.endpoint == ISCSIEndpoint(host: "host", port: 3261))
        let userOnly = try ISCSITargetURL(parsing: "iscsi://alice@127.0.0.1/iqn.2026-11.example:disk/1")
        #expect(userOnly.user == "alice" && userOnly.password == nil)

        let mutual = try ISCSITargetURL(
            parsing: "iscsi://alice%secret@host/iqn.x:y/0?target_user=tgt&target_password=tsecret&header_digest=crc32c&chap_algorithms=SHA256,md5"
        )
        #expect(mutual.targetUser == "tgt" && mutual.targetPassword == "tsecret")
        #expect(mutual.headerDigest == .crc32c)
        #expect(mutual.chapAlgorithms == ["sha256", "md5"])
    }

    @Test(arguments: [
        ("http://host/iqn.x:y/0", ISCSIAddressError.Part.scheme, "must start with iscsi://"),
        ("iscsi:///iqn.x:y/0", .host, "the host is empty"),
        ("iscsi://fe80::1/iqn.x:y/0", .host, "must be written in brackets"),
        ("iscsi://[::1/iqn.x:y/0", .host, "lacks its ']'"),
        ("iscsi://ho st/iqn.x:y/0", .host, "not a host name"),
        ("iscsi://host:0/iqn.x:y/0", .port, "port '0'"),
        ("iscsi://host:http/iqn.x:y/0", .port, "port 'http'"),
        ("iscsi://host:70000/iqn.x:y/0", .port, "port '70000'"),
        ("iscsi://host", .targetName, "no target IQN"),
        ("iscsi://host//0", .targetName, "target IQN is empty"),
        ("iscsi://host/iqn x/0", .targetName, "is not an iSCSI name"),
        ("iscsi://host/iqn.x:y", .lun, "no LUN"),
        ("iscsi://host/iqn.x:y/lun", .lun, "is not a number"),
        ("iscsi://host/iqn.x:y/16384", .lun, "is not a number from 0 to 16383"),
        ("iscsi://host/iqn.x:y/-1", .lun, "is not a number"),
        ("iscsi://@host/iqn.x:y/0", .credentials, "user name before '@' is empty"),
        ("iscsi://%secret@host/iqn.x:y/0", .credentials, "user name before '@' is empty"),
        ("iscsi://host/iqn.x:y/0?target_user=t&target_password=p", .credentials, "also needs the initiator's"),
        ("iscsi://host/iqn.x:y/0?colour=blue", .query("colour"), "query key 'colour' is unknown"),
        ("iscsi://host/iqn.x:y/0?header_digest=md5", .query("header_digest"), "header_digest must be"),
        ("iscsi://host/iqn.x:y/0?chap_algorithms=md5,,sha256", .query("chap_algorithms"), "once each"),
        ("iscsi://host/iqn.x:y/0?chap_algorithms=md5,MD5", .query("chap_algorithms"), "once each"),
        ("iscsi://host/iqn.x:y/0?target_user=", .query("target_user"), "has no value"),
        ("iscsi://u%p@host/iqn.x:y/0?target_user=t", .query("target_user"), "both target_user and target_password"),
        ("iscsi://u%p@host/iqn.x:y/0?target_password=t", .query("target_password"), "both target_user and target_password"),
    ])
    func malformedURLsNameTheWrongPart(text: String, part: ISCSIAddressError.Part, reason: String) {
        #expect {
            try ISCSITargetURL(parsing: text)
        } throws: { error in
            guard let error = error as? ISCSIAddressError else { return false }
            return error.part == part && error.reason.contains(reason) && "\(error)".contains("\(part)")
        }
    }

    @Test func errorsAndDescriptionsHideSecrets() throws {
        let url = try ISCSITargetURL(parsing: "iscsi://alice%topsecret@host/iqn.x:y/0?target_user=t&target_password=alsosecret")
        #expect(!url.description.contains("topsecret") && !url.description.contains("alsosecret"))
        #expect(url.description == "iscsi://alice@host:3260/iqn.x:y/0?target_user=t")
        do {
            _ = try ISCSITargetURL(parsing: "iscsi://alice%topsecret@host/iqn.x:y/zz?target_password=alsosecret")
            Issue.record("a bad LUN must be refused")
        } catch {
            let text = "\(error)"
            #expect(!text.contains("topsecret") && !text.contains("alsosecret"))
            #expect(text.contains("alice") && text.contains("LUN"))
        }
        #expect(ISCSITargetURL.redacted("iscsi://alice%s3cr@t@host/iqn.x:y/0?target_password=p") == "iscsi://alice%***@host/iqn.x:y/0?***")
    }

    /// The URL forms the tests, scripts and docs use: each parses, and its description
    /// (secrets aside) parses back to the same value.
    @Test(arguments: [
        "iscsi://127.0.0.1/iqn.2026-11.example:disk/1",
        "iscsi://127.0.0.1:3261/iqn.2026-11.example.vdiskd:e1/0",
        "iscsi://user%secret@127.0.0.1:3260/iqn.2026-11.test:t1/1",
        "iscsi://alice%opensesame12@127.0.0.1:3260/iqn.2026-11.t:x/1?chap_algorithms=md5",
        "iscsi://alice%secret@host/iqn.x:y/0?target_user=tgt&target_password=tsecret&header_digest=none-crc32c",
        "iscsi://[fe80::1%eth0]:3260/iqn.2003-01.org.linux-iscsi.x:sn.1/3",
        "iscsi://san-1.example.com/eui.02004567A425678D/0",
    ])
    func everyFormInUseIsAccepted(text: String) throws {
        let url = try ISCSITargetURL(parsing: text)
        var withoutSecrets = url
        withoutSecrets.password = nil
        withoutSecrets.targetPassword = nil
        withoutSecrets.targetUser = nil
        #expect(try ISCSITargetURL(parsing: withoutSecrets.description) == withoutSecrets)
    }
}
