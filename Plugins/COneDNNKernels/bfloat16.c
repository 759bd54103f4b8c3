#include "COneDNNKernels.h"
#include "bfloat16_bits.h"

// bfloat16 conversions in the widest vectors the CPU has, bit for bit those of
// `bfloat16_bits.h` (the vector loop spells the same rounding out in vector types).

typedef uint32_t Words __attribute__((ext_vector_type(16)));
typedef int32_t Masks __attribute__((ext_vector_type(16)));
typedef uint16_t Halves __attribute__((ext_vector_type(16)));

#define LOAD(type, name, address) type name; __builtin_memcpy(&name, (address), sizeof name)
#define STORE(address, type, value) do { type stored = (value); __builtin_memcpy((address), &stored, sizeof stored); } while (0)

__attribute__((target_clones("avx512f", "avx2", "default")))
void axon_bfloat16_from_float(const uint32_t *x, uint16_t *y, ptrdiff_t count) {
    const ptrdiff_t width = sizeof(Words) / sizeof(uint32_t);
    ptrdiff_t i = 0;
    for (; i + width <= count; i += width) {
        LOAD(Words, bits, x + i);
        Words rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
        Words quiet = (bits >> 16) | 0x40u;
        Words nan = (Words)((Masks)((bits & 0x7FFFFFFFu) > 0x7F800000u));
        STORE(y + i, Halves, __builtin_convertvector((quiet & nan) | (rounded & ~nan), Halves));
    }
    for (; i < count; i++) y[i] = narrow_bits(x[i]);
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void axon_float_from_bfloat16(const uint16_t *x, uint32_t *y, ptrdiff_t count) {
    const ptrdiff_t width = sizeof(Halves) / sizeof(uint16_t);
    ptrdiff_t i = 0;
    for (; i + width <= count; i += width) {
        LOAD(Halves, halves, x + i);
        STORE(y + i, Words, __builtin_convertvector(halves, Words) << 16);
    }
    for (; i < count; i++) y[i] = (uint32_t)x[i] << 16;
}

// relu and its gradient on bfloat16 bits, without widening: the same bits as computing them in
// float32 and rounding back (the rounding only quiets a NaN). A value is below zero when its
// sign is set and it is neither −0 (0x8000) nor a NaN; above zero when its sign is clear (bits up
// to 0x7F80, +∞) and it is not +0.

static inline uint16_t quieted(uint16_t bits) { return (bits & 0x7FFFu) > 0x7F80u ? bits | 0x40u : bits; }

__attribute__((target_clones("avx512f", "avx2", "default")))
void axon_bfloat16_relu(const uint16_t *x, uint16_t *y, ptrdiff_t count) {
    for (ptrdiff_t i = 0; i < count; i++) {
        uint16_t bits = x[i], magnitude = bits & 0x7FFFu;
        y[i] = ((bits > 0x8000u) & (magnitude <= 0x7F80u)) ? 0 : quieted(bits);
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void axon_bfloat16_relu_backward(const uint16_t *y, const uint16_t *g, uint16_t *out, ptrdiff_t count) {
    for (ptrdiff_t i = 0; i < count; i++) {
        uint16_t bits = y[i], gradient = quieted(g[i]);  // read unconditionally, so the loop vectorises
        out[i] = ((bits != 0) & (bits <= 0x7F80u)) ? gradient : 0;
    }
}
