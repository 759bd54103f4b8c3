#ifndef AXON_BFLOAT16_BITS_H
#define AXON_BFLOAT16_BITS_H

#include <stdint.h>
#include <string.h>

// One element's bfloat16 conversions, as the specification (and `BFloat16.init(_: Float)`)
// gives them bit for bit: widening is exact; rounding adds 0x7FFF plus the kept half's lowest
// bit and keeps the upper half, except that a NaN keeps its upper half with the quiet bit set.

static inline uint16_t narrow_bits(uint32_t bits) {
    uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
    uint32_t quiet = (bits >> 16) | 0x40u;
    return (uint16_t)((bits & 0x7FFFFFFFu) > 0x7F800000u ? quiet : rounded);
}

static inline uint16_t narrow(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return narrow_bits(bits);
}

static inline float widen(uint16_t half) {
    uint32_t bits = (uint32_t)half << 16;
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

#endif
