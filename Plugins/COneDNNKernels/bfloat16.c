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
