// libFuzzer entry point for the logical unit's CDB and parameter-list handling:
// a sequence of commands from two nexuses run against a fresh in-memory unit.
//
// Input: records of [header][CDB][Data-Out]. Header bit 0 picks the nexus, bits 1-2 the
// CDB length (6, 10, 12, 16), bits 3-7 the Data-Out length in 64-byte steps (0-1984);
// the byte after the CDB sets the expected Data-In length (0-255 × 16 bytes).

import BlockDevice
import Foundation
import FuzzDriver
import FuzzSupport
import NIOConcurrencyHelpers
import NIOCore
import SCSI
import VSCSI

private let nexuses = [
    Nexus(initiatorPortName: "iqn.2024-01.fuzz:a,i,0x000000000001", relativeTargetPort: 1),
    Nexus(initiatorPortName: "iqn.2024-01.fuzz:b,i,0x000000000002", relativeTargetPort: 2),
]

/// Checks what every response must satisfy whatever the input.
private func check(_ response: SCSICommandResponse, expected: Int, cdb: [UInt8]) {
    precondition(response.dataIn.readableBytes <= expected, "Data-In longer than expected for \(cdb)")
    if response.status == .checkCondition {
        guard let sense = response.senseData else {
            fatalError("CHECK CONDITION without parseable sense for \(cdb): \(response.sense)")
        }
        precondition(sense.senseKey != .noSense, "CHECK CONDITION with NO SENSE for \(cdb)")
    } else {
        precondition(response.sense.isEmpty, "sense data with status \(response.status) for \(cdb)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCDB(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    var input = Array(UnsafeBufferPointer(start: data, count: size))[...]
    var commands: [(Nexus, [UInt8], [UInt8], Int)] = []
    while let header = input.popFirst(), commands.count < 16 {
        let cdbLength = [6, 10, 12, 16][Int(header >> 1) & 0x03]
        let dataLength = Int(header >> 3) * 64
        guard input.count >= cdbLength + 1 else { break }
        let cdb = Array(input.prefix(cdbLength))
        input = input.dropFirst(cdbLength)
        let expected = Int(input.popFirst()!) * 16
        let dataOut = Array(input.prefix(dataLength))
        input = input.dropFirst(dataOut.count)
        commands.append((nexuses[Int(header & 1)], cdb, dataOut, expected))
    }
    guard !commands.isEmpty else { return 0 }
    let batch = commands
    runBlocking {
        let registry = LogicalUnitRegistry()
        let unit = LogicalUnit(
            device: MemoryBlockDevice(blockSize: 512, blockCount: 256),
            identity: LogicalUnitIdentity(uuid: UUID(uuid: (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)), name: "fuzz"),
            options: LogicalUnitOptions(thinProvisioned: true),
            registry: registry
        )
        for (nexus, cdb, dataOut, expected) in batch {
            let response = await unit.execute(SCSICommandRequest(
                cdb: cdb, dataOut: ByteBuffer(bytes: dataOut), expectedDataInLength: expected, nexus: nexus
            ))
            check(response, expected: expected, cdb: cdb)
        }
    }
    return 0
}

/// The entry point SwiftPM links as main(); see FuzzDriver.c.
@_cdecl("FuzzCDB_main")
public func fuzzCDBMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    vdisk_fuzz_main(argc, argv, fuzzCDB)
}
