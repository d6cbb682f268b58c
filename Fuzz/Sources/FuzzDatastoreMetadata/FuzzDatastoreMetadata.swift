// libFuzzer entry point for the datastore's on-disk metadata: every input is decoded as
// each record kind (MetadataFuzzing.exerciseRecords) and laid as field patches over a
// fresh copy of a small populated volume that is then mounted and used
// (MetadataFuzzing.exerciseVolume). See docs/FUZZING.md for the input's layout.

@_spi(Fuzzing) import Datastore
import FuzzDriver
import FuzzSupport

/// The populated scratch volume, formatted once; every input starts from a copy of it.
private let template: [UInt8] = {
    let device = MemoryBlockDevice(blockSize: 512, blockCount: MetadataFuzzing.scratchDeviceBytes / 512)
    runBlocking {
        do {
            try await MetadataFuzzing.prepareScratchVolume(on: device)
        } catch {
            fatalError("could not prepare the scratch volume: \(error)")
        }
    }
    return device.contents
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDatastoreMetadata(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    // libFuzzer passes a null pointer for the empty input; an empty buffer is still worth running.
    let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    MetadataFuzzing.exerciseRecords(bytes)
    let input = Array(bytes)
    let device = MemoryBlockDevice(blockSize: 512, contents: template)
    runBlocking { await MetadataFuzzing.exerciseVolume(input, device: device) }
    return 0
}

/// The entry point SwiftPM links as main(); see FuzzDriver.c.
@_cdecl("FuzzDatastoreMetadata_main")
public func fuzzDatastoreMetadataMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    vdisk_fuzz_main(argc, argv, fuzzDatastoreMetadata)
}
