#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
// The adjoint of gather, as a gather: each output element [outer, position, inner] sums the
// update slices whose index is `position`. The host lists them per position (`order` holds the
// update slices grouped by position, in index order; `starts` where each position's group
// begins), so the work is proportional to the output plus the updates, repeated indices
// accumulate in a fixed order, and no atomics are needed.

layout(set = 0, binding = 0) readonly buffer Updates { float updates[]; };
layout(set = 0, binding = 1) readonly buffer Starts { uint starts[]; };
layout(set = 0, binding = 2) readonly buffer Order { uint order[]; };
layout(set = 0, binding = 3) writeonly buffer Output { float y[]; };
layout(push_constant) uniform Parameters { uint count; uint inner; uint indexCount; uint axisLength; } p;

void main() {
    FOR_EACH_ELEMENT(i, p.count) {
        uint inner = i % p.inner;
        uint position = (i / p.inner) % p.axisLength;
        uint outer = i / (p.inner * p.axisLength);
        float total = 0.0;
        for (uint k = starts[position]; k < starts[position + 1u]; ++k) {
            total += updates[(outer * p.indexCount + order[k]) * p.inner + inner];
        }
        y[i] = total;
    }
}
