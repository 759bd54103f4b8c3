#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "strided.glsl"
// condition ? onTrue : onFalse, all three broadcast through strides.

layout(set = 0, binding = 0) readonly buffer Condition { uint c[]; };
layout(set = 0, binding = 1) readonly buffer OnTrue { uint t[]; };
layout(set = 0, binding = 2) readonly buffer OnFalse { uint f[]; };
layout(set = 0, binding = 3) writeonly buffer Output { uint y[]; };
layout(push_constant) uniform Parameters {
    uint count; uint rank; uint dims[MAX_RANK];
    uint stridesC[MAX_RANK]; uint stridesT[MAX_RANK]; uint stridesF[MAX_RANK];
} p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        uint ic = 0u, it = 0u, iff = 0u, rest = i;
        for (int d = int(p.rank) - 1; d >= 0; --d) {
            uint k = rest % p.dims[d];
            rest /= p.dims[d];
            ic += k * p.stridesC[d];
            it += k * p.stridesT[d];
            iff += k * p.stridesF[d];
        }
        y[i] = c[ic] != 0u ? t[it] : f[iff];
    }
}
