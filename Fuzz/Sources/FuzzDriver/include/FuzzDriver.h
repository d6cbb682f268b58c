// Starts libFuzzer from a Swift fuzz target's own entry point (see FuzzDriver.c for why).
#ifndef VDISK_FUZZ_DRIVER_H
#define VDISK_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's command-line driver with `test` as the fuzz target.
int vdisk_fuzz_main(int argc, char **argv, int (*test)(const uint8_t *data, size_t size));

#endif
