// CRC32C (RFC 7143 §13.1 digests) with the SSE4.2 crc32 instruction where the CPU has it,
// three interleaved streams for large buffers, and a slicing-by-8 table otherwise.
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
#include <pthread.h>

// Bytes per stream in the interleaved loops. The crc32 instruction has a
// latency of 3 cycles but a throughput of 1 per cycle, so one dependent chain
// uses a third of the unit; three independent chains over three adjacent
// blocks fill it, and the three partial CRCs are merged afterwards.
// LONG_BLOCK keeps the merge cost (two 4-lookup table shifts) under 1% of the
// work; SHORT_BLOCK lets buffers from 768 bytes up use the three streams too.
#define LONG_BLOCK 8192
#define SHORT_BLOCK 256

// Shifting a CRC register over n zero bytes multiplies it by x^(8n) modulo
// the polynomial. That map is linear over GF(2), so it is four byte-indexed
// tables XORed together: shift_long[k][b] is the shift of byte b placed at
// byte k of the register.
static uint32_t shift_long[4][256];
static uint32_t shift_short[4][256];
static pthread_once_t shift_once = PTHREAD_ONCE_INIT;

// a * b modulo the Castagnoli polynomial, both in reflected bit order (bit 31
// is the coefficient of x^0). Walks a's coefficients from x^0 up while b is
// multiplied by x once per step.
static uint32_t gf2_multiply(uint32_t a, uint32_t b) {
    uint32_t product = 0;
    for (int degree = 0; degree < 32; degree++) {
        if (a & (0x80000000u >> degree)) product ^= b;
        b = (b >> 1) ^ (POLY & (0u - (b & 1u)));
    }
    return product;
}

// x^(8 * bytes) modulo the polynomial, by square-and-multiply.
static uint32_t x_power_of_bytes(size_t bytes) {
    uint32_t result = 0x80000000u;  // x^0
    uint32_t square = 0x00800000u;  // x^8
    while (bytes) {
        if (bytes & 1) result = gf2_multiply(result, square);
        square = gf2_multiply(square, square);
        bytes >>= 1;
    }
    return result;
}

static void fill_shift_table(uint32_t out[4][256], size_t bytes) {
    uint32_t factor = x_power_of_bytes(bytes);
    for (int k = 0; k < 4; k++) {
        for (uint32_t b = 0; b < 256; b++) out[k][b] = gf2_multiply(factor, b << (8 * k));
    }
}

static void build_shift_tables(void) {
    fill_shift_table(shift_long, LONG_BLOCK);
    fill_shift_table(shift_short, SHORT_BLOCK);
}

static inline uint32_t shift_register(uint32_t shift[4][256], uint32_t crc) {
    return shift[0][crc & 0xFF] ^ shift[1][(crc >> 8) & 0xFF] ^ shift[2][(crc >> 16) & 0xFF] ^ shift[3][crc >> 24];
}

// One dependent chain: the whole buffer through one crc32 accumulator.
// Works on the raw register (no inversions) so the 3-stream code can reuse it.
__attribute__((target("sse4.2")))
static uint64_t crc32c_sse42_raw(uint64_t c, const uint8_t *p, size_t length) {
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
    return c;
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const void *data, size_t length) {
    return ~(uint32_t)crc32c_sse42_raw((uint32_t)~crc, data, length);
}

// Three chains over three adjacent blocks of `block` bytes each; the second
// and third start from a zero register, and since the register update is
// linear, state(A|B) = shift_|B|(state(A)) ^ state_from_zero(B).
__attribute__((target("sse4.2")))
static inline uint64_t crc32c_sse42_three_blocks(uint64_t c0, const uint8_t *p, size_t block, uint32_t table[4][256]) {
    uint64_t c1 = 0, c2 = 0;
    const uint8_t *end = p + block;
    while (p < end) {
        uint64_t w0, w1, w2;
        memcpy(&w0, p, 8);
        memcpy(&w1, p + block, 8);
        memcpy(&w2, p + 2 * block, 8);
        c0 = __builtin_ia32_crc32di(c0, w0);
        c1 = __builtin_ia32_crc32di(c1, w1);
        c2 = __builtin_ia32_crc32di(c2, w2);
        p += 8;
    }
    uint32_t merged = shift_register(table, (uint32_t)c0) ^ (uint32_t)c1;
    return shift_register(table, merged) ^ (uint32_t)c2;
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42_interleaved(uint32_t crc, const void *data, size_t length) {
    pthread_once(&shift_once, build_shift_tables);
    const uint8_t *p = data;
    uint64_t c = (uint32_t)~crc;
    // Align first, so all three streams read aligned words (block sizes are multiples of 8).
    size_t head = (8 - ((uintptr_t)p & 7)) & 7;
    if (head > length) head = length;
    c = crc32c_sse42_raw(c, p, head);
    p += head;
    length -= head;
    while (length >= 3 * LONG_BLOCK) {
        c = crc32c_sse42_three_blocks(c, p, LONG_BLOCK, shift_long);
        p += 3 * LONG_BLOCK;
        length -= 3 * LONG_BLOCK;
    }
    while (length >= 3 * SHORT_BLOCK) {
        c = crc32c_sse42_three_blocks(c, p, SHORT_BLOCK, shift_short);
        p += 3 * SHORT_BLOCK;
        length -= 3 * SHORT_BLOCK;
    }
    c = crc32c_sse42_raw(c, p, length);
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
    if (vdisk_crc32c_hardware()) {
        // Below three short blocks the merge would cost more than it saves.
        if (length >= 3 * SHORT_BLOCK) return crc32c_sse42_interleaved(crc, data, length);
        return crc32c_sse42(crc, data, length);
    }
#endif
    return vdisk_crc32c_portable(crc, data, length);
}

uint32_t vdisk_crc32c_single_stream(uint32_t crc, const void *data, size_t length) {
#if defined(__x86_64__)
    if (vdisk_crc32c_hardware()) return crc32c_sse42(crc, data, length);
#endif
    return vdisk_crc32c_portable(crc, data, length);
}
