// CRC32C (Castagnoli), the iSCSI header and data digest (RFC 7143 §13.1, RFC 3385).
#ifndef CCRC32C_H
#define CCRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Continues a CRC32C over `length` bytes. Start with crc = 0; the result is the
/// finished digest value (pre- and post-inversion are done inside).
uint32_t vdisk_crc32c(uint32_t crc, const void *data, size_t length);

/// The same, always with the portable table code (for tests and benchmarks).
uint32_t vdisk_crc32c_portable(uint32_t crc, const void *data, size_t length);

/// The same with the one-stream SSE4.2 loop even for large buffers (portable
/// without SSE4.2): what `vdisk_crc32c` did before the three-stream path, kept
/// for tests and benchmarks.
uint32_t vdisk_crc32c_single_stream(uint32_t crc, const void *data, size_t length);

/// 1 when the SSE4.2 crc32 instruction is used, 0 otherwise.
int vdisk_crc32c_hardware(void);

#ifdef __cplusplus
}
#endif

#endif
