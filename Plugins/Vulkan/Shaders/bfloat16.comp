#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Casts to and from bfloat16, which is stored two to a word (element 2j in the low half of
// word j). From bfloat16 (source KIND_BFLOAT16) it widens to float exactly; from float, int,
// uint or bool it rounds once to nearest, ties to even, keeping NaN (made quiet) and infinities.

layout(constant_id = 0) const uint source = KIND_FLOAT;
layout(set = 0, binding = 0) readonly buffer Input { uint x[]; };
layout(set = 0, binding = 1) writeonly buffer Output { uint y[]; };
layout(push_constant) uniform Parameters { uint count; } p;

uint roundFloat(uint bits) {
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (bits >> 16) | 0x40u;
    // The carry reaches the kept half when the dropped half is above one half, or is one
    // half and the kept half is odd.
    return (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
}

// sign | magnitude rounded to 8 significant bits, from the exact integer (no float rounding first).
uint roundInteger(uint magnitude, uint sign) {
    if (magnitude == 0u) return 0u;
    int top = findMSB(magnitude);
    uint shift = top > 7 ? uint(top - 7) : 0u;
    uint kept = magnitude >> shift;
    if (shift > 0u) {
        uint dropped = magnitude & ((1u << shift) - 1u);
        uint midpoint = 1u << (shift - 1u);
        if (dropped > midpoint || (dropped == midpoint && (kept & 1u) == 1u)) kept += 1u;
    }
    // kept · 2^shift is exact in float (kept ≤ 256, shift ≤ 24).
    return sign | (floatBitsToUint(float(kept) * exp2(float(shift))) >> 16);
}

uint narrow(uint bits) {
    if (source == KIND_FLOAT) return roundFloat(bits);
    if (source == KIND_BOOL) return bits == 0u ? 0u : 0x3f80u;
    if (source == KIND_INT && (bits & 0x80000000u) != 0u) return roundInteger(0u - bits, 0x8000u);
    return roundInteger(bits, 0u);
}

void main() {
    if (source == KIND_BFLOAT16) {
        FOR_EACH_ELEMENT(i, p.count) {
            uint word = x[i >> 1];
            y[i] = (i & 1u) == 0u ? word << 16 : word & 0xffff0000u;
        }
    } else {
        uint words = (p.count + 1u) / 2u;
        FOR_EACH_ELEMENT(j, words) {
            uint low = narrow(x[2u * j]);
            uint high = 2u * j + 1u < p.count ? narrow(x[2u * j + 1u]) : 0u;
            y[j] = low | (high << 16);
        }
    }
}
