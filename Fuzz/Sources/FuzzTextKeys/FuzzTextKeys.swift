// libFuzzer entry point for the text-key code (RFC 7143 §6): every input goes to
// TextKeyFuzzing.exercise, which runs the parser, accumulator, value grammar and SendTargets.

import FuzzDriver
@_spi(Fuzzing) import ISCSI

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTextKeys(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    // libFuzzer passes a null pointer for the empty input; an empty buffer is still worth running.
    TextKeyFuzzing.exercise(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}

/// The entry point SwiftPM links as main(); see FuzzDriver.c.
@_cdecl("FuzzTextKeys_main")
public func fuzzTextKeysMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    vdisk_fuzz_main(argc, argv, fuzzTextKeys)
}
