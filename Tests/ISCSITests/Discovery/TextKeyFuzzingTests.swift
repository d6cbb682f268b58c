// The fuzz entry point survives structured and random inputs (a smoke test; the lead's
// libFuzzer harness calls the same function).

import Testing

@_spi(Fuzzing) @testable import ISCSI

@Suite struct TextKeyFuzzingTests {
    private func run(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { TextKeyFuzzing.exercise($0) }
    }

    @Test func structuredInputs() {
        let samples: [String] = [
            "", "\0", "=\0", "A=\0", "TargetName=iqn.a\0TargetAddress=[::1]:3260,1\0",
            "CHAP_C=0x00ff\0CHAP_R=0bAAEC\0", "MaxBurstLength=99999999999999999999999\0",
            "HeaderDigest=CRC32C,,None\0", "TargetAddress=[[[]]]:::,,,\0", "X=0b====\0",
            "MaxBurstLength=512\0FirstBurstLength=16777215\0", "DefaultTime2Wait=0xffffffffffffffffff\0",
        ]
        for sample in samples {
            run(Array(sample.utf8))
        }
    }

    @Test func randomInputsNeverTrap() {
        var generator = CountingGenerator(counter: 0x9E37_79B9_7F4A_7C15)
        let alphabet = Array("=\0,:[]~0123456789abcxXbB#-TargetNameAddressCHAP_RYesNo".utf8)
        var count = 0
        for round in 0..<1500 {
            let length = Int(UInt8.random(in: 0...255, using: &generator)) % 96
            let bytes = (0..<length).map { _ in
                round.isMultiple(of: 3)
                    ? UInt8.random(in: 0...255, using: &generator)
                    : alphabet[Int(UInt8.random(in: 0...255, using: &generator)) % alphabet.count]
            }
            run(bytes)
            count += 1
        }
        #expect(count == 1500)
    }
}
