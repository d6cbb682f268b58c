// CRC32C with the SSE4.2 crc32 instruction where the CPU has it, a table otherwise.
#include "CCRC32C.h"

#include <string.h>

#define POLY 0x82F63B78u  // reflected Castagnoli polynomial

static uint32_t table[8][256];
static int table_ready;
static int hw_state = -1;  // -1 unknown, 0 no, 1 yes

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (POLY & (0u - (c & 1u)));
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int s = 1; s < 8; s++) table[s][i] = (table[s - 1][i] >> 8) ^ table[0][table[s - 1][i] & 0xFF];
    }
    __atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t vdisk_crc32c_portable(uint32_t crc, const void *data, size_t length) {
    if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE)) build_table();
    const uint8_t *p = data;
    crc = ~crc;
    while (length >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= crc;  // little-endian hosts only use this path in tests; correct for LE
        crc = table[7][w & 0xFF] ^ table[6][(w >> 8) & 0xFF] ^ table[5][(w >> 16) & 0xFF] ^
              table[4][(w >> 24) & 0xFF] ^ table[3][(w >> 32) & 0xFF] ^ table[2][(w >> 40) & 0xFF] ^
              table[1][(w >> 48) & 0xFF] ^ table[0][(w >> 56) & 0xFF];
        p += 8;
        length -= 8;
    }
    while (length--) crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xFF];
    return ~crc;
}

#if defined(__x86_64__)
#include <cpuid.h>

__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const void *data, size_t length) {
    const uint8_t *p = data;
    uint64_t c = ~crc;
    while (length && ((uintptr_t)p & 7)) {
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
        length--;
    }
    while (length >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        length -= 8;
    }
    while (length--) c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    return ~(uint32_t)c;
}

static int detect_hw(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c & bit_SSE4_2) != 0;
}
#endif

int vdisk_crc32c_hardware(void) {
    int state = __atomic_load_n(&hw_state, __ATOMIC_RELAXED);
    if (state < 0) {
#if defined(__x86_64__)
        state = detect_hw();
#else
        state = 0;
#endif
        __atomic_store_n(&hw_state, state, __ATOMIC_RELAXED);
    }
    return state;
}

uint32_t vdisk_crc32c(uint32_t crc, const void *data, size_t length) {
#if defined(__x86_64__)
    if (vdisk_crc32c_hardware()) return crc32c_sse42(crc, data, length);
#endif
    return vdisk_crc32c_portable(crc, data, length);
}
