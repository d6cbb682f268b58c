// Micro-benchmark of the CRC32C digest code (RFC 7143 §13.1): portable tables vs one SSE4.2 stream vs three.
// Built and run by Scripts/bench-crc32c; results go to docs/BENCHMARKS.md.
#include "CCRC32C.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef uint32_t (*crc_function)(uint32_t, const void *, size_t);

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

// Best of several rounds: the machine is shared, and the minimum time is the
// one least disturbed by other work.
static double megabytes_per_second(crc_function f, const uint8_t *data, size_t size, size_t total) {
    size_t iterations = total / size;
    if (iterations == 0) iterations = 1;
    double best = 1e30;
    volatile uint32_t sink = 0;
    for (int round = 0; round < 7; round++) {
        double start = now_seconds();
        uint32_t crc = 0;
        for (size_t i = 0; i < iterations; i++) crc ^= f(0, data, size);
        double elapsed = now_seconds() - start;
        sink ^= crc;
        if (elapsed < best) best = elapsed;
    }
    (void)sink;
    return (double)(iterations * size) / best / 1e6;
}

int main(int argc, char **argv) {
    size_t total = argc > 1 ? strtoull(argv[1], NULL, 10) : (size_t)64 << 20;
    size_t sizes[] = {48, 512, 4096, 8192, 65536, 262144, 1 << 20};
    uint8_t *data = malloc(1 << 20);
    for (size_t i = 0; i < (1 << 20); i++) data[i] = (uint8_t)(i * 2654435761u >> 24);

    printf("hardware crc32: %s\n", vdisk_crc32c_hardware() ? "yes" : "no");
    printf("%10s %12s %12s %12s\n", "bytes", "portable", "1-stream", "3-stream");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t size = sizes[i];
        printf("%10zu %9.0f MB/s %9.0f MB/s %9.0f MB/s\n", size,
               megabytes_per_second(vdisk_crc32c_portable, data, size, total / 4),
               megabytes_per_second(vdisk_crc32c_single_stream, data, size, total),
               megabytes_per_second(vdisk_crc32c, data, size, total));
    }
    free(data);
    return 0;
}
