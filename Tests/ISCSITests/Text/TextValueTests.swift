// The value grammar of RFC 7143 §6.1: numbers, binaries, booleans, lists, ranges and
// the special answers.

import Testing

@testable import ISCSI

@Suite struct TextValueTests {
    @Test(arguments: [
        ("0", UInt64(0)), ("8192", 8192), ("18446744073709551615", UInt64.max),
    ])
    func decimals(text: String, value: UInt64) {
        #expect(TextValue.decimal(text) == value)
        #expect(TextValue.number(text) == value)
    }

    @Test(arguments: ["", "-1", "+1", " 1", "1 ", "1e3", "18446744073709551616", "0x10", "Yes"])
    func notDecimals(text: String) {
        #expect(TextValue.decimal(text) == nil)
    }

    @Test func hexNumbers() {
        #expect(TextValue.number("0x2000") == 8192)
        #expect(TextValue.number("0XfF") == 255)
        #expect(TextValue.number("0xffffffffffffffff") == UInt64.max)
        #expect(TextValue.number("0x1ffffffffffffffff") == nil)
        #expect(TextValue.number("0x") == nil)
        #expect(TextValue.number("0xg1") == nil)
    }

    @Test func binaryInHexAndBase64() {
        #expect(TextValue.binary("0x0001ff") == [0x00, 0x01, 0xFF])
        #expect(TextValue.binary("0xABC") == [0x0A, 0xBC])
        #expect(TextValue.binary("0b" + "AAECAwQFBgcICQoLDA0ODw==") == Array(0..<16))
        #expect(TextValue.binary("0BAAEC") == [0, 1, 2])
        #expect(TextValue.binary("0bAAECAw") == [0, 1, 2, 3])
        for bad in ["", "0x", "0b", "0b=", "0bA", "0b!!!!", "0bAA=A", "1234", "0xzz"] {
            #expect(TextValue.binary(bad) == nil, "\(bad)")
        }
    }

    @Test func binaryEncodersRoundTrip() {
        for length in 0...10 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            if length > 0 {
                #expect(TextValue.binary(TextValue.hex(bytes)) == bytes)
                #expect(TextValue.binary(TextValue.base64(bytes)) == bytes)
            }
        }
        #expect(TextValue.hex([0x00, 0xAB]) == "0x00ab")
        #expect(TextValue.base64(Array(0..<16)) == "0bAAECAwQFBgcICQoLDA0ODw==")
    }

    @Test func booleans() {
        #expect(TextValue.boolean("Yes") == true)
        #expect(TextValue.boolean("No") == false)
        #expect(TextValue.boolean("yes") == nil)
        #expect(TextValue.boolean("1") == nil)
        #expect(TextValue.boolean(true) == "Yes")
    }

    @Test func listsAndRanges() {
        #expect(TextValue.list("CRC32C,None") == ["CRC32C", "None"])
        #expect(TextValue.list("None") == ["None"])
        #expect(TextValue.list("CRC32C,") == nil)
        #expect(TextValue.list("") == nil)
        #expect(TextValue.range("512~0x1000") == 512...4096)
        #expect(TextValue.range("5~4") == nil)
        #expect(TextValue.range("5") == nil)
        #expect(TextValue.range("1~2~3") == nil)
    }

    @Test func specialValues() {
        #expect(TextValue.special("NotUnderstood") == .notUnderstood)
        #expect(TextValue.special("Irrelevant") == .irrelevant)
        #expect(TextValue.special("Reject") == .reject)
        #expect(TextValue.special("reject") == nil)
    }
}
