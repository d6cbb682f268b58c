// What the libiscsi engine reads out of libiscsi's error strings. (Its target URLs are
// ISCSIAddress's, tested in ISCSIAddressTests.)

import Testing

@testable import LibISCSI

@Suite("LibISCSI error text")
struct LibISCSIErrorTextTests {
    @Test func statusHiddenInLibISCSIErrorText() {
        #expect(LibISCSIEventLoop.statusInErrorText("Unknown SCSI status :8.") == 0x08)
        #expect(LibISCSIEventLoop.statusInErrorText("Cant handle  scsi status 40 yet.") == 40)
        #expect(LibISCSIEventLoop.statusInErrorText("Connection refused") == nil)
    }
}
