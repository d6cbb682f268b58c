// Hands control to libFuzzer from the entry point SwiftPM gives each executable target.
//
// SwiftPM renames an executable module's entry point to MODULE_main and links
// with --defsym main=MODULE_main, so libFuzzer's own main() is never used. A
// fuzz target therefore defines MODULE_main (via @_cdecl) and calls this,
// which runs libFuzzer's driver (LLVMFuzzerRunDriver, in the toolchain's
// libclang_rt.fuzzer since LLVM 11) with the target's test function.
#include "FuzzDriver.h"

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test)(const uint8_t *data, size_t size));

int vdisk_fuzz_main(int argc, char **argv, int (*test)(const uint8_t *data, size_t size)) {
    return LLVMFuzzerRunDriver(&argc, &argv, test);
}
