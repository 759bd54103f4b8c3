#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "strided.glsl"
// Elementwise functions of two broadcast operands. `op` is the index of the case in
// BinaryOperation; operands are read through strides (0 along broadcast axes).

layout(constant_id = 0) const uint op = 0;
layout(constant_id = 1) const uint kind = KIND_FLOAT;
layout(set = 0, binding = 0) readonly buffer A { uint a[]; };
layout(set = 0, binding = 1) readonly buffer B { uint b[]; };
layout(set = 0, binding = 2) writeonly buffer Output { uint y[]; };
layout(push_constant) uniform Parameters {
    uint count; uint rank; uint dims[MAX_RANK]; uint stridesA[MAX_RANK]; uint stridesB[MAX_RANK];
} p;

float powerOf(float x, float e) {
    if (e == 0.0) return 1.0;
    if (isnan(x) || isnan(e)) return x + e;
    if (x < 0.0) {
        if (trunc(e) != e) return uintBitsToFloat(0x7fc00000u);
        float magnitude = pow(-x, e);
        return mod(e, 2.0) == 1.0 ? -magnitude : magnitude;
    }
    if (x == 0.0) return e > 0.0 ? 0.0 : uintBitsToFloat(0x7f800000u);
    return pow(x, e);
}

float applyFloat(float x, float z) {
    switch (op) {
    case 0: return x + z;
    case 1: return x - z;
    case 2: return x * z;
    case 3: return x / z;
    case 4: return powerOf(x, z);
    case 5: return isnan(x) || isnan(z) ? uintBitsToFloat(0x7fc00000u) : max(x, z);
    case 6: return isnan(x) || isnan(z) ? uintBitsToFloat(0x7fc00000u) : min(x, z);
    default: return x - z * trunc(x / z);              // remainder, with the dividend's sign
    }
}

// Integer arithmetic wraps; division and remainder by zero give 0, and INT_MIN / −1 wraps.
uint applyInt(int x, int z) {
    switch (op) {
    case 0: return uint(x + z);
    case 1: return uint(x - z);
    case 2: return uint(x * z);
    case 3: return z == 0 ? 0u : (z == -1 ? uint(-x) : uint(x / z));
    case 5: return uint(max(x, z));
    case 6: return uint(min(x, z));
    default: return z == 0 || z == -1 ? 0u : uint(x - z * (x / z));
    }
}

uint applyUint(uint x, uint z) {
    switch (op) {
    case 0: return x + z;
    case 1: return x - z;
    case 2: return x * z;
    case 3: return z == 0u ? 0u : x / z;
    case 5: return max(x, z);
    case 6: return min(x, z);
    default: return z == 0u ? 0u : x % z;
    }
}

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        uint ia = 0u, ib = 0u, rest = i;
        for (int d = int(p.rank) - 1; d >= 0; --d) {
            uint c = rest % p.dims[d];
            rest /= p.dims[d];
            ia += c * p.stridesA[d];
            ib += c * p.stridesB[d];
        }
        uint x = a[ia], z = b[ib];
        if (kind == KIND_FLOAT) {
            y[i] = floatBitsToUint(applyFloat(uintBitsToFloat(x), uintBitsToFloat(z)));
        } else if (kind == KIND_INT) {
            y[i] = applyInt(int(x), int(z));
        } else if (kind == KIND_UINT) {
            y[i] = applyUint(x, z);
        } else {
            y[i] = op == 8u ? (x & z) : (x | z);       // logicalAnd, logicalOr
        }
    }
}
