#include "COneDNNKernels.h"
#include "bfloat16_bits.h"

// Inverted dropout in one pass: the Philox-4x32-10 words are made sixteen blocks at a time in
// vector registers (the specification is `Philox.block` in Sources/Backend/Philox.swift), and
// each element is compared, scaled and written as its word arrives, so no array of random
// words or of scaled values is ever stored. Each pass is inlined with the dtype as a constant
// (SwiftPM builds C at -O2, which vectorises loops but does not unswitch them).

#define PASS static inline __attribute__((always_inline))
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

typedef uint32_t Words __attribute__((ext_vector_type(16)));
typedef uint64_t Wide __attribute__((ext_vector_type(16)));
typedef uint64_t Pairs __attribute__((ext_vector_type(32)));

/// Blocks made at once, and the words they give.
enum { BLOCKS = 16, WORDS = 4 * BLOCKS };

#define ZIP16 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31

/// The words of blocks `first` to `first + 15`, in stream order (block by block, word 0 first).
PASS void philox_words(uint32_t key0, uint32_t key1, uint64_t first, uint32_t words[WORDS]) {
    Wide counter = (Wide){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15} + first;
    Words c0 = __builtin_convertvector(counter, Words), c1 = __builtin_convertvector(counter >> 32, Words);
    Words c2 = 0, c3 = 0;
    uint32_t k0 = key0, k1 = key1;
    for (int round = 0; round < 10; round++) {
        Wide product0 = __builtin_convertvector(c0, Wide) * 0xD2511F53u;
        Wide product1 = __builtin_convertvector(c2, Wide) * 0xCD9E8D57u;
        Words hi0 = __builtin_convertvector(product0 >> 32, Words), lo0 = __builtin_convertvector(product0, Words);
        Words hi1 = __builtin_convertvector(product1 >> 32, Words), lo1 = __builtin_convertvector(product1, Words);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    // Interleave the four words of each block: word pairs (c0, c1) and (c2, c3) as 64-bit
    // units, then those units.
    Wide low = (Wide)__builtin_shufflevector(c0, c1, ZIP16), high = (Wide)__builtin_shufflevector(c2, c3, ZIP16);
    Pairs ordered = __builtin_shufflevector(low, high, ZIP16);
    __builtin_memcpy(words, &ordered, sizeof ordered);
}

/// Runs `body(index, word)` for each element `index` in [0, count) with its stream word, the
/// stream starting at `offset`.
#define FOR_EACH_WORD(key0, key1, offset, count, body)                                      \
    do {                                                                                    \
        uint32_t words[WORDS];                                                              \
        uint64_t position = (offset);                                                       \
        for (ptrdiff_t done = 0; done < (count);) {                                         \
            philox_words((key0), (key1), position / 4, words);                              \
            ptrdiff_t skip = (ptrdiff_t)(position % 4), length = WORDS - skip;              \
            if (length > (count) - done) length = (count) - done;                           \
            for (ptrdiff_t j = 0; j < length; j++) {                                        \
                ptrdiff_t index = done + j;                                                 \
                uint32_t word = words[skip + j];                                            \
                body;                                                                       \
            }                                                                               \
            done += length;                                                                 \
            position += (uint64_t)length;                                                   \
        }                                                                                   \
    } while (0)

PASS void dropout(
    const void *x, const int bfloat16, ptrdiff_t count, uint32_t key0, uint32_t key1, uint64_t offset, uint32_t threshold,
    float scale, void *y, uint8_t *mask) {
    if (bfloat16) {
        const uint16_t *in = x;
        uint16_t *out = y;
        FOR_EACH_WORD(key0, key1, offset, count, {
            uint8_t keep = word < threshold;
            uint16_t scaled = narrow(widen(in[index]) * scale);
            out[index] = keep ? scaled : 0;
            mask[index] = keep;
        });
    } else {
        const float *in = x;
        float *out = y;
        FOR_EACH_WORD(key0, key1, offset, count, {
            uint8_t keep = word < threshold;
            float scaled = in[index] * scale;
            out[index] = keep ? scaled : 0.0f;
            mask[index] = keep;
        });
    }
}

CLONES void axon_dropout(
    const void *x, int bfloat16, ptrdiff_t count, uint32_t key0, uint32_t key1, uint64_t offset, uint32_t threshold,
    float scale, void *y, uint8_t *mask) {
    if (bfloat16) dropout(x, 1, count, key0, key1, offset, threshold, scale, y, mask);
    else dropout(x, 0, count, key0, key1, offset, threshold, scale, y, mask);
}

PASS void dropout_backward(const void *g, const int bfloat16, const uint8_t *mask, ptrdiff_t count, float scale, void *dx) {
    if (bfloat16) {
        const uint16_t *in = g;
        uint16_t *out = dx;
        for (ptrdiff_t i = 0; i < count; i++) {
            uint16_t scaled = narrow(widen(in[i]) * scale);
            out[i] = mask[i] ? scaled : 0;
        }
    } else {
        const float *in = g;
        float *out = dx;
        for (ptrdiff_t i = 0; i < count; i++) {
            float scaled = in[i] * scale;
            out[i] = mask[i] ? scaled : 0.0f;
        }
    }
}

CLONES void axon_dropout_backward(const void *g, int bfloat16, const uint8_t *mask, ptrdiff_t count, float scale, void *dx) {
    if (bfloat16) dropout_backward(g, 1, mask, count, scale, dx);
    else dropout_backward(g, 0, mask, count, scale, dx);
}
