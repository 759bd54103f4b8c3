#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// The adjoint of gather, as a gather: each output element [outer, position, inner] sums the
// update slices whose index is `position`, in index order, so repeated indices accumulate
// deterministically without atomics.

layout(set = 0, binding = 0) readonly buffer Updates { float updates[]; };
layout(set = 0, binding = 1) readonly buffer Indices { int indices[]; };
layout(set = 0, binding = 2) writeonly buffer Output { float y[]; };
layout(push_constant) uniform Parameters { uint count; uint inner; uint indexCount; uint axisLength; } p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        uint inner = i % p.inner;
        int position = int((i / p.inner) % p.axisLength);
        uint outer = i / (p.inner * p.axisLength);
        float total = 0.0;
        for (uint j = 0u; j < p.indexCount; ++j) {
            if (indices[j] == position) total += updates[(outer * p.indexCount + j) * p.inner + inner];
        }
        y[i] = total;
    }
}
