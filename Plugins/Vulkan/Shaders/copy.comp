#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "strided.glsl"
// Copies a strided view of one buffer into a strided view of another: permute, slice,
// broadcast, pad, concatenate and batch broadcasting are all this one kernel.

layout(set = 0, binding = 0) readonly buffer Input { uint x[]; };
layout(set = 0, binding = 1) buffer Output { uint y[]; };
layout(push_constant) uniform Parameters {
    uint count; uint rank; uint sourceOffset; uint targetOffset;
    uint dims[MAX_RANK]; uint sourceStrides[MAX_RANK]; uint targetStrides[MAX_RANK];
} p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        uint source = p.sourceOffset, target = p.targetOffset, rest = i;
        for (int d = int(p.rank) - 1; d >= 0; --d) {
            uint c = rest % p.dims[d];
            rest /= p.dims[d];
            source += c * p.sourceStrides[d];
            target += c * p.targetStrides[d];
        }
        y[target] = x[source];
    }
}
