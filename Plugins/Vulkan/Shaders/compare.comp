#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "strided.glsl"
// Elementwise comparisons of two broadcast operands; the result is bool (0 or 1). `op` is the
// index of the case in ComparisonOperation. NaN compares unequal to everything.

layout(constant_id = 0) const uint op = 0;
layout(constant_id = 1) const uint kind = KIND_FLOAT;
layout(set = 0, binding = 0) readonly buffer A { uint a[]; };
layout(set = 0, binding = 1) readonly buffer B { uint b[]; };
layout(set = 0, binding = 2) writeonly buffer Output { uint y[]; };
layout(push_constant) uniform Parameters {
    uint count; uint rank; uint dims[MAX_RANK]; uint stridesA[MAX_RANK]; uint stridesB[MAX_RANK];
} p;

// less and equal decide every comparison; both are false when either operand is NaN.
bool compareParts(bool less, bool equal, bool greater) {
    switch (op) {
    case 0: return equal;
    case 1: return !equal;
    case 2: return less;
    case 3: return less || equal;
    case 4: return greater;
    default: return greater || equal;
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
        bool result;
        if (kind == KIND_FLOAT) {
            float u = uintBitsToFloat(x), v = uintBitsToFloat(z);
            result = compareParts(u < v, u == v, u > v);
        } else if (kind == KIND_INT) {
            result = compareParts(int(x) < int(z), x == z, int(x) > int(z));
        } else {
            result = compareParts(x < z, x == z, x > z);
        }
        y[i] = result ? 1u : 0u;
    }
}
