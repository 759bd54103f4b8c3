#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "strided.glsl"
// Inverted dropout: y = keep ? x · scale : 0, with the keep mask (philox.comp's `keepMask`
// output, of the noise shape) broadcast to x through strides.

layout(set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(set = 0, binding = 1) readonly buffer Keep { uint keep[]; };
layout(set = 0, binding = 2) writeonly buffer Output { float y[]; };
layout(push_constant) uniform Parameters {
    uint count; uint rank; uint dims[MAX_RANK]; uint stridesInput[MAX_RANK]; uint stridesKeep[MAX_RANK]; float scale;
} p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        uint k = 0u, rest = i;
        for (int d = int(p.rank) - 1; d >= 0; --d) {
            k += (rest % p.dims[d]) * p.stridesKeep[d];
            rest /= p.dims[d];
        }
        y[i] = keep[k] != 0u ? x[i] * p.scale : 0.0;
    }
}
