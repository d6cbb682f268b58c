// host:port endpoints as the export, the daemon's config and control socket and the
// CLI's --listen take them.

import ISCSIAddress
import Testing

@Suite struct ISCSIEndpointTests {
    @Test func hostsPortsAndBrackets() throws {
        #expect(try ISCSIEndpoint(parsing: "127.0.0.1:3261") == ISCSIEndpoint(host: "127.0.0.1", port: 3261))
        #expect(try ISCSIEndpoint(parsing: "san.example") == ISCSIEndpoint(host: "san.example", port: 3260))
        #expect(try ISCSIEndpoint(parsing: "[::1]:9464") == ISCSIEndpoint(host: "::1", port: 9464))
        #expect(try ISCSIEndpoint(parsing: "[::1]").port == 3260)
        #expect(ISCSIEndpoint(host: "::1", port: 3260).description == "[::1]:3260")
        #expect(ISCSIEndpoint(host: "10.0.0.1", port: 3260).description == "10.0.0.1:3260")
    }

    @Test func aRequiredPortAndPortZero() throws {
        #expect(throws: ISCSIAddressError.self) { try ISCSIEndpoint(parsing: "127.0.0.1", defaultPort: nil) }
        #expect(throws: ISCSIAddressError.self) { try ISCSIEndpoint(parsing: "127.0.0.1:0") }
        // An address to listen on may ask for any free port.
        #expect(try ISCSIEndpoint(parsing: "127.0.0.1:0", allowsPortZero: true).port == 0)
    }

    @Test(arguments: [
        ("", ISCSIAddressError.Part.host),
        (":3260", .host),
        ("::1:3260", .host),
        ("[::1]3260", .host),
        ("[]:3260", .host),
        ("host/x:3260", .host),
        ("host:", .port),
        ("host:+80", .port),
        ("host:65536", .port),
    ])
    func malformedEndpointsNameTheWrongPart(text: String, part: ISCSIAddressError.Part) {
        #expect {
            try ISCSIEndpoint(parsing: text)
        } throws: { error in
            (error as? ISCSIAddressError)?.part == part
        }
    }
}
