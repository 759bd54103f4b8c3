#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// Converts elements between kinds: float to integer truncates toward zero and saturates (NaN
// becomes 0), any nonzero value becomes true, true becomes 1.

layout(constant_id = 0) const uint source = KIND_FLOAT;
layout(constant_id = 1) const uint target = KIND_INT;
layout(set = 0, binding = 0) readonly buffer Input { uint x[]; };
layout(set = 0, binding = 1) writeonly buffer Output { uint y[]; };
layout(push_constant) uniform Parameters { uint count; } p;

uint convert(uint bits) {
    if (target == KIND_BOOL) {
        return source == KIND_FLOAT ? (uintBitsToFloat(bits) == 0.0 ? 0u : 1u) : (bits == 0u ? 0u : 1u);
    }
    if (target == KIND_FLOAT) {
        if (source == KIND_INT) return floatBitsToUint(float(int(bits)));
        return floatBitsToUint(float(bits));            // uint and bool
    }
    if (source != KIND_FLOAT) return bits;              // same 32 bits, or bool's 0/1
    float v = uintBitsToFloat(bits);
    if (isnan(v)) return 0u;
    if (target == KIND_INT) {
        if (v >= 2147483648.0) return 0x7fffffffu;
        if (v <= -2147483648.0) return 0x80000000u;
        return uint(int(v));
    }
    if (v >= 4294967296.0) return 0xffffffffu;
    if (v <= 0.0) return 0u;
    return uint(v);
}

void main() {
    FOR_EACH_ELEMENT(i, p.count) { y[i] = convert(x[i]); }
}
